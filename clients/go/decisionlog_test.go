// Decision ids and trace context: the reply's trailer (revision, then the
// decision id) read into Decision.DecisionID, a batch's items numbered from
// the first id; the traceparent written after the request's body, only on
// decisions and only when given. Then against the real camd: the ids of a
// decision and of a batch are those of their records in the decision log
// ($CAMD_TEST_DECISION_LOG), with the trace id sent.
package camd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

const testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// withTrailer is a reply body with the decision log's trailer: the
// revision, then the decision id.
func withTrailer(body []byte, revision int64, id uint64) []byte {
	b := appendZigzag(append([]byte(nil), body...), revision)
	return appendVarint(b, id)
}

func TestDecisionIDsAreReadFromTheTrailer(t *testing.T) {
	vs := vectors(t, "replies.jsonl")
	// A decision: its id in 16 lowercase hex digits.
	r, err := decodeResponse(withTrailer(frameBody(t, vs["Decision"]), 0, 0x1a23758fb9500000))
	if err != nil || r.decision.DecisionID != "1a23758fb9500000" || !r.hasRevision || r.revision != 0 {
		t.Errorf("a decision with its id: %+v %v", r, err)
	}
	for id, want := range map[uint64]string{0: "0000000000000000", 0xabc: "0000000000000abc", ^uint64(0): "ffffffffffffffff"} {
		if got := decisionID(id); got != want || got != fmt.Sprintf("%016x", id) {
			t.Errorf("id %d: %q, not %q", id, got, want)
		}
	}
	// Without the log: no id, as before.
	if r, err := decodeResponse(frameBody(t, vs["Decision"])); err != nil || r.decision.DecisionID != "" {
		t.Errorf("a decision without an id: %+v %v", r, err)
	}
	// A batch: item i has first + i; an error item none.
	plain, err := decodeResponse(frameBody(t, vs["Decisions"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, first := range []uint64{0x1a23758fb9500000, ^uint64(0) - 1} { // the second wraps
		r, err := decodeResponse(withTrailer(frameBody(t, vs["Decisions"]), 7, first))
		if err != nil || len(r.results) != len(plain.results) || r.revision != 7 {
			t.Fatalf("a batch with ids: %+v %v", r, err)
		}
		errs := 0
		for i, item := range r.results {
			want := fmt.Sprintf("%016x", first+uint64(i))
			if item.Err != nil {
				errs++
				want = ""
			}
			if item.Decision.DecisionID != want {
				t.Errorf("item %d of a batch from %016x: %q, not %q", i, first, item.Decision.DecisionID, want)
			}
		}
		if errs == 0 || errs == len(r.results) {
			t.Errorf("the Decisions vector should hold both decisions and errors: %+v", r.results)
		}
	}
	// An error reply with a trailer: camd's error, no id to give.
	if r, err := decodeResponse(withTrailer(frameBody(t, vs["Error"]), 0, 5)); err != nil || r.err == nil {
		t.Errorf("an error with a trailer: %+v %v", r, err)
	}
	// An id cut short is a malformed reply, not a missing id.
	full := withTrailer(frameBody(t, vs["Decision"]), 0, 0x1a23758fb9500000)
	if _, err := decodeResponse(full[:len(full)-1]); !errors.Is(err, errMalformed) {
		t.Errorf("a cut id decoded (%v)", err)
	}
	// Bytes after the id are ignored, as after the revision.
	if r, err := decodeResponse(append(full, 9, 9)); err != nil || r.decision.DecisionID != "1a23758fb9500000" {
		t.Errorf("bytes after the id: %+v %v", r, err)
	}
}

func TestTheTraceparentFollowsTheBody(t *testing.T) {
	vs := vectors(t, "requests.jsonl")
	for _, name := range []string{"Authorize", "Batch", "AuthorizeSigned", "AuthorizeAt"} {
		id, auth, b, _ := requestOf(t, vs[name].JSON)
		plain := appendFrame(nil, id, auth, b, "")
		if hex.EncodeToString(plain) != vs[name].Postcard {
			t.Errorf("%s without a traceparent is not the vector", name)
		}
		got := appendFrame(nil, id, auth, b, testTraceparent)
		want := appendString(append([]byte(nil), plain[4:]...), testTraceparent)
		want = append(binary.BigEndian.AppendUint32(nil, uint32(len(want))), want...)
		if !bytes.Equal(got, want) {
			t.Errorf("%s with a traceparent:\n got  %x\n want %x", name, got, want)
		}
	}
	ctx := ContextWithTraceparent(context.Background(), testTraceparent)
	if Traceparent(ctx) != testTraceparent || Traceparent(context.Background()) != "" {
		t.Error("Traceparent does not give back what ContextWithTraceparent holds")
	}
}

// readFrame reads one request frame's body.
func readFrame(c net.Conn) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(h[:]))
	_, err := io.ReadFull(c, b)
	return b, err
}

func TestTheClientSendsTheTraceparentWithDecisionsOnly(t *testing.T) {
	var mu sync.Mutex
	var got [][]byte // the request bodies, in order
	path := fake(t, true, func(_ int, c net.Conn) {
		for {
			b, err := readFrame(c)
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, b)
			mu.Unlock()
			d := decoder{b: b}
			id := d.u64()
			var reply []byte
			if len(b) > 2 && b[2] == bodyPing {
				reply = append(appendVarint(nil, id), 0, replyPong, 1)
			} else {
				reply = withTrailer(decisionBody(id, true, 7), 0, 0x100+id)
			}
			if _, err := c.Write(frameOf(reply)); err != nil {
				return
			}
		}
	})
	c, err := Dial(path, WithPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := ByUser(UserName("reader"), "im:GetGroupInfo", "*", nil)
	ctx := ContextWithTraceparent(testCtx(t), testTraceparent)
	d, err := c.Authorize(ctx, ask)
	if err != nil || d.DecisionID != "0000000000000101" {
		t.Fatalf("a decision with a traceparent: %v %q %v", d, d.DecisionID, err)
	}
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authorize(testCtx(t), ask); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("%d requests", len(got))
	}
	traced := appendString(appendFrame(nil, 1, nil, authorizeBody{&ask}, "")[4:], testTraceparent)
	if !bytes.Equal(got[0], traced) {
		t.Errorf("the decision with a traceparent:\n got  %x\n want %x", got[0], traced)
	}
	if want := appendFrame(nil, 2, nil, pingBody{}, "")[4:]; !bytes.Equal(got[1], want) {
		t.Errorf("Ping sent %x, not %x (no traceparent)", got[1], want)
	}
	if want := appendFrame(nil, 3, nil, authorizeBody{&ask}, "")[4:]; !bytes.Equal(got[2], want) {
		t.Errorf("a decision without a traceparent sent %x, not %x", got[2], want)
	}
}

