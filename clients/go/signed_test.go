// Signed requests: a request TC3-HMAC-SHA256-signed here (crypto/hmac, as
// Tencent's SDKs sign: service `im`, X-TC-Action signed) is written as raw
// HTTP/1.1 bytes, read back with net/http into a SignedRequest
// (FromHTTP), decided by camd with AuthorizeSigned, and the same bytes
// are given to `camctl verify --service im`: both must agree, for an
// allowed action, an explicitly denied one and a tampered signature.
package camd

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tc3Authorization signs a request the way Tencent Cloud API 3.0 does.
func tc3Authorization(secretID, secretKey, service string, ts int64, method, path, query string,
	headers []KV, signed []string, body []byte) string {
	var canon strings.Builder
	fmt.Fprintf(&canon, "%s\n%s\n%s\n", method, path, query)
	for _, name := range signed {
		for _, h := range headers {
			if strings.EqualFold(h.Key, name) {
				fmt.Fprintf(&canon, "%s:%s\n", name, strings.ToLower(strings.TrimSpace(h.Value)))
			}
		}
	}
	signedHeaders := strings.Join(signed, ";")
	fmt.Fprintf(&canon, "\n%s\n%s", signedHeaders, sha256Hex(body))
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	scope := date + "/" + service + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + sha256Hex([]byte(canon.String()))
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	sig := hex.EncodeToString(hmacSHA256(k, toSign))
	return fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", secretID, scope, signedHeaders, sig)
}

// rawSigned is a POST to / as a Chat SDK sends it, signed with the key.
func rawSigned(secretID, secretKey, action string, body []byte) []byte {
	ts := time.Now().Unix()
	headers := []KV{
		{"Content-Type", "application/json"},
		{"Host", "im.tencentcloudapi.com"},
		{"X-TC-Action", action},
		{"X-TC-Timestamp", strconv.FormatInt(ts, 10)},
		{"X-TC-Version", "2019-03-06"},
	}
	auth := tc3Authorization(secretID, secretKey, "im", ts, "POST", "/", "", headers,
		[]string{"content-type", "host", "x-tc-action"}, body)
	var b bytes.Buffer
	b.WriteString("POST / HTTP/1.1\r\n")
	fmt.Fprintf(&b, "Authorization: %s\r\n", auth)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.Key, h.Value)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes()
}

// verdict is an answer reduced to what both sides print.
type verdict struct {
	Allowed   bool
	Reason    string
	Policy    string
	Statement string
	Uin       uint64
	Code      string
}

func verdictOf(d Decision, err error) verdict {
	if err != nil {
		return verdict{Code: Code(err)}
	}
	return verdict{Allowed: d.Allowed, Reason: d.Reason, Policy: showStr(d.Policy), Statement: showU32(d.Statement), Uin: d.Uin}
}

// camctlVerify is `camctl --json verify --service im --resource R` on raw.
func camctlVerify(t *testing.T, bin, socket, resource string, raw []byte) verdict {
	t.Helper()
	cmd := exec.Command(bin, "--socket", socket, "--json", "verify", "--service", "im", "--resource", resource)
	cmd.Stdin = bytes.NewReader(raw)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("camctl: %v", err)
	}
	switch code {
	case 0, 1:
		var j struct {
			Decision       string
			Reason         string
			PolicyName     *string
			StatementIndex *uint32
			Uin            uint64
		}
		if err := json.Unmarshal(out.Bytes(), &j); err != nil {
			t.Fatalf("camctl printed %q: %v", out.String(), err)
		}
		if (j.Decision == "Allow") != (code == 0) {
			t.Errorf("camctl exited %d for %s", code, j.Decision)
		}
		return verdict{Allowed: j.Decision == "Allow", Reason: j.Reason, Policy: showStr(j.PolicyName),
			Statement: showU32(j.StatementIndex), Uin: j.Uin}
	default:
		// `camctl: <Code>: message`, as every camctl error.
		msg := strings.TrimSpace(errb.String())
		msg = strings.TrimPrefix(msg, "camctl: ")
		c, _, _ := strings.Cut(msg, ":")
		return verdict{Code: strings.TrimSpace(c)}
	}
}

