// The check program's arguments, output and exit codes (0 Allow, 1 Deny, 2
// error with the CAM code) against the real camd: through run() for each
// case, and through the clients/go/check wrapper script as a user runs it.
package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const app = "qcs::im::uin/100000000001:sdkappid/1400000001"

func socket(t *testing.T) string {
	p := os.Getenv("CAMD_SOCKET")
	if p == "" {
		t.Skip("CAMD_SOCKET is unset: this test needs a running camd with the scene of tests/clients/cases.json (tests/clients.rs sets it up)")
	}
	return p
}

func TestExitCodes(t *testing.T) {
	sock := socket(t)
	keyID, keySecret := os.Getenv("CAMD_TEST_KEY_ID"), os.Getenv("CAMD_TEST_KEY_SECRET")
	for _, tc := range []struct {
		name   string
		args   []string
		secret string // $CAMD_SECRET_KEY
		stdin  string
		code   int
		out    string // in stdout (0, 1) or stderr (2)
	}{
		{"allowed", []string{"--user", "reader", "--action", "im:GetGroupInfo", "--resource", app}, "", "", 0,
			"Allow: Allow by policy `QcloudChatReadOnlyAccess` statement[0]"},
		{"context as JSON", []string{"--user", "reader", "--action", "im:GetGroupInfo", "--resource", app,
			"--context", `{"qcs:ip":"10.0.0.1"}`}, "", "", 0, "Allow"},
		{"context as pairs", []string{"--user", "reader", "--action", "im:GetGroupInfo", "--resource", app,
			"--context", `[["qcs:ip","10.0.0.1"]]`, "--context", "qcs:ip=10.0.0.2"}, "", "", 0, "Allow"},
		{"implicit deny", []string{"--user", "reader", "--action", "im:SendMessage", "--resource", app}, "", "", 1,
			"Deny: no statement allows it (implicit deny)"},
		{"by key, explicit deny", []string{"--secret-id", keyID, "--action", "im:DestroyGroup", "--resource", app},
			keySecret, "", 1, "Deny: ExplicitDeny by policy `NoDestroy` statement[1]"},
		{"by key from stdin", []string{"--secret-id", keyID, "--action", "im:SendMessage", "--resource", app},
			"", keySecret + "\n", 0, "Allow: Allow by policy `NoDestroy` statement[0]"},
		{"a wrong key", []string{"--secret-id", keyID, "--action", "im:SendMessage", "--resource", app},
			"not-the-key", "", 2, "AuthFailure.InvalidAuthorization"},
		{"an unknown user", []string{"--user", "nobody", "--action", "im:SendMessage", "--resource", "*"}, "", "", 2,
			"ResourceNotFound.UserNotExist"},
		{"a malformed action", []string{"--user", "reader", "--action", "SendMessage", "--resource", "*"}, "", "", 2,
			"InvalidParameter"},
		{"no such socket", []string{"--socket", "/nonexistent/camd.sock", "--user", "reader", "--action", "im:SendMessage",
			"--resource", "*"}, "", "", 2, "connection failed"},
		{"no question", []string{"--user", "reader"}, "", "", 2, "--action and --resource are required"},
		{"two subjects", []string{"--user", "reader", "--secret-id", "x", "--action", "a", "--resource", "*"}, "", "", 2,
			"give one of"},
		{"bad context", []string{"--user", "reader", "--action", "a", "--resource", "*", "--context", "{"}, "", "", 2,
			"not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CAMD_SECRET_KEY", tc.secret)
			args := tc.args
			if !strings.HasPrefix(args[0], "--socket") {
				args = append([]string{"--socket", sock}, args...)
			}
			var out, errb bytes.Buffer
			code := run(args, strings.NewReader(tc.stdin), &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out.String(), errb.String())
			}
			text := out.String()
			if tc.code == 2 {
				text = errb.String()
			}
			if !strings.Contains(text, tc.out) {
				t.Errorf("%q does not say %q", text, tc.out)
			}
			if strings.Contains(out.String()+errb.String(), keySecret) && keySecret != "" {
				t.Errorf("the SecretKey was printed")
			}
		})
	}
}

func TestTheWrapperScript(t *testing.T) {
	sock := socket(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH: the wrapper builds the program with it")
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--user", "reader", "--action", "im:GetGroupInfo", "--resource", app}, 0},
		{[]string{"--user", "reader", "--action", "im:SendMessage", "--resource", app}, 1},
		{[]string{"--user", "nobody", "--action", "im:SendMessage", "--resource", app}, 2},
	} {
		cmd := exec.Command("../../check", append([]string{"--socket", sock}, tc.args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("check %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out.String(), errb.String())
		}
		if tc.code == 2 && !strings.Contains(errb.String(), "ResourceNotFound.UserNotExist") {
			t.Errorf("check %v: %q has no CAM code", tc.args, errb.String())
		}
	}
}
