package camd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults of the Options.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultDialTimeout = 2 * time.Second
	DefaultPoolSize    = 8
)

type config struct {
	timeout     time.Duration
	dialTimeout time.Duration
	poolSize    int
}

// An Option configures Dial.
type Option func(*config)

// WithTimeout bounds each call (its write and its answer) when the
// context has no earlier deadline; 0 leaves only the context's deadline.
// Default 5s.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithDialTimeout bounds connecting and the hello. Default 2s.
func WithDialTimeout(d time.Duration) Option { return func(c *config) { c.dialTimeout = d } }

// WithPoolSize is the most connections the client holds; that many calls
// run at once, the others wait for a connection. Default 8 (camd lets one
// uid hold 256).
func WithPoolSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.poolSize = n
		}
	}
}

// Client is a connection pool to camd; safe for concurrent use.
type Client struct {
	path   string
	cfg    config
	nextID atomic.Uint64
	idle   chan *conn    // connections not in use
	slots  chan struct{} // one token per open connection
	done   chan struct{} // closed by Close
	closed atomic.Bool
	once   sync.Once
}

// Dial connects to camd's socket at path ("": DefaultSocket) and
// exchanges the hello, so that a missing or wrong daemon is reported now.
func Dial(path string, opts ...Option) (*Client, error) {
	if path == "" {
		path = DefaultSocket()
	}
	cfg := config{timeout: DefaultTimeout, dialTimeout: DefaultDialTimeout, poolSize: DefaultPoolSize}
	for _, o := range opts {
		o(&cfg)
	}
	c := &Client{
		path:  path,
		cfg:   cfg,
		idle:  make(chan *conn, cfg.poolSize),
		slots: make(chan struct{}, cfg.poolSize),
		done:  make(chan struct{}),
	}
	cn, err := c.dial(context.Background())
	if err != nil {
		return nil, err
	}
	c.slots <- struct{}{}
	c.idle <- cn
	return c, nil
}

// Path is the socket's path.
func (c *Client) Path() string { return c.path }

// String names the socket.
func (c *Client) String() string { return "camd.Client(" + c.path + ")" }

// Close closes the idle connections, and the others as their calls end;
// calls after it fail with ErrClosed.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.closed.Store(true)
		close(c.done)
		c.flushIdle()
	})
	return nil
}

// flushIdle closes every idle connection.
func (c *Client) flushIdle() {
	for {
		select {
		case cn := <-c.idle:
			c.discard(cn)
		default:
			return
		}
	}
}

func (c *Client) discard(cn *conn) {
	cn.close()
	<-c.slots
}

func (c *Client) put(cn *conn) {
	if c.closed.Load() {
		c.discard(cn)
		return
	}
	c.idle <- cn // never blocks: one place per slot
	if c.closed.Load() {
		c.flushIdle() // Close may have drained before our put
	}
}

func (c *Client) errClosed() error {
	return &ConnError{Op: "call", Path: c.path, Kind: ErrClosed}
}

// get takes an idle connection, or dials one when the pool has room, or
// waits for one.
func (c *Client) get(ctx context.Context) (*conn, error) {
	if c.closed.Load() {
		return nil, c.errClosed()
	}
	select {
	case cn := <-c.idle:
		return cn, nil
	default:
	}
	select {
	case cn := <-c.idle:
		return cn, nil
	case c.slots <- struct{}{}:
		cn, err := c.dial(ctx)
		if err != nil {
			<-c.slots
			return nil, err
		}
		return cn, nil
	case <-ctx.Done():
		return nil, ctxError("wait for a connection", c.path, ctx.Err())
	case <-c.done:
		return nil, c.errClosed()
	}
}

// deadline is the earlier of the context's deadline and now + d (none: zero).
func deadline(ctx context.Context, d time.Duration) time.Time {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	if cd, ok := ctx.Deadline(); ok && (t.IsZero() || cd.Before(t)) {
		t = cd
	}
	return t
}

