package camd

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinels for failures of the connection rather than answers of camd;
// test with errors.Is. Every such failure is a *ConnError.
var (
	// ErrConnection: camd could not be reached, or the connection failed
	// (refused, reset, closed, closed in the middle of a frame).
	ErrConnection = errors.New("camd: connection failed")
	// ErrTimeout: no answer in time (the context's deadline or the
	// client's timeout). Timeouts are not retried.
	ErrTimeout = errors.New("camd: timed out")
	// ErrProtocol: camd's bytes made no sense (a garbled frame, a reply
	// to another request or of another shape). The connection is dropped.
	ErrProtocol = errors.New("camd: protocol error")
	// ErrVersion: camd speaks another protocol version.
	ErrVersion = errors.New("camd: protocol version mismatch")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("camd: client closed")
)

// Error is camd's answer when it refuses a question: a CAM error code
// (docs/errors.md), e.g. `ResourceNotFound.UserNotExist`,
// `AuthFailure.InvalidAuthorization`, and camd's message.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "camd: " + e.Code + ": " + e.Message }

// Is matches an *Error with the same Code (so that
// errors.Is(err, &camd.Error{Code: "ResourceNotFound.UserNotExist"}) works).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.Code
}

// Code is the CAM error code of an *Error in err's chain, else "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ConnError is a failure of the connection to camd: Kind is one of
// ErrConnection, ErrTimeout, ErrProtocol, ErrVersion, ErrClosed (matched by
// errors.Is), and Err the cause (os.ErrDeadlineExceeded,
// context.Canceled, syscall.ECONNREFUSED, io.ErrUnexpectedEOF, ...,
// reachable with errors.Is and errors.As).
type ConnError struct {
	Op   string // "dial", "hello", "write", "read", "decode"
	Path string // the socket
	Kind error
	Err  error
}

func (e *ConnError) Error() string {
	kind := "camd"
	if e.Kind != nil {
		kind = e.Kind.Error()
	}
	if e.Err == nil {
		return fmt.Sprintf("%s (%s %s)", kind, e.Op, e.Path)
	}
	return fmt.Sprintf("%s (%s %s): %v", kind, e.Op, e.Path, e.Err)
}

// Unwrap is the cause.
func (e *ConnError) Unwrap() error { return e.Err }

// Is matches the Kind.
func (e *ConnError) Is(target error) bool { return target != nil && target == e.Kind }

// Timeout reports a timeout (as net.Error does).
func (e *ConnError) Timeout() bool { return e.Kind == ErrTimeout }

// redact removes a SecretKey from camd's message, should one ever be there.
func redact(err *Error, a *Ask) *Error {
	if a == nil || a.Key == nil || a.Key.SecretKey == "" || !strings.Contains(err.Message, a.Key.SecretKey) {
		return err
	}
	return &Error{Code: err.Code, Message: strings.ReplaceAll(err.Message, a.Key.SecretKey, "***")}
}

// ctxError is the error for a context that ended during a call.
func ctxError(op, path string, err error) *ConnError {
	var kind error // canceled: only context.Canceled matches
	if errors.Is(err, context.DeadlineExceeded) {
		kind = ErrTimeout
	}
	return &ConnError{Op: op, Path: path, Kind: kind, Err: err}
}
