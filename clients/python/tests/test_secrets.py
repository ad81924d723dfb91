"""The SecretKey is never in a repr, a str, an error or a log; the API refuses what it cannot send."""

import io
import logging
import os
import unittest

import camd
from camd import _wire

from _scene import RESOURCE, SOCKET, needs_camd

SECRET = "s3cr3t-SecretKey-value"


class NeverShown(unittest.TestCase):
    def test_an_ask_hides_its_secret_key(self):
        a = camd.by_key("AKIDexample", SECRET, "im:SendMessage", "*", {"qcs:ip": "10.0.0.1"})
        for shown in (repr(a), str(a), f"{a}", repr([a]), repr(camd.by_key("AKIDx", SECRET, "im:X", "*")),):
            self.assertNotIn(SECRET, shown)
        self.assertIn("AKIDexample", repr(a))
        self.assertIn("***", repr(a))
        # ... but it is what is sent.
        self.assertIn(SECRET.encode(), _wire.encode_request(1, _wire.authorize_body(a)))

    def test_a_client_with_a_key_hides_it(self):
        for c in (camd.Client("/x", key=("AKIDadmin", SECRET)), camd.AsyncClient("/x", key=("AKIDadmin", SECRET))):
            self.assertNotIn(SECRET, repr(c))
            self.assertNotIn(SECRET, str(c))
            self.assertNotIn(SECRET, repr(c._auth))
            self.assertIn("AKIDadmin", repr(c))

    def test_errors_about_arguments_do_not_show_it(self):
        for bad in (
            lambda: camd.by_key("AKIDx", SECRET, "im:X", "*", {"k": 1}),
            lambda: camd.by_key("AKIDx", SECRET, 3, "*"),
            lambda: camd.by_key("AKIDx", SECRET.encode(), "im:X", "*"),
            lambda: _wire.encode_request(1, _wire.authorize_body(camd.by_key("AKIDx", SECRET + "\ud800", "im:X", "*"))),
        ):
            with self.assertRaises((TypeError, ValueError)) as e:
                bad()
            self.assertNotIn(SECRET, str(e.exception))
            self.assertNotIn(SECRET, repr(e.exception))
            self.assertNotIn(SECRET, repr(e.exception.args))
            self.assertIsNone(e.exception.__context__ if isinstance(e.exception, ValueError) else None)

    def test_connection_errors_do_not_show_it(self):
        c = camd.Client("/nonexistent/camd.sock", key=("AKIDadmin", SECRET))
        with self.assertRaises(camd.CamdConnectionError) as e:
            c.authorize_key("AKIDx", SECRET, "im:X", "*")
        self.assertNotIn(SECRET, str(e.exception) + repr(e.exception))

    @needs_camd
    def test_camds_answer_to_a_wrong_key_does_not_show_it(self):
        log = io.StringIO()
        handler = logging.StreamHandler(log)
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            with camd.Client(SOCKET) as c:
                with self.assertRaises(camd.AuthFailureError) as e:
                    c.authorize_key(os.environ["CAMD_TEST_KEY_ID"], SECRET, "im:SendMessage", RESOURCE)
                (item,) = c.authorize_batch([camd.by_key(os.environ["CAMD_TEST_KEY_ID"], SECRET, "im:X", "*")])
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
        for shown in (str(e.exception), repr(e.exception), str(item), repr(item), log.getvalue()):
            self.assertNotIn(SECRET, shown)


class Api(unittest.TestCase):
    def test_error_families(self):
        for code, cls in (("AuthFailure.SecretIdNotFound", camd.AuthFailureError),
                          ("ResourceNotFound.UserNotExist", camd.ResourceNotFoundError),
                          ("InvalidParameter", camd.InvalidParameterError),
                          ("InvalidParameter.MalformedRequest", camd.InvalidParameterError),
                          ("MissingParameter", camd.InvalidParameterError),
                          ("LimitExceeded.BatchSize", camd.LimitExceededError),
                          ("RequestLimitExceeded.AuthThrottled", camd.LimitExceededError),
                          ("FailedOperation.ClusterRevisionNotReached", camd.FailedOperationError),
                          ("OperationDenied.HaveKeys", camd.OperationDeniedError),
                          ("InternalError.Store", camd.CamdInternalError),
                          ("SomethingNew.Entirely", camd.CamdError)):
            with self.subTest(code):
                e = camd.error_for(code, "why")
                self.assertIs(type(e), cls)
                self.assertEqual((e.code, e.message, str(e)), (code, "why", f"{code}: why"))
                self.assertIsInstance(e, camd.Error)
                self.assertNotIsInstance(e, camd.CamdConnectionError)
        self.assertTrue(issubclass(camd.CamdTimeoutError, TimeoutError))
        self.assertTrue(issubclass(camd.CamdConnectionError, ConnectionError))
        self.assertTrue(issubclass(camd.CamdProtocolError, camd.CamdConnectionError))
        self.assertFalse(issubclass(camd.CamdConnectionError, camd.CamdError))

    def test_a_decision_is_truthy_only_when_allowed(self):
        self.assertFalse(camd.Decision(False, "ExplicitDeny", "P", 1, 2))
        self.assertTrue(camd.Decision(True, "Allow", "P", 0, 2))

    def test_explain_matches_camctl(self):
        self.assertEqual(camd.Decision(False, "ExplicitDeny", "P", 1, 2).explain(), "Deny: ExplicitDeny by policy `P` statement[1]")
        self.assertEqual(camd.Decision(False, "ImplicitDeny", None, None, 2).explain(), "Deny: no statement allows it (implicit deny)")
        self.assertEqual(camd.Decision(True, "Root", None, None, 1).explain(), "Allow: the root account is allowed everything")

    def test_the_default_socket(self):
        saved = os.environ.pop("CAMD_SOCKET", None)
        try:
            self.assertIn(camd.default_socket(), ("state/camd.sock", camd.INSTALLED_SOCKET))
            os.environ["CAMD_SOCKET"] = "/tmp/elsewhere.sock"
            self.assertEqual(camd.Client().path, "/tmp/elsewhere.sock")
            self.assertEqual(camd.Client("/a.sock").path, "/a.sock")
        finally:
            os.environ.pop("CAMD_SOCKET", None)
            if saved is not None:
                os.environ["CAMD_SOCKET"] = saved


if __name__ == "__main__":
    unittest.main()
