// The binary codec against camd's golden vectors (tests/wire, or
// $CAMD_TEST_WIRE): every decision request (Ping, Authorize, Batch,
// AuthorizeSigned, AuthorizeAt) built from its `json` line must encode to
// its `postcard` frame byte for byte, and every decision reply (Pong,
// Decision, Decisions, Error) must decode to what its `json` line says.
// Then the decoder on bytes camd would never send: every other reply,
// every truncation, corrupted tags, overflowing varints, invalid UTF-8.
package camd

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

type vector struct {
	Name     string `json:"name"`
	JSON     string `json:"json"`
	Postcard string `json:"postcard"`
}

func wireDir() string {
	if d := os.Getenv("CAMD_TEST_WIRE"); d != "" {
		return d
	}
	return "../../tests/wire"
}

func vectors(t *testing.T, file string) map[string]vector {
	t.Helper()
	path := filepath.Join(wireDir(), file)
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("CAMD_TEST_WIRE") == "" {
			t.Skipf("no vectors (CAMD_TEST_WIRE is unset and %s: %v)", path, err)
		}
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]vector{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[v.Name] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tree is a JSON value with numbers kept exact.
func tree(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("expected an object, got %v", v)
	}
	return m
}

// variant is the one key of an externally tagged enum (or a unit variant).
func variant(t *testing.T, v any) (string, any) {
	t.Helper()
	if s, ok := v.(string); ok {
		return s, nil
	}
	m := obj(t, v)
	if len(m) != 1 {
		t.Fatalf("expected one variant, got %v", m)
	}
	for k, x := range m {
		return k, x
	}
	panic("unreachable")
}