func TestSignedRequestsAgreeWithCamctlVerify(t *testing.T) {
	socket := daemon(t)
	c := dialDaemon(t)
	ctx := testCtx(t)
	id, secret := env(t, "CAMD_TEST_KEY_ID"), env(t, "CAMD_TEST_KEY_SECRET")
	const app = "qcs::im::uin/100000000001:sdkappid/1400000001"
	body := []byte(`{"GroupId":"@TGS#1","Text":"héllo"}`)
	tampered := rawSigned(id, secret, "SendMessage", body)
	tampered = bytes.Replace(tampered, []byte(`"Text"`), []byte(`"Texu"`), 1)
	type tc struct {
		name string
		raw  []byte
		want verdict
	}
	cases := []tc{
		{"allowed", rawSigned(id, secret, "SendMessage", body),
			verdict{Allowed: true, Reason: "Allow", Policy: "NoDestroy", Statement: "0"}},
		{"explicitly denied", rawSigned(id, secret, "DestroyGroup", body),
			verdict{Allowed: false, Reason: "ExplicitDeny", Policy: "NoDestroy", Statement: "1"}},
		{"tampered body", tampered, verdict{Code: "AuthFailure.SignatureFailure"}},
		{"wrong key", rawSigned(id, "not-the-key", "SendMessage", body), verdict{Code: "AuthFailure.SignatureFailure"}},
	}
	bin := camctl()
	if bin == "" {
		t.Log("camctl not found (CAMD_TEST_CAMCTL unset, none on PATH or in ../../target): camd's answers are checked, not compared with camctl verify")
	}
	service := "im"
	for _, k := range cases {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(k.raw)))
		if err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		got, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		sr := FromHTTP(req, got)
		d, err := c.AuthorizeSigned(ctx, sr, app, nil, &service)
		mine := verdictOf(d, err)
		if mine.Uin == 0 && mine.Code == "" {
			t.Errorf("%s: no uin in %v", k.name, d)
		}
		want := k.want
		want.Uin = mine.Uin
		if mine != want {
			t.Errorf("%s: camd said %+v (%v), expected %+v", k.name, mine, err, want)
		}
		if bin != "" {
			if theirs := camctlVerify(t, bin, socket, app, k.raw); theirs != mine {
				t.Errorf("%s: camctl verify said %+v, the Go client %+v", k.name, theirs, mine)
			}
		}
	}

	// The action given in full, and the body as its SHA-256.
	raw := rawSigned(id, secret, "SendMessage", body)
	req, _ := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	sr := FromHTTP(req, body)
	sr.Body, sr.BodySHA256 = nil, sha256Hex(body)
	action := "im:GetGroupInfo"
	d, err := c.AuthorizeSigned(ctx, sr, app, []KV{{"qcs:ip", "10.0.0.1"}}, &action)
	if err != nil || !d.Allowed || d.Reason != "Allow" {
		t.Errorf("hashed body, im:GetGroupInfo: %v %v", d, err)
	}
	// No action: camd asks for one.
	if _, err := c.AuthorizeSigned(ctx, sr, app, nil, nil); Code(err) != "MissingParameter" {
		t.Errorf("no action: %v", err)
	}
}

func TestTheSigningHereIsTencents(t *testing.T) {
	// Tencent's published example (CVM DescribeInstances), as
	// src/credentials/tc3.rs checks it.
	body := []byte(`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`)
	headers := []KV{
		{"Content-Type", "application/json; charset=utf-8"},
		{"Host", "cvm.tencentcloudapi.com"},
		{"X-TC-Action", "DescribeInstances"},
	}
	got := tc3Authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******",
		"cvm", 1551113065, "POST", "/", "", headers, []string{"content-type", "host"}, body)
	want := "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
