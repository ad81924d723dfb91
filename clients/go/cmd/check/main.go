// Command check asks camd one question with the Go client, as `camctl check`
// and `camctl auth` do: by user (--user NAME or --uin N) or by access key
// (--secret-id, the SecretKey from $CAMD_SECRET_KEY or the first line of
// stdin). It prints `Allow: ...` or `Deny: ...` and exits 0 on Allow, 1 on
// Deny, 2 on an error (with the CAM code in the message).
//
//	check --user reader --action im:GetGroupInfo \
//	      --resource qcs::im::uin/100000000001:sdkappid/1400000001 \
//	      --context '{"qcs:ip":"10.0.0.1"}'
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	camd "github.com/camd/camd/clients/go"
)

const (
	exitAllow = 0
	exitDeny  = 1
	exitError = 2
)

// contextFlag gathers --context: a JSON object ({"k":"v"}, values strings
// or arrays of strings) or array of pairs ([["k","v"]]), or KEY=VALUE; it
// may be given several times.
type contextFlag []camd.KV

func (c *contextFlag) String() string { return fmt.Sprint([]camd.KV(*c)) }

func (c *contextFlag) Set(s string) error {
	t := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(t, "{"):
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(t), &m); err != nil {
			return fmt.Errorf("not a JSON object: %v", err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var one string
			if json.Unmarshal(m[k], &one) == nil {
				*c = append(*c, camd.KV{Key: k, Value: one})
				continue
			}
			var many []string
			if err := json.Unmarshal(m[k], &many); err != nil {
				return fmt.Errorf("the value of %q must be a string or an array of strings", k)
			}
			for _, v := range many {
				*c = append(*c, camd.KV{Key: k, Value: v})
			}
		}
	case strings.HasPrefix(t, "["):
		var pairs [][2]string
		if err := json.Unmarshal([]byte(t), &pairs); err != nil {
			return fmt.Errorf("not a JSON array of [key, value] pairs: %v", err)
		}
		for _, p := range pairs {
			*c = append(*c, camd.KV{Key: p[0], Value: p[1]})
		}
	default:
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return errors.New("expected a JSON object, a JSON array of pairs, or KEY=VALUE")
		}
		*c = append(*c, camd.KV{Key: k, Value: v})
	}
	return nil
}

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", "", "camd's socket (else $CAMD_SOCKET, else state/camd.sock, else "+camd.InstalledSocket+")")
	user := fs.String("user", "", "the user's name")
	uin := fs.String("uin", "", "the user's uin (instead of --user)")
	secretID := fs.String("secret-id", "", "an access key's SecretId (the SecretKey from $CAMD_SECRET_KEY or stdin)")
	action := fs.String("action", "", "the action, e.g. im:SendMessage")
	resource := fs.String("resource", "", "the resource, e.g. qcs::im::uin/100000000001:sdkappid/1400000001, or *")
	timeout := fs.Duration("timeout", camd.DefaultTimeout, "how long to wait for camd")
	var ctxKV contextFlag
	fs.Var(&ctxKV, "context", `request context: a JSON object {"qcs:ip":"10.0.0.1"}, a JSON array [["qcs:ip","10.0.0.1"]], or KEY=VALUE; repeatable`)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "check: "+format+"\n", a...)
		return exitError
	}
	if err := fs.Parse(args); err != nil {
		return exitError // the flag package has said why (or shown -help)
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if *action == "" || *resource == "" {
		return fail("--action and --resource are required")
	}
	who := 0
	for _, s := range []string{*user, *uin, *secretID} {
		if s != "" {
			who++
		}
	}
	if who != 1 {
		return fail("give one of --user, --uin or --secret-id")
	}
	var ask camd.Ask
	switch {
	case *secretID != "":
		key, err := secretKey(stdin)
		if err != nil {
			return fail("%v", err)
		}
		ask = camd.ByKey(*secretID, key, *action, *resource, ctxKV)
	case *uin != "":
		n, err := strconv.ParseUint(*uin, 10, 64)
		if err != nil {
			return fail("--uin %q is not a uin", *uin)
		}
		ask = camd.ByUser(camd.UserUin(n), *action, *resource, ctxKV)
	default:
		ask = camd.ByUser(camd.UserName(*user), *action, *resource, ctxKV)
	}
	c, err := camd.Dial(*socket, camd.WithTimeout(*timeout))
	if err != nil {
		return fail("%v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	d, err := c.Authorize(ctx, ask)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintln(stdout, verdict(d))
	if d.Allowed {
		return exitAllow
	}
	return exitDeny
}

// secretKey is $CAMD_SECRET_KEY, else the first line of stdin.
func secretKey(stdin io.Reader) (string, error) {
	if k := os.Getenv("CAMD_SECRET_KEY"); k != "" {
		return k, nil
	}
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return "", errors.New("--secret-id needs the SecretKey in $CAMD_SECRET_KEY or on stdin")
		}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("cannot read the SecretKey from stdin: %v", err)
		}
		return "", errors.New("--secret-id needs the SecretKey in $CAMD_SECRET_KEY or on stdin")
	}
	return line, nil
}

// verdict is the line camctl prints for a decision.
func verdict(d camd.Decision) string {
	v := "Deny"
	if d.Allowed {
		v = "Allow"
	}
	var why string
	switch {
	case d.Policy != nil && d.Statement != nil:
		why = fmt.Sprintf("%s by policy `%s` statement[%d]", d.Reason, *d.Policy, *d.Statement)
	case d.Reason == "ImplicitDeny":
		why = "no statement allows it (implicit deny)"
	case d.Reason == "OutsideBoundary" && d.Policy != nil:
		why = fmt.Sprintf("OutsideBoundary: the permissions boundary `%s` does not allow it", *d.Policy)
	case d.Reason == "Root":
		why = "the root account is allowed everything"
	default:
		why = d.Reason
	}
	return v + ": " + why
}
