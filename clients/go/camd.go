// Package camd is a client for camd, the local authorization daemon (Tencent
// CAM for Chat): a Chat server process asks it over a Unix socket whether a
// caller may do an action on a resource.
//
//	c, err := camd.Dial("") // $CAMD_SOCKET, else state/camd.sock
//	if err != nil { ... }
//	defer c.Close()
//	d, err := c.AuthorizeUser(ctx, camd.UserName("alice"), "im:SendMessage",
//		"qcs::im::uin/100000000001:sdkappid/1400000001", nil)
//	if err != nil { ... }       // *camd.Error carries the CAM code
//	if d.Allowed { ... }
//
// The client speaks camd's binary protocol (a hello, then length-prefixed
// postcard frames; docs/protocol.md). A Client is safe for concurrent use: it
// keeps a small pool of connections, each used by one call at a time, and
// replaces a connection camd closed (a restart, an idle timeout), retrying
// a decision once when the connection it was sent on turned out closed.
package camd

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// KV is one context key and value (`qcs:ip` = `10.0.0.1`), or one header.
type KV struct {
	Key   string
	Value string
}

// UserRef names a sub-user by name or by uin.
type UserRef struct {
	name  string
	uin   uint64
	byUin bool
}

// UserName refers to a user by name.
func UserName(name string) UserRef { return UserRef{name: name} }

// UserUin refers to a user by uin.
func UserUin(uin uint64) UserRef { return UserRef{uin: uin, byUin: true} }

// String is the name, or `uin:N`.
func (u UserRef) String() string {
	if u.byUin {
		return fmt.Sprintf("uin:%d", u.uin)
	}
	return u.name
}

// Key is an access key presented with a question. Its SecretKey is sent to
// camd and never printed: every fmt verb and JSON show it as `***`.
type Key struct {
	SecretID  string
	SecretKey string
}

// String shows the SecretId only.
func (k Key) String() string { return "Key{SecretID: " + k.SecretID + ", SecretKey: ***}" }

// GoString is String.
func (k Key) GoString() string { return k.String() }

// Format writes String for every verb, so that no verb prints the SecretKey.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// MarshalJSON writes the SecretId only.
func (k Key) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"SecretID":%q,"SecretKey":"***"}`, k.SecretID)), nil
}

// Ask is one authorization question: by user (Key nil) or by access key.
type Ask struct {
	User     UserRef // when Key is nil
	Key      *Key    // by access key when set
	Action   string  // `im:SendMessage`
	Resource string  // `qcs::im::uin/100000000001:sdkappid/1400000001`, or `*`
	Context  []KV    // condition keys, e.g. {"qcs:ip", "10.0.0.1"}
}

// ByUser is a question about a user.
func ByUser(user UserRef, action, resource string, context []KV) Ask {
	return Ask{User: user, Action: action, Resource: resource, Context: context}
}

// ByKey is a question about the owner of an access key (camd checks the key).
func ByKey(secretID, secretKey, action, resource string, context []KV) Ask {
	return Ask{Key: &Key{SecretID: secretID, SecretKey: secretKey}, Action: action,
		Resource: resource, Context: context}
}

// String describes the question without the SecretKey.
func (a Ask) String() string {
	who := "user " + a.User.String()
	if a.Key != nil {
		who = "key " + a.Key.SecretID
	}
	return fmt.Sprintf("Ask{%s may %s on %s %v}", who, a.Action, a.Resource, a.Context)
}

// GoString is String.
func (a Ask) GoString() string { return a.String() }

// Format writes String for every verb, so that no verb prints the SecretKey.
func (a Ask) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// Decision is camd's answer.
type Decision struct {
	Allowed bool
	// Reason: Root, Allow, ExplicitDeny, FailClosedDeny, ImplicitDeny,
	// BoundaryDeny, BoundaryFailClosedDeny or OutsideBoundary.
	Reason string
	// Policy is the deciding policy (the boundary for OutsideBoundary);
	// nil for ImplicitDeny and Root.
	Policy *string
	// Statement is the deciding statement's index in Policy, when one decided.
	Statement *uint32
	// Uin is the user's uin (the signer's, for a signed request).
	Uin uint64
	// DecisionID is the id of the decision's record in camd's decision log
	// (16 lowercase hex digits, as the record's decision_id), or "" when
	// camd's log is off. A batch's items have consecutive ids.
	DecisionID string
}

// String is `Allow (Allow by policy P statement[0])`-like.
func (d Decision) String() string {
	verdict := "Deny"
	if d.Allowed {
		verdict = "Allow"
	}
	switch {
	case d.Policy != nil && d.Statement != nil:
		return fmt.Sprintf("%s: %s by policy `%s` statement[%d]", verdict, d.Reason, *d.Policy, *d.Statement)
	case d.Policy != nil:
		return fmt.Sprintf("%s: %s (policy `%s`)", verdict, d.Reason, *d.Policy)
	}
	return verdict + ": " + d.Reason
}

// Result is one answer of a batch: a Decision, or Err (an *Error) for that
// question alone.
type Result struct {
	Decision Decision
	Err      error
}

// SignedRequest is a TC3-HMAC-SHA256-signed HTTP request exactly as the
// caller's server received it.
type SignedRequest struct {
	Method  string // `POST`
	Path    string // `/`, as received (not decoded)
	Query   string // without `?`
	Headers []KV   // as received, any case, the Authorization header included
	// Body is the bytes received, never a re-serialized body.
	Body []byte
	// BodySHA256, when set, is their SHA-256 in hex instead of Body (a
	// streamed body).
	BodySHA256 string
}

// FromHTTP is the SignedRequest of an *http.Request a net/http server
// received and the body it read from it. The Host header, which net/http
// moves to r.Host, is put back.
func FromHTTP(r *http.Request, body []byte) SignedRequest {
	path, query := r.URL.EscapedPath(), r.URL.RawQuery
	if r.RequestURI != "" && strings.HasPrefix(r.RequestURI, "/") {
		path = r.RequestURI
		query = ""
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path, query = path[:i], path[i+1:]
		}
	}
	headers := make([]KV, 0, len(r.Header)+1)
	if r.Host != "" && r.Header.Get("Host") == "" {
		headers = append(headers, KV{"Host", r.Host})
	}
	for name, values := range r.Header {
		for _, v := range values {
			headers = append(headers, KV{name, v})
		}
	}
	return SignedRequest{Method: r.Method, Path: path, Query: query, Headers: headers, Body: body}
}

// InstalledSocket is where the systemd units put camd's socket.
const InstalledSocket = "/run/camd/camd.sock"

// DefaultSocket is camd's socket when none is given: $CAMD_SOCKET, else
// `state/camd.sock`, or InstalledSocket when only it exists.
func DefaultSocket() string {
	if p := os.Getenv("CAMD_SOCKET"); p != "" {
		return p
	}
	const local = "state/camd.sock"
	if _, err := os.Stat(local); err != nil {
		if _, err := os.Stat(InstalledSocket); err == nil {
			return InstalledSocket
		}
	}
	return local
}
