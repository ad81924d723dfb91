package camd

// The binary wire (docs/protocol.md, "Binary"): the hello, length-prefixed
// frames, and the postcard encoding of the decision requests and their
// replies. Nothing else in the package knows a byte layout.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ProtocolVersion is the camd protocol version this client speaks.
const ProtocolVersion uint16 = 1

const (
	helloLen = 6
	// maxResponse is the largest response frame accepted (as the Rust client).
	maxResponse = 64 << 20
)

// Body variants (the index of each in camd's Body enum).
const (
	bodyPing            = 0
	bodyAuthorize       = 1
	bodyBatch           = 2
	bodyAuthorizeSigned = 33
	bodyAuthorizeAt     = 48
)

// Reply variants this client understands.
const (
	replyPong      = 0
	replyDecision  = 1
	replyDecisions = 2
)

func appendHello(b []byte, version uint16) []byte {
	b = append(b, 'C', 'A', 'M', 'D')
	return binary.BigEndian.AppendUint16(b, version)
}

// parseHello returns the version in a hello.
func parseHello(h []byte) (uint16, error) {
	if len(h) != helloLen || string(h[:4]) != "CAMD" {
		return 0, fmt.Errorf("the server's hello is %q, not CAMD and a version", h)
	}
	return binary.BigEndian.Uint16(h[4:]), nil
}

// ---------------------------------------------------------------------------
// Encoding.

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendZigzag(b []byte, v int64) []byte {
	return appendVarint(b, uint64(v<<1)^uint64(v>>63))
}

func appendString(b []byte, s string) []byte {
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	b = appendVarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, 0)
	}
	return appendString(append(b, 1), *s)
}

func appendPairs(b []byte, kv []KV) []byte {
	b = appendVarint(b, uint64(len(kv)))
	for _, p := range kv {
		b = appendString(b, p.Key)
		b = appendString(b, p.Value)
	}
	return b
}

func appendKey(b []byte, k *Key) []byte {
	b = appendString(b, k.SecretID)
	return appendString(b, k.SecretKey)
}

// appendAsk encodes an Authorize: 0 ByKey { key, action, resource, context }
// or 1 ByUser { user, action, resource, context }.
func appendAsk(b []byte, a *Ask) []byte {
	if a.Key != nil {
		b = append(b, 0)
		b = appendKey(b, a.Key)
	} else {
		b = append(b, 1)
		if a.User.byUin {
			b = append(b, 1)
			b = appendVarint(b, a.User.uin)
		} else {
			b = append(b, 0)
			b = appendString(b, a.User.name)
		}
	}
	b = appendString(b, a.Action)
	b = appendString(b, a.Resource)
	return appendPairs(b, a.Context)
}

// body is a request body: Body's variant index and its fields.
type body interface {
	appendBody(b []byte) []byte
}

type pingBody struct{}

func (pingBody) appendBody(b []byte) []byte { return append(b, bodyPing) }

type authorizeBody struct{ ask *Ask }

func (r authorizeBody) appendBody(b []byte) []byte {
	return appendAsk(append(b, bodyAuthorize), r.ask)
}

type batchBody struct{ asks []Ask }

func (r batchBody) appendBody(b []byte) []byte {
	b = appendVarint(append(b, bodyBatch), uint64(len(r.asks)))
	for i := range r.asks {
		b = appendAsk(b, &r.asks[i])
	}
	return b
}

type signedBody struct {
	req      *SignedRequest
	resource string
	context  []KV
	action   *string
}

func (r signedBody) appendBody(b []byte) []byte {
	b = appendVarint(b, bodyAuthorizeSigned)
	q := r.req
	b = appendString(b, q.Method)
	b = appendString(b, q.Path)
	b = appendString(b, q.Query)
	b = appendPairs(b, q.Headers)
	if q.BodySHA256 != "" {
		b = appendString(append(b, 1), q.BodySHA256)
	} else {
		b = appendBytes(append(b, 0), q.Body)
	}
	b = appendString(b, r.resource)
	b = appendPairs(b, r.context)
	return appendOptString(b, r.action)
}

type atBody struct {
	minRevision int64
	ask         *Ask
}

func (r atBody) appendBody(b []byte) []byte {
	b = appendVarint(b, bodyAuthorizeAt)
	b = appendZigzag(b, r.minRevision)
	return appendAsk(b, r.ask)
}

// appendFrame appends the frame of Request { id, auth, body, [traceparent] }:
// its 4-byte big-endian length, then the postcard body. traceparent "": none
// (the frame ends after the body).
func appendFrame(b []byte, id uint64, auth *Key, r body, traceparent string) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = appendVarint(b, id)
	if auth == nil {
		b = append(b, 0)
	} else {
		b = appendKey(append(b, 1), auth)
	}
	b = r.appendBody(b)
	if traceparent != "" {
		b = appendString(b, traceparent)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// ---------------------------------------------------------------------------
// Decoding.

// errMalformed is wrapped by every decoding error.
var errMalformed = errors.New("malformed response")

// decoder reads postcard values from a response body; the first error
// sticks, and every read after it returns a zero value.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", errMalformed, d.off, fmt.Sprintf(format, args...))
	}
}

