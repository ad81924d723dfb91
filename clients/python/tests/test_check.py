"""The check program: Allow exits 0, Deny 1, an error 2 with the CAM code in its message."""

import json
import os
import subprocess
import sys
import unittest

from _scene import CLIENT, RESOURCE, SOCKET, needs_camd

CHECK = str(CLIENT / "check")


def check(*args, env=None, stdin=subprocess.DEVNULL):
    e = {k: v for k, v in os.environ.items() if k != "CAMD_SECRET_KEY"}
    e.pop("PYTHONPATH", None)  # check finds the package next to it
    e.update(env or {})
    return subprocess.run([CHECK, *args], capture_output=True, text=True, env=e, timeout=30, stdin=stdin)


class WithoutCamd(unittest.TestCase):
    def test_it_is_an_executable_python_script(self):
        self.assertTrue(os.access(CHECK, os.X_OK))
        with open(CHECK, encoding="utf-8") as f:
            self.assertEqual(f.readline().strip(), "#!/usr/bin/env python3")

    def test_no_camd_exits_2(self):
        out = check("--socket", "/nonexistent/camd.sock", "--user", "reader", "--action", "im:X", "--resource", "*")
        self.assertEqual(out.returncode, 2, out)
        self.assertIn("/nonexistent/camd.sock", out.stderr)
        self.assertEqual(out.stdout, "")

    def test_bad_arguments_exit_2(self):
        for args in (["--action", "im:X", "--resource", "*"],  # neither --user nor --secret-id
                     ["--user", "a", "--secret-id", "b", "--action", "im:X", "--resource", "*"],
                     ["--user", "a", "--action", "im:X", "--resource", "*", "--context", "not json"],
                     ["--user", "a", "--action", "im:X", "--resource", "*", "--context", '{"k": {"x": 1}}']):
            with self.subTest(args=args):
                self.assertEqual(check("--socket", "/nonexistent", *args).returncode, 2)

    def test_a_secret_id_without_its_key_exits_2(self):
        out = check("--socket", "/nonexistent", "--secret-id", "AKIDx", "--action", "im:X", "--resource", "*")
        self.assertEqual(out.returncode, 2)
        self.assertIn("InvalidParameter", out.stderr)
        self.assertIn("CAMD_SECRET_KEY", out.stderr)


@needs_camd
class WithCamd(unittest.TestCase):
    def test_allow_exits_0(self):
        out = check("--socket", SOCKET, "--user", "reader", "--action", "im:GetGroupInfo", "--resource", RESOURCE)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "Allow: Allow by policy `QcloudChatReadOnlyAccess` statement[0]")

    def test_deny_exits_1_with_the_reason(self):
        out = check("--user", "keeper", "--action", "im:DestroyGroup", "--resource", RESOURCE)  # $CAMD_SOCKET
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertEqual(out.stdout.strip(), "Deny: ExplicitDeny by policy `NoDestroy` statement[1]")
        out = check("--user", "reader", "--action", "im:SendMessage", "--resource", RESOURCE)
        self.assertEqual(out.returncode, 1)
        self.assertTrue(out.stdout.startswith("Deny: "), out.stdout)
        self.assertIn("implicit deny", out.stdout)

    def test_an_access_key_from_camd_secret_key(self):
        secret = os.environ["CAMD_TEST_KEY_SECRET"]
        args = ("--secret-id", os.environ["CAMD_TEST_KEY_ID"], "--action", "im:SendMessage", "--resource", RESOURCE)
        out = check(*args, env={"CAMD_SECRET_KEY": secret})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("Allow: "))
        wrong = check(*args, env={"CAMD_SECRET_KEY": "not-the-key"})
        self.assertEqual(wrong.returncode, 2)
        self.assertIn("AuthFailure.InvalidAuthorization", wrong.stderr)
        self.assertNotIn("not-the-key", wrong.stderr + wrong.stdout)
        piped = subprocess.run([CHECK, *args], input=secret + "\n", capture_output=True, text=True,
                               env={k: v for k, v in os.environ.items() if k != "CAMD_SECRET_KEY"})
        self.assertEqual(piped.returncode, 0, piped.stderr)
        self.assertNotIn(secret, piped.stdout + piped.stderr)

    def test_errors_exit_2_with_the_cam_code(self):
        for user, action, code in (("nobody", "im:GetGroupInfo", "ResourceNotFound.UserNotExist"),
                                   ("reader", "SendMessage", "InvalidParameter")):
            with self.subTest(code):
                out = check("--user", user, "--action", action, "--resource", RESOURCE)
                self.assertEqual(out.returncode, 2)
                self.assertIn(f"error: {code}: ", out.stderr)
                self.assertEqual(out.stdout, "")

    def test_context_as_json_or_key_value(self):
        for ctx in (['{"qcs:ip": "10.0.0.1"}'], ['{"qcs:ip": ["10.0.0.1", "10.0.0.2"]}'], ["qcs:ip=10.0.0.1"]):
            with self.subTest(ctx=ctx):
                args = [a for c in ctx for a in ("--context", c)]
                out = check("--user", "reader", "--action", "im:GetGroupInfo", "--resource", RESOURCE, *args)
                self.assertEqual(out.returncode, 0, out.stderr)

    def test_json_output(self):
        out = check("--user", "keeper", "--action", "im:DestroyGroup", "--resource", RESOURCE, "--json")
        self.assertEqual(out.returncode, 1)
        self.assertEqual(json.loads(out.stdout), {"Decision": "Deny", "Reason": "ExplicitDeny",
                                                  "PolicyName": "NoDestroy", "StatementIndex": 1,
                                                  "Uin": json.loads(out.stdout)["Uin"]})

    def test_run_by_this_python_too(self):
        out = subprocess.run([sys.executable, CHECK, "--user", "reader", "--action", "im:GetGroupInfo",
                              "--resource", RESOURCE], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)


if __name__ == "__main__":
    unittest.main()
