// Helpers shared by the tests: the scene's environment (CAMD_SOCKET and the
// keys tests/clients.rs exports), the shared cases of
// tests/clients/cases.json, and short socket paths for fake servers.
package camd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// daemon is camd's socket; the test is skipped when CAMD_SOCKET is unset.
func daemon(t testing.TB) string {
	t.Helper()
	p := os.Getenv("CAMD_SOCKET")
	if p == "" {
		t.Skip("CAMD_SOCKET is unset: this test needs a running camd with the scene of tests/clients/cases.json (tests/clients.rs sets it up)")
	}
	return p
}

// dialDaemon is a client of the scene's camd, closed at the test's end.
func dialDaemon(t testing.TB, opts ...Option) *Client {
	t.Helper()
	c, err := Dial(daemon(t), opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// env is a variable the scene must set.
func env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is unset (the scene of tests/clients.rs sets it with CAMD_SOCKET)", name)
	}
	return v
}

// testCtx is a context the test's calls use: bounded, so that a bug hangs
// no test.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type sharedCase struct {
	Name string `json:"name"`
	Ask  struct {
		User      *string     `json:"user"`
		SecretID  *string     `json:"secret_id"`
		SecretKey *string     `json:"secret_key"`
		Action    string      `json:"action"`
		Resource  string      `json:"resource"`
		Context   [][2]string `json:"context"`
	} `json:"ask"`
	Expect struct {
		Error     *string `json:"error"`
		Allowed   bool    `json:"allowed"`
		Reason    string  `json:"reason"`
		Policy    *string `json:"policy"`
		Statement *uint32 `json:"statement"`
	} `json:"expect"`
}

// fill replaces each ${NAME} with the environment variable NAME.
func fill(t testing.TB, s string) string {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return s
		}
		s = s[:i] + env(t, s[i+2:i+j]) + s[i+j+1:]
	}
}

// sharedCases reads CAMD_TEST_CASES, with ${NAME} filled in.
func sharedCases(t testing.TB) []sharedCase {
	t.Helper()
	path := os.Getenv("CAMD_TEST_CASES")
	if path == "" {
		path = "../../tests/clients/cases.json"
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the shared cases: %v", err)
	}
	var file struct {
		Cases []sharedCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(file.Cases) == 0 {
		t.Fatalf("%s has no cases", path)
	}
	for i := range file.Cases {
		a := &file.Cases[i].Ask
		for _, p := range []*string{a.User, a.SecretID, a.SecretKey} {
			if p != nil {
				*p = fill(t, *p)
			}
		}
		a.Action, a.Resource = fill(t, a.Action), fill(t, a.Resource)
	}
	return file.Cases
}

// ask is the case's question.
func (c *sharedCase) ask() Ask {
	var kv []KV
	for _, p := range c.Ask.Context {
		kv = append(kv, KV{p[0], p[1]})
	}
	if c.Ask.User != nil {
		return ByUser(UserName(*c.Ask.User), c.Ask.Action, c.Ask.Resource, kv)
	}
	return ByKey(*c.Ask.SecretID, *c.Ask.SecretKey, c.Ask.Action, c.Ask.Resource, kv)
}

// check reports how the answer differs from the case's expectation.
func (c *sharedCase) check(t testing.TB, d Decision, err error) {
	t.Helper()
	e := c.Expect
	if e.Error != nil {
		if err == nil {
			t.Errorf("%s: expected %s, got %v", c.Name, *e.Error, d)
		} else if Code(err) != *e.Error {
			t.Errorf("%s: expected %s, got %v", c.Name, *e.Error, err)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", c.Name, err)
		return
	}
	if d.Allowed != e.Allowed || d.Reason != e.Reason || !eqStr(d.Policy, e.Policy) || !eqU32(d.Statement, e.Statement) {
		t.Errorf("%s: got %v (policy %s, statement %s), expected allowed=%v %s policy %s statement %s",
			c.Name, d, showStr(d.Policy), showU32(d.Statement), e.Allowed, e.Reason, showStr(e.Policy), showU32(e.Statement))
	}
	if d.Uin == 0 {
		t.Errorf("%s: no uin in %v", c.Name, d)
	}
}

func eqStr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func eqU32(a, b *uint32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func showStr(p *string) string {
	if p == nil {
		return "none"
	}
	return *p
}

func showU32(p *uint32) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatUint(uint64(*p), 10)
}

// sockPath is a socket path in a fresh folder (short: sun_path holds 108
// bytes, which t.TempDir's names can exceed).
func sockPath(t testing.TB) string {
	dir, err := os.MkdirTemp("", "camd-go")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// camctl is the camctl binary: $CAMD_TEST_CAMCTL, else camctl on PATH,
// else the workspace's target/{debug,release}/camctl ("" when none).
func camctl() string {
	if p := os.Getenv("CAMD_TEST_CAMCTL"); p != "" {
		return p
	}
	if p, err := exec.LookPath("camctl"); err == nil {
		return p
	}
	for _, p := range []string{"../../target/debug/camctl", "../../target/release/camctl"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	return ""
}