func num(t *testing.T, v any) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(string(v.(json.Number)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func inum(t *testing.T, v any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(string(v.(json.Number)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func pairsOf(t *testing.T, v any) []KV {
	t.Helper()
	var kv []KV
	for _, p := range v.([]any) {
		pair := p.([]any)
		kv = append(kv, KV{pair[0].(string), pair[1].(string)})
	}
	return kv
}

func keyOf(t *testing.T, v any) *Key {
	m := obj(t, v)
	return &Key{SecretID: m["secret_id"].(string), SecretKey: m["secret_key"].(string)}
}

func askOf(t *testing.T, v any) Ask {
	t.Helper()
	name, fields := variant(t, v)
	f := obj(t, fields)
	a := Ask{Action: f["action"].(string), Resource: f["resource"].(string), Context: pairsOf(t, f["context"])}
	switch name {
	case "ByUser":
		kind, who := variant(t, f["user"])
		switch kind {
		case "Name":
			a.User = UserName(who.(string))
		case "Uin":
			a.User = UserUin(num(t, who))
		default:
			t.Fatalf("user %s", kind)
		}
	case "ByKey":
		a.Key = keyOf(t, f["key"])
	default:
		t.Fatalf("Authorize::%s", name)
	}
	return a
}

func optString(v any) *string {
	if v == nil {
		return nil
	}
	s := v.(string)
	return &s
}

// requestOf is the id, auth, body and traceparent of a request's JSON line.
func requestOf(t *testing.T, line string) (uint64, *Key, body, string) {
	t.Helper()
	m := obj(t, tree(t, line))
	traceparent, _ := m["traceparent"].(string)
	var auth *Key
	if m["auth"] != nil {
		auth = keyOf(t, m["auth"])
	}
	name, f := variant(t, m["body"])
	var b body
	switch name {
	case "Ping":
		b = pingBody{}
	case "Authorize":
		a := askOf(t, f)
		b = authorizeBody{&a}
	case "Batch":
		var asks []Ask
		for _, x := range f.([]any) {
			asks = append(asks, askOf(t, x))
		}
		b = batchBody{asks}
	case "AuthorizeAt":
		at := obj(t, f)
		a := askOf(t, at["ask"])
		b = atBody{minRevision: inum(t, at["min_revision"]), ask: &a}
	case "AuthorizeSigned":
		s := obj(t, f)
		r := obj(t, s["request"])
		req := SignedRequest{Method: r["method"].(string), Path: r["path"].(string),
			Query: r["query"].(string), Headers: pairsOf(t, r["headers"])}
		kind, p := variant(t, r["payload"])
		switch kind {
		case "Body":
			req.Body = []byte{}
			for _, n := range p.([]any) {
				req.Body = append(req.Body, byte(num(t, n)))
			}
		case "Sha256Hex":
			req.BodySHA256 = p.(string)
		}
		b = signedBody{req: &req, resource: s["resource"].(string), context: pairsOf(t, s["context"]),
			action: optString(s["action"])}
	default:
		t.Fatalf("not a decision request: %s", name)
	}
	return num(t, m["id"]), auth, b, traceparent
}

var decisionRequests = []string{"Ping", "Authorize", "Batch", "AuthorizeSigned", "AuthorizeAt"}
var decisionReplies = []string{"Pong", "Decision", "Decisions", "Error"}

func TestEncoderMatchesEveryDecisionRequestVector(t *testing.T) {
	vs := vectors(t, "requests.jsonl")
	for _, name := range decisionRequests {
		v, ok := vs[name]
		if !ok {
			t.Errorf("requests.jsonl has no %s", name)
			continue
		}
		id, auth, b, traceparent := requestOf(t, v.JSON)
		got := hex.EncodeToString(appendFrame(nil, id, auth, b, traceparent))
		if got != v.Postcard {
			t.Errorf("%s:\n got  %s\n want %s", name, got, v.Postcard)
		}
		// Appending to a used buffer gives the same frame.
		buf := appendFrame([]byte("junk"), id, auth, b, traceparent)
		if hex.EncodeToString(buf[4:]) != v.Postcard {
			t.Errorf("%s: appending after other bytes changes the frame", name)
		}
	}
	// The user by uin, absent from the vectors: variant 1, a varint.
	a := ByUser(UserUin(200000000001), "im:SendMessage", "*", nil)
	got := hex.EncodeToString(appendFrame(nil, 7, nil, authorizeBody{&a}, ""))
	want := "0000001d" + "07" + "00" + "01" + "01" + "01" + hex.EncodeToString(appendVarint(nil, 200000000001)) +
		"0e" + hex.EncodeToString([]byte("im:SendMessage")) + "01" + "2a" + "00"
	if got != want {
		t.Errorf("by uin:\n got  %s\n want %s", got, want)
	}
}

// expected is what a reply's JSON line says, as the decoder's response.
func expected(t *testing.T, line string) response {
	t.Helper()
	m := obj(t, tree(t, line))
	r := response{id: num(t, m["id"])}
	if rev, ok := m["revision"]; ok {
		r.revision, r.hasRevision = inum(t, rev), true
	}
	// The decision id, when camd's log is on: the (first) decision's.
	var first uint64
	id, hasID := m["decision_id"].(string)
	if hasID {
		n, err := strconv.ParseUint(id, 16, 64)
		if err != nil || len(id) != 16 {
			t.Fatalf("decision_id %q", id)
		}
		first = n
	}
	decision := func(v any, i int) Decision {
		f := obj(t, v)
		d := Decision{Allowed: f["allowed"].(bool), Reason: f["reason"].(string),
			Policy: optString(f["policy"]), Uin: num(t, f["uin"])}
		if hasID {
			d.DecisionID = fmt.Sprintf("%016x", first+uint64(i))
		}
		if f["statement"] != nil {
			s := uint32(num(t, f["statement"]))
			d.Statement = &s
		}
		return d
	}
	wireErr := func(v any) *Error {
		f := obj(t, v)
		return &Error{Code: f["code"].(string), Message: f["message"].(string)}
	}
	ok, x := variant(t, m["result"])
	if ok == "Err" {
		r.err = wireErr(x)
		return r
	}
	name, f := variant(t, x)
	switch name {
	case "Pong":
		r.kind, r.pong = replyPong, uint16(num(t, f))
	case "Decision":
		r.kind, r.decision = replyDecision, decision(f, 0)
	case "Decisions":
		r.kind = replyDecisions
		r.results = []Result{}
		for i, a := range f.([]any) {
			k, v := variant(t, a)
			if k == "Ok" {
				r.results = append(r.results, Result{Decision: decision(v, i)})
			} else {
				r.results = append(r.results, Result{Err: wireErr(v)})
			}
		}
	default:
		t.Fatalf("not a decision reply: %s", name)
	}
	return r
}

// frameBody is a vector's frame without its length, checked against it.
func frameBody(t *testing.T, v vector) []byte {
	t.Helper()
	frame, err := hex.DecodeString(v.Postcard)
	if err != nil {
		t.Fatal(err)
	}
	if len(frame) < 4 || int(binary.BigEndian.Uint32(frame)) != len(frame)-4 {
		t.Fatalf("%s: the frame's length prefix is wrong", v.Name)
	}
	return frame[4:]
}

func TestDecoderMatchesEveryDecisionReplyVector(t *testing.T) {
	vs := vectors(t, "replies.jsonl")
	for _, name := range decisionReplies {
		v, ok := vs[name]
		if !ok {
			t.Errorf("replies.jsonl has no %s", name)
			continue
		}
		got, err := decodeResponse(frameBody(t, v))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want := expected(t, v.JSON); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", name, got, want)
		}
	}
}

func TestDecoderRefusesEveryOtherReply(t *testing.T) {
	vs := vectors(t, "replies.jsonl")
	others := 0
	for name, v := range vs {
		if contains(decisionReplies, name) {
			continue
		}
		others++
		if _, err := decodeResponse(frameBody(t, v)); !errors.Is(err, errMalformed) {
			t.Errorf("%s: a decision client must refuse it, got %v", name, err)
		}
	}
	if others == 0 {
		t.Error("replies.jsonl holds only decision replies?")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDecoderRefusesTruncatedAndCorruptedBodies(t *testing.T) {
	vs := vectors(t, "replies.jsonl")
	for _, name := range decisionReplies {
		full := frameBody(t, vs[name])
		// Every cut that does not end at the result's end fails (a cut
		// right after it would read as a frame without a revision).
		for n := 0; n < len(full); n++ {
			r, err := decodeResponse(full[:n])
			if err == nil && !(vs[name].Name == "Pong" && n == len(full)-1) {
				t.Errorf("%s cut at %d of %d decoded: %+v", name, n, len(full), r)
			}
		}
	}
	d := frameBody(t, vs["Decision"]) // 02 00 01 | 01 05 Allow | 01 ... policy | 01 00 | uin
	corrupt := map[string]func([]byte){
		"a Result tag of 2":     func(b []byte) { b[1] = 2 },
		"a bool of 2":           func(b []byte) { b[3] = 2 },
		"a string past the end": func(b []byte) { b[4] = 0x7f },
		"invalid UTF-8":         func(b []byte) { b[5] = 0xff },
		"an Option tag of 7":    func(b []byte) { b[10] = 7 },
		"reply variant 30":      func(b []byte) { b[2] = 30 },
	}
	for what, f := range corrupt {
		b := append([]byte(nil), d...)
		f(b)
		if _, err := decodeResponse(b); !errors.Is(err, errMalformed) {
			t.Errorf("%s: decoded (%v)", what, err)
		}
	}
	// Varints: 11 bytes for a u64, a u32 past 32 bits, a u16 past 16.
	for what, b := range map[string][]byte{
		"u64 of 11 bytes":  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00},
		"u64 over 64 bits": {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00},
		"pong over u16":    {0x01, 0x00, 0x00, 0xff, 0xff, 0x04},
		"statement over u32": append(append([]byte(nil), d[:len(d)-8]...),
			0x01, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00),
		"a huge batch count": {0x03, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := decodeResponse(b); !errors.Is(err, errMalformed) {
			t.Errorf("%s: decoded (%v)", what, err)
		}
	}
	// The largest values of each width still decode.
	b := appendVarint([]byte{}, 1)
	b = append(b, 0, replyPong)
	b = appendVarint(b, 65535)
	if r, err := decodeResponse(b); err != nil || r.pong != 65535 {
		t.Errorf("pong 65535: %+v %v", r, err)
	}
	b = appendVarint([]byte{}, ^uint64(0))
	b = append(b, 0, replyPong, 1)
	if r, err := decodeResponse(b); err != nil || r.id != ^uint64(0) {
		t.Errorf("id 2^64-1: %+v %v", r, err)
	}
}

func TestZigzagAndVarints(t *testing.T) {
	for _, n := range []int64{0, -1, 1, 42, -42, 1 << 40, -(1 << 62), 1<<63 - 1, -1 << 63} {
		d := decoder{b: appendZigzag(nil, n)}
		if got := d.i64(); got != n || d.err != nil || d.off != len(d.b) {
			t.Errorf("zigzag %d: got %d (%v)", n, got, d.err)
		}
	}
	if got := hex.EncodeToString(appendZigzag(nil, 42)); got != "54" {
		t.Errorf("zigzag 42 is %s, not 54 (the AuthorizeAt vector's min_revision)", got)
	}
	for _, n := range []uint64{0, 127, 128, 300, 1<<32 - 1, 1 << 32, ^uint64(0)} {
		d := decoder{b: appendVarint(nil, n)}
		if got := d.u64(); got != n || d.err != nil {
			t.Errorf("varint %d: got %d (%v)", n, got, d.err)
		}
	}
}

func TestHello(t *testing.T) {
	if got := hex.EncodeToString(appendHello(nil, ProtocolVersion)); got != "43414d440001" {
		t.Errorf("hello %s", got)
	}
	if v, err := parseHello([]byte("CAMD\x00\x02")); err != nil || v != 2 {
		t.Errorf("parse: %d %v", v, err)
	}
	if _, err := parseHello([]byte("HTTP/1")); err == nil {
		t.Error("a hello that is not CAMD parsed")
	}
}