// dial connects and exchanges the hello.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError("dial", c.path, err)
	}
	until := deadline(ctx, c.cfg.dialTimeout)
	var cn *conn
	for pause := 100 * time.Microsecond; ; pause *= 2 {
		var err error
		cn, err = dialConn(ctx, c.path, until)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil, ctxError("dial", c.path, ctx.Err())
		}
		// camd's listen backlog is full: a non-blocking connect fails
		// with EAGAIN at once; wait a little and try again.
		if errors.Is(err, syscall.EAGAIN) && (until.IsZero() || time.Until(until) > pause) {
			if pause > 10*time.Millisecond {
				pause = 10 * time.Millisecond
			}
			time.Sleep(pause)
			continue
		}
		kind := ErrConnection
		if errors.Is(err, os.ErrDeadlineExceeded) {
			kind = ErrTimeout
		}
		return nil, &ConnError{Op: "dial", Path: c.path, Kind: kind, Err: err}
	}
	stop := cn.watch(ctx)
	cn.wbuf = appendHello(cn.wbuf[:0], ProtocolVersion)
	err := cn.writeAll(cn.wbuf, until)
	var hello []byte
	if err == nil {
		hello, _, err = cn.next(helloLen, until)
	}
	if stop != nil {
		stop()
	}
	fail := func(err error) (*conn, error) {
		cn.close()
		return nil, err
	}
	if err != nil {
		return fail(c.ioError(ctx, "hello", err, true))
	}
	server, err := parseHello(hello)
	if err != nil {
		return fail(&ConnError{Op: "hello", Path: c.path, Kind: ErrProtocol, Err: err})
	}
	if server != ProtocolVersion {
		return fail(&ConnError{Op: "hello", Path: c.path, Kind: ErrVersion,
			Err: fmt.Errorf("camd speaks protocol version %d; this client speaks %d", server, ProtocolVersion)})
	}
	return cn, nil
}

// isClosed tells a connection the peer closed (or reset) before it
// answered anything.
func isClosed(err error) bool {
	return errors.Is(err, errEOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ENOTCONN)
}

// ioError classifies an I/O failure: the context's end, a timeout, or a
// failed connection. closed: nothing of the answer was read yet, so that an
// end of stream is a closed connection (io.EOF) rather than a cut frame
// (io.ErrUnexpectedEOF).
func (c *Client) ioError(ctx context.Context, op string, err error, closed bool) error {
	if ctx.Err() != nil {
		return ctxError(op, c.path, ctx.Err())
	}
	if errors.Is(err, errTimedOut) {
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			// The socket's deadline was the context's, and came first.
			return ctxError(op, c.path, context.DeadlineExceeded)
		}
		return &ConnError{Op: op, Path: c.path, Kind: ErrTimeout, Err: err}
	}
	if errors.Is(err, errEOF) {
		err = io.EOF
		if !closed {
			err = io.ErrUnexpectedEOF
		}
	}
	return &ConnError{Op: op, Path: c.path, Kind: ErrConnection, Err: err}
}

// roundTrip sends one request (with traceparent, unless "") on cn and reads
// its response. retry: the connection was found closed before any byte of
// the answer came.
func (c *Client) roundTrip(ctx context.Context, cn *conn, b body, traceparent string) (r response, retry bool, err error) {
	id := c.nextID.Add(1)
	cn.wbuf = appendFrame(cn.wbuf[:0], id, nil, b, traceparent)
	until := deadline(ctx, c.cfg.timeout)
	stop := cn.watch(ctx)
	if stop != nil {
		defer stop()
	}
	if err := cn.writeAll(cn.wbuf, until); err != nil {
		if isClosed(err) && ctx.Err() == nil {
			// camd may have refused the frame (longer than its
			// max_frame_bytes) with an error before closing: say that.
			if r, ok := c.refusal(cn, id, until); ok {
				return r, false, nil
			}
		}
		return r, isClosed(err), c.ioError(ctx, "write", err, true)
	}
	hdr, got, err := cn.next(4, until)
	if err != nil {
		return r, got == 0 && isClosed(err), c.ioError(ctx, "read", err, got == 0)
	}
	n := binary.BigEndian.Uint32(hdr)
	if n > maxResponse {
		return r, false, &ConnError{Op: "read", Path: c.path, Kind: ErrProtocol,
			Err: fmt.Errorf("a response frame of %d bytes (at most %d)", n, maxResponse)}
	}
	frame, _, err := cn.next(int(n), until)
	if err != nil {
		return r, false, c.ioError(ctx, "read", err, false)
	}
	r, err = decodeResponse(frame)
	cn.shrink()
	if err != nil {
		return r, false, &ConnError{Op: "decode", Path: c.path, Kind: ErrProtocol, Err: err}
	}
	if r.id != id && !(r.id == 0 && r.err != nil) {
		return r, false, &ConnError{Op: "decode", Path: c.path, Kind: ErrProtocol,
			Err: fmt.Errorf("response %d for request %d", r.id, id)}
	}
	return r, false, nil
}

// refusal is an error response camd sent before closing a connection it
// refused a request on (read for at most 100 ms).
func (c *Client) refusal(cn *conn, id uint64, until time.Time) (response, bool) {
	if soon := time.Now().Add(100 * time.Millisecond); until.IsZero() || soon.Before(until) {
		until = soon
	}
	hdr, _, err := cn.next(4, until)
	if err != nil {
		return response{}, false
	}
	n := binary.BigEndian.Uint32(hdr)
	if n > maxResponse {
		return response{}, false
	}
	frame, _, err := cn.next(int(n), until)
	if err != nil {
		return response{}, false
	}
	r, err := decodeResponse(frame)
	if err != nil || r.err == nil || (r.id != 0 && r.id != id) {
		return response{}, false
	}
	r.broken = true
	return r, true
}