// varint reads an unsigned LEB128 of at most `bits` bits.
func (d *decoder) varint(bits uint) uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if d.off >= len(d.b) {
			d.fail("the body ends inside a varint")
			return 0
		}
		c := d.b[d.off]
		d.off++
		if shift >= bits || (shift > 0 && bits-shift < 7 && uint64(c&0x7f)>>(bits-shift) != 0) {
			d.fail("a varint overflows %d bits", bits)
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (d *decoder) u64() uint64 { return d.varint(64) }
func (d *decoder) u32() uint32 { return uint32(d.varint(32)) }
func (d *decoder) u16() uint16 { return uint16(d.varint(16)) }

func (d *decoder) i64() int64 {
	u := d.varint(64)
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("the body ends early")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) boolean() bool {
	switch c := d.byte1(); c {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("a bool is %d", c)
		return false
	}
}

// tag reads an Option's or a Result's tag (0 or 1).
func (d *decoder) tag(what string) bool {
	switch c := d.byte1(); c {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("%s tag is %d", what, c)
		return false
	}
}

// rawString reads a string's bytes (checked UTF-8), borrowed from the body.
func (d *decoder) rawString() []byte {
	n := d.u64()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("a string of %d bytes runs past the body's end", n)
		return nil
	}
	s := d.b[d.off : d.off+int(n)]
	if !utf8.Valid(s) {
		d.fail("a string is not UTF-8")
		return nil
	}
	d.off += int(n)
	return s
}

func (d *decoder) str() string { return string(d.rawString()) }

// reason reads a decision's reason without allocating for the known ones.
func (d *decoder) reason() string {
	s := d.rawString()
	switch string(s) {
	case "Allow":
		return "Allow"
	case "ImplicitDeny":
		return "ImplicitDeny"
	case "ExplicitDeny":
		return "ExplicitDeny"
	case "Root":
		return "Root"
	case "FailClosedDeny":
		return "FailClosedDeny"
	case "BoundaryDeny":
		return "BoundaryDeny"
	case "BoundaryFailClosedDeny":
		return "BoundaryFailClosedDeny"
	case "OutsideBoundary":
		return "OutsideBoundary"
	}
	return string(s)
}

// decision reads Decision { allowed, reason, policy: Option<String>,
// statement: Option<u32>, uin: u64 }.
func (d *decoder) decision() Decision {
	var v Decision
	v.Allowed = d.boolean()
	v.Reason = d.reason()
	if d.tag("an Option") {
		p := d.str()
		v.Policy = &p
	}
	if d.tag("an Option") {
		s := d.u32()
		v.Statement = &s
	}
	v.Uin = d.u64()
	return v
}

// wireError reads WireError { code, message }.
func (d *decoder) wireError() *Error {
	code := d.str()
	return &Error{Code: code, Message: d.str()}
}

// response is a decoded Response { id, result, [revision, [decision_id]] }
// for one of the replies a decision client gets. The decision id is in the
// Decision (each Ok item's, for a batch).
type response struct {
	id          uint64
	err         *Error // result is Err
	kind        uint64 // the Reply variant, when Ok
	pong        uint16
	decision    Decision
	results     []Result
	revision    int64
	hasRevision bool
	broken      bool // the connection failed after it (not from the wire)
}

// decodeResponse decodes a response body. Replies other than Pong,
// Decision and Decisions are refused: this client never asks for them.
func decodeResponse(b []byte) (response, error) {
	d := decoder{b: b}
	var r response
	r.id = d.u64()
	if d.tag("a Result") {
		r.err = d.wireError()
	} else {
		r.kind = d.u64()
		switch r.kind {
		case replyPong:
			r.pong = d.u16()
		case replyDecision:
			r.decision = d.decision()
		case replyDecisions:
			n := d.u64()
			// Each answer takes at least 2 bytes: refuse a count the body
			// cannot hold before allocating for it.
			if d.err == nil && n > uint64(len(b)-d.off)/2 {
				d.fail("%d decisions cannot fit in %d bytes", n, len(b)-d.off)
			}
			if d.err == nil {
				r.results = make([]Result, n)
				for i := range r.results {
					if d.tag("a Result") {
						r.results[i].Err = d.wireError()
					} else {
						r.results[i].Decision = d.decision()
					}
					if d.err != nil {
						break
					}
				}
			}
		default:
			d.fail("reply variant %d is not one a decision client asks for", r.kind)
		}
	}
	if d.err == nil && d.off < len(b) {
		// The revision (cluster mode, or the decision log on); then, on
		// a decision, its id (the decision log on). Anything after them
		// is ignored, as the protocol allows.
		r.revision, r.hasRevision = d.i64(), true
		if d.err == nil && d.off < len(b) && r.err == nil {
			switch r.kind {
			case replyDecision:
				r.decision.DecisionID = decisionID(d.u64())
			case replyDecisions:
				setDecisionIDs(r.results, d.u64())
			}
		}
	}
	if d.err != nil {
		return response{}, d.err
	}
	return r, nil
}

// decisionID is an id's text form: 16 lowercase hex digits (%016x).
func decisionID(id uint64) string {
	var buf [16]byte
	appendID(buf[:0], id)
	return string(buf[:])
}

func appendID(b []byte, id uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[id>>uint(shift)&0xf])
	}
	return b
}

// setDecisionIDs gives item i of a batch the id first + i (u64 addition,
// wrapping), its errors none. The ids share one string: one allocation.
func setDecisionIDs(results []Result, first uint64) {
	var all strings.Builder
	all.Grow(16 * len(results))
	var buf [16]byte
	for i := range results {
		all.Write(appendID(buf[:0], first+uint64(i)))
	}
	s := all.String()
	for i := range results {
		if results[i].Err == nil {
			results[i].Decision.DecisionID = s[16*i : 16*i+16]
		}
	}
}