// logRecord is what the test reads of a decision record.
type logRecord struct {
	DecisionID string `json:"decision_id"`
	Path       string `json:"path"`
	Result     struct {
		Allowed bool   `json:"allowed"`
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
	} `json:"result"`
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

// logSize is the size of the decision log at path (0 when none yet).
func logSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatalf("the decision log: %v", err)
	}
	return st.Size()
}

// logRecords reads the records of ids from the decision log at path, every
// record of each id: from the byte `from` on (where the log ended before
// they were decided; when it has rotated since, the rest of its last
// rotated file and all of the new one). from 0: the whole log, its last
// rotated file included.
func logRecords(t *testing.T, path string, from int64, ids []string) map[string][]logRecord {
	t.Helper()
	type part struct {
		file string
		from int64
	}
	parts := []part{{path, from}}
	if from == 0 {
		parts = []part{{path + ".1", 0}, {path, 0}}
	} else if logSize(t, path) < from {
		parts = []part{{path + ".1", from}, {path, 0}}
	}
	out := map[string][]logRecord{}
	for _, pt := range parts {
		p := pt.file
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			t.Fatalf("the decision log: %v", err)
		}
		if _, err := f.Seek(pt.from, io.SeekStart); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			for _, id := range ids {
				if !bytes.Contains(line, []byte(`"decision_id":"`+id+`"`)) {
					continue
				}
				var r logRecord
				if err := json.Unmarshal(line, &r); err != nil {
					// The writer may be in the middle of the last line.
					continue
				}
				if r.DecisionID == id {
					out[id] = append(out[id], r)
				}
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	return out
}

func TestDecisionIDsNameTheirRecordsInTheDecisionLog(t *testing.T) {
	logPath := os.Getenv("CAMD_TEST_DECISION_LOG")
	if logPath == "" {
		t.Skip("CAMD_TEST_DECISION_LOG is unset: this test needs a camd with its decision log on (tests/clients.rs sets it up)")
	}
	c := dialDaemon(t)
	ctx := ContextWithTraceparent(testCtx(t), testTraceparent)
	const app = "qcs::im::uin/100000000001:sdkappid/1400000001"
	before := logSize(t, logPath)

	single, err := c.AuthorizeUser(ctx, UserName("reader"), "im:GetGroupInfo", app, nil)
	if err != nil || !single.Allowed {
		t.Fatalf("reader im:GetGroupInfo: %v %v", single, err)
	}
	results, err := c.AuthorizeBatch(ctx, []Ask{
		ByUser(UserName("reader"), "im:GetGroupInfo", app, nil),
		ByUser(UserName("reader"), "im:DestroyGroup", app, nil),
		ByUser(UserName("nobody"), "im:GetGroupInfo", app, nil),
	})
	if err != nil || len(results) != 3 {
		t.Fatalf("the batch: %v %v", results, err)
	}
	if results[0].Err != nil || !results[0].Decision.Allowed || results[1].Err != nil || results[1].Decision.Allowed {
		t.Fatalf("the batch's decisions: %v", results)
	}
	if Code(results[2].Err) != "ResourceNotFound.UserNotExist" || results[2].Decision.DecisionID != "" {
		t.Fatalf("the batch's error item: %v, id %q", results[2].Err, results[2].Decision.DecisionID)
	}
	parse := func(what, id string) uint64 {
		n, err := strconv.ParseUint(id, 16, 64)
		if err != nil || len(id) != 16 || fmt.Sprintf("%016x", n) != id {
			t.Fatalf("%s: the decision id %q is not 16 lowercase hex digits (is camd's decision log on?)", what, id)
		}
		return n
	}
	parse("the decision", single.DecisionID)
	first := parse("the batch's first item", results[0].Decision.DecisionID)
	if got := parse("the batch's second item", results[1].Decision.DecisionID); got != first+1 {
		t.Fatalf("the batch's ids: %016x then %016x", first, got)
	}
	errID := fmt.Sprintf("%016x", first+2)

	decided := map[string]struct {
		d    Decision
		path string
	}{
		single.DecisionID:              {single, "Authorize"},
		results[0].Decision.DecisionID: {results[0].Decision, "Batch"},
		results[1].Decision.DecisionID: {results[1].Decision, "Batch"},
	}
	ids := []string{single.DecisionID, results[0].Decision.DecisionID, results[1].Decision.DecisionID, errID}
	// The writer flushes within a few ms: wait up to 5 s for all four,
	// reading what was written since; then read the whole log, in which
	// each must be found once.
	for until := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if len(logRecords(t, logPath, before, ids)) == len(ids) || time.Now().After(until) {
			break
		}
	}
	recs := logRecords(t, logPath, 0, ids)
	for id, want := range decided {
		rs := recs[id]
		if len(rs) != 1 {
			t.Errorf("%s (%s %v): %d records in %s, not 1", id, want.path, want.d, len(rs), logPath)
			continue
		}
		r := rs[0]
		if r.Result.Allowed != want.d.Allowed || r.Result.Reason != want.d.Reason || r.Path != want.path {
			t.Errorf("%s: the record says %s allowed=%v %s, the reply %s %v", id, r.Path, r.Result.Allowed, r.Result.Reason, want.path, want.d)
		}
		if r.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || r.SpanID != "00f067aa0ba902b7" {
			t.Errorf("%s: trace %q span %q, not the traceparent's", id, r.TraceID, r.SpanID)
		}
	}
	if rs := recs[errID]; len(rs) != 1 {
		t.Errorf("the error item's record %s: %d records, not 1", errID, len(rs))
	} else if r := rs[0]; r.Result.Outcome != "error" || r.Result.Reason != "ResourceNotFound.UserNotExist" ||
		r.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("the error item's record %s: %+v", errID, r)
	}
}