// call sends one request and returns its response with Ok(reply of
// `want`); an Err result is returned as an *Error. A decision sent on a
// connection found closed is sent again once on a new one. decision: send
// the context's traceparent.
func (c *Client) call(ctx context.Context, b body, want uint64, ask *Ask, decision bool) (response, error) {
	if err := ctx.Err(); err != nil {
		return response{}, ctxError("call", c.path, err)
	}
	traceparent := ""
	if decision {
		traceparent = Traceparent(ctx)
	}
	for attempt := 0; ; attempt++ {
		cn, err := c.get(ctx)
		if err != nil {
			return response{}, err
		}
		used := cn.used
		cn.used = true
		r, retry, err := c.roundTrip(ctx, cn, b, traceparent)
		if err != nil {
			c.discard(cn)
			if retry && used && attempt == 0 && ctx.Err() == nil {
				// camd restarted or timed the connection out: the
				// other idle ones are likely gone as well.
				c.flushIdle()
				continue
			}
			return response{}, err
		}
		if r.err == nil && r.kind != want {
			c.discard(cn)
			return response{}, &ConnError{Op: "decode", Path: c.path, Kind: ErrProtocol,
				Err: fmt.Errorf("reply variant %d to a request expecting %d", r.kind, want)}
		}
		if r.id == 0 || r.broken {
			// An error camd could not tie to a request (a frame it
			// could not read), after which it may close the
			// connection; or one it did close.
			c.discard(cn)
		} else {
			c.put(cn)
		}
		if r.err != nil {
			return response{}, redact(r.err, ask)
		}
		return r, nil
	}
}

// Authorize decides one question.
func (c *Client) Authorize(ctx context.Context, ask Ask) (Decision, error) {
	r, err := c.call(ctx, authorizeBody{&ask}, replyDecision, &ask, true)
	return r.decision, err
}

// AuthorizeUser asks whether the user may do action on resource.
func (c *Client) AuthorizeUser(ctx context.Context, user UserRef, action, resource string, context []KV) (Decision, error) {
	return c.Authorize(ctx, ByUser(user, action, resource, context))
}

// AuthorizeKey asks whether the owner of an access key may do action on
// resource; camd checks the key first (AuthFailure.InvalidAuthorization
// for an unknown, wrong or disabled one).
func (c *Client) AuthorizeKey(ctx context.Context, secretID, secretKey, action, resource string, context []KV) (Decision, error) {
	return c.Authorize(ctx, ByKey(secretID, secretKey, action, resource, context))
}

// AuthorizeBatch decides several questions in one frame (at most 4,096,
// camd's max_batch_items): one Result per Ask, in order, each a Decision
// or that question's *Error. An error for the whole batch (e.g.
// LimitExceeded.BatchSize) is the error.
func (c *Client) AuthorizeBatch(ctx context.Context, asks []Ask) ([]Result, error) {
	if len(asks) == 0 {
		return []Result{}, nil
	}
	r, err := c.call(ctx, batchBody{asks}, replyDecisions, nil, true)
	if err != nil {
		return nil, err
	}
	if len(r.results) != len(asks) {
		return nil, &ConnError{Op: "decode", Path: c.path, Kind: ErrProtocol,
			Err: fmt.Errorf("%d answers to %d questions", len(r.results), len(asks))}
	}
	for i := range r.results {
		if e, ok := r.results[i].Err.(*Error); ok {
			r.results[i].Err = redact(e, &asks[i])
		}
	}
	return r.results, nil
}

// AuthorizeSigned has camd verify a TC3-HMAC-SHA256-signed request and
// decide for its signer: resource and context as for Authorize; action is
// the action (`im:SendMessage`), or only the asking service (`im`) for
// `im:<X-TC-Action>` when the signature covers x-tc-action (the scope must
// name that service). nil: camd answers MissingParameter.
func (c *Client) AuthorizeSigned(ctx context.Context, req SignedRequest, resource string, context []KV, action *string) (Decision, error) {
	r, err := c.call(ctx, signedBody{req: &req, resource: resource, context: context, action: action}, replyDecision, nil, true)
	return r.decision, err
}

// AuthorizeAt decides once camd's host has reached minRevision of the
// cluster's shared truth (cluster mode; FailedOperation.ClusterRevisionNotReached
// if it does not in time).
func (c *Client) AuthorizeAt(ctx context.Context, minRevision int64, ask Ask) (Decision, error) {
	r, err := c.call(ctx, atBody{minRevision: minRevision, ask: &ask}, replyDecision, &ask, true)
	return r.decision, err
}

// Ping checks that camd answers; it returns camd's protocol version.
func (c *Client) Ping(ctx context.Context) (uint16, error) {
	r, err := c.call(ctx, pingBody{}, replyPong, nil, false)
	return r.pong, err
}
