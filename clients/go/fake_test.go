// Fake camds (net.Listen "unix" here) that misbehave: one that closes in the
// middle of a frame, one that never answers, one that never says hello,
// wrong hellos, a reply to another request, a reply of another shape, a
// garbled body, an oversized frame, an unattributed error. Each must give
// an error (never a hang, never a wrong answer), fast. And a connection
// closed while idle is replaced, the decision retried once.
package camd

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fake serves each connection with handle, after the hello when hello is
// true; it stops with the test.
func fake(t *testing.T, hello bool, handle func(n int, c net.Conn)) string {
	t.Helper()
	path := sockPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				defer c.Close()
				if hello {
					var h [helloLen]byte
					if _, err := io.ReadFull(c, h[:]); err != nil {
						return
					}
					if _, err := c.Write(appendHello(nil, ProtocolVersion)); err != nil {
						return
					}
				}
				handle(n, c)
			}(n)
		}
	}()
	return path
}

// readRequest reads one request frame; its id.
func readRequest(c net.Conn) (uint64, error) {
	var h [4]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return 0, err
	}
	b := make([]byte, binary.BigEndian.Uint32(h[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return 0, err
	}
	d := decoder{b: b}
	return d.u64(), d.err
}

// frameOf is a frame around body.
func frameOf(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// decisionBody is Response { id, Ok(Decision { allowed, "Allow", None, None, uin }) }.
func decisionBody(id uint64, allowed bool, uin uint64) []byte {
	b := appendVarint(nil, id)
	b = append(b, 0, replyDecision)
	if allowed {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, "Allow")
	b = append(b, 0, 0)
	return appendVarint(b, uin)
}

// answer serves decisions forever (allowed, uin = the request's id).
func answer(c net.Conn) {
	for {
		id, err := readRequest(c)
		if err != nil {
			return
		}
		if _, err := c.Write(frameOf(decisionBody(id, true, id))); err != nil {
			return
		}
	}
}

var anAsk = ByUser(UserName("alice"), "im:SendMessage", "*", nil)

// quick fails the test when f takes longer than a second.
func quick(t *testing.T, what string, f func() error) error {
	t.Helper()
	start := time.Now()
	err := f()
	if d := time.Since(start); d > time.Second {
		t.Errorf("%s took %v", what, d)
	}
	return err
}

func dialFake(t *testing.T, path string, opts ...Option) *Client {
	t.Helper()
	c, err := Dial(path, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAServerThatClosesMidFrame(t *testing.T) {
	path := fake(t, true, func(_ int, c net.Conn) {
		id, err := readRequest(c)
		if err != nil {
			return
		}
		f := frameOf(decisionBody(id, true, 1))
		c.Write(f[:len(f)/2])
	})
	c := dialFake(t, path)
	for i := 0; i < 3; i++ { // a fresh connection each time: no retry, each fails
		err := quick(t, "a cut frame", func() error {
			d, err := c.Authorize(context.Background(), anAsk)
			if err == nil {
				t.Errorf("a cut frame gave %v", d)
			}
			return err
		})
		if !errors.Is(err, ErrConnection) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("a cut frame: %v (want ErrConnection, io.ErrUnexpectedEOF)", err)
		}
	}
	// Cut in the length prefix too.
	path = fake(t, true, func(_ int, c net.Conn) {
		if _, err := readRequest(c); err == nil {
			c.Write([]byte{0, 0})
		}
	})
	c = dialFake(t, path)
	if _, err := c.Ping(context.Background()); !errors.Is(err, ErrConnection) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a cut length: %v", err)
	}
}

func TestAServerThatNeverAnswers(t *testing.T) {
	path := fake(t, true, func(_ int, c net.Conn) {
		io.Copy(io.Discard, c) // reads, never writes
	})
	c := dialFake(t, path, WithTimeout(200*time.Millisecond))
	err := quick(t, "the client's timeout", func() error {
		_, err := c.Authorize(context.Background(), anAsk)
		return err
	})
	var ce *ConnError
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ce) || !ce.Timeout() {
		t.Errorf("the client's timeout: %v", err)
	}

	// The context's deadline, with no timeout of the client's.
	c = dialFake(t, path, WithTimeout(0))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = quick(t, "the context's deadline", func() error {
		_, err := c.AuthorizeBatch(ctx, []Ask{anAsk, anAsk})
		return err
	})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the context's deadline: %v", err)
	}

	// A cancelled context.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err = quick(t, "a cancel", func() error {
		_, err := c.Ping(ctx)
		return err
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Errorf("a cancel: %v", err)
	}
	// An ended context is refused before anything is sent.
	if _, err := c.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("an ended context: %v", err)
	}
}

func TestAServerThatNeverSaysHello(t *testing.T) {
	path := fake(t, false, func(_ int, c net.Conn) { io.Copy(io.Discard, c) })
	err := quick(t, "no hello", func() error {
		_, err := Dial(path, WithDialTimeout(200*time.Millisecond))
		return err
	})
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("no hello: %v", err)
	}
	// Closed at once, as camd does over its per-uid limits.
	path = fake(t, false, func(int, net.Conn) {})
	if _, err := Dial(path); !errors.Is(err, ErrConnection) || !(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
		t.Errorf("closed at once: %v", err)
	}
	// No socket at all.
	if _, err := Dial(sockPath(t)); !errors.Is(err, ErrConnection) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("no socket: %v", err)
	}
}

func TestWrongHellos(t *testing.T) {
	for name, tc := range map[string]struct {
		hello []byte
		want  error
	}{
		"another version": {appendHello(nil, 2), ErrVersion},
		"not camd":        {[]byte("HTTP/1"), ErrProtocol},
	} {
		hello := tc.hello
		path := fake(t, false, func(_ int, c net.Conn) {
			var h [helloLen]byte
			io.ReadFull(c, h[:])
			c.Write(hello)
			io.Copy(io.Discard, c)
		})
		_, err := Dial(path)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", name, err)
		}
		if name == "another version" && (err == nil || !containsStr(err.Error(), "camd speaks protocol version 2; this client speaks 1")) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }

func TestGarbledAnswersAreErrors(t *testing.T) {
	replies := map[string]func(id uint64) []byte{
		"another request's id": func(id uint64) []byte { return frameOf(decisionBody(id+1, true, 1)) },
		"a reply of another shape": func(id uint64) []byte {
			return frameOf(append(appendVarint(nil, id), 0, replyPong, 1))
		},
		"a garbled body":   func(id uint64) []byte { return frameOf(append(appendVarint(nil, id), 0, replyDecision, 9)) },
		"a frame of 1 GiB": func(uint64) []byte { return []byte{0x40, 0, 0, 0} },
	}
	for name, reply := range replies {
		reply := reply
		path := fake(t, true, func(_ int, c net.Conn) {
			for {
				id, err := readRequest(c)
				if err != nil {
					return
				}
				c.Write(reply(id))
			}
		})
		c := dialFake(t, path)
		err := quick(t, name, func() error {
			d, err := c.Authorize(context.Background(), anAsk)
			if err == nil {
				t.Errorf("%s: answered %v", name, d)
			}
			return err
		})
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAnUnattributedErrorIsTheCallsError(t *testing.T) {
	// camd answers a request it could not read with id 0.
	path := fake(t, true, func(_ int, c net.Conn) {
		if _, err := readRequest(c); err != nil {
			return
		}
		b := appendVarint(nil, 0)
		b = append(b, 1)
		b = appendString(b, "InvalidParameter.MalformedRequest")
		b = appendString(b, "cannot read it")
		c.Write(frameOf(b))
	})
	c := dialFake(t, path)
	_, err := c.Authorize(context.Background(), anAsk)
	if Code(err) != "InvalidParameter.MalformedRequest" {
		t.Errorf("got %v", err)
	}
}

func TestAConnectionClosedWhileIdleIsReplaced(t *testing.T) {
	// Each connection answers one request, then closes: as camd's idle
	// timeout, or a restart, leaves pooled connections.
	var mu sync.Mutex
	served := 0
	path := fake(t, true, func(_ int, c net.Conn) {
		id, err := readRequest(c)
		if err != nil {
			return
		}
		mu.Lock()
		served++
		mu.Unlock()
		c.Write(frameOf(decisionBody(id, true, id)))
	})
	c := dialFake(t, path, WithPoolSize(1))
	for i := 0; i < 5; i++ {
		d, err := c.Authorize(context.Background(), anAsk)
		if err != nil || !d.Allowed {
			t.Fatalf("call %d: %v %v", i, d, err)
		}
		time.Sleep(10 * time.Millisecond) // let the server's close land
	}
	mu.Lock()
	defer mu.Unlock()
	if served != 5 {
		t.Errorf("served %d", served)
	}
}

func TestCloseEndsTheClient(t *testing.T) {
	path := fake(t, true, func(_ int, c net.Conn) { answer(c) })
	c := dialFake(t, path)
	if d, err := c.Authorize(context.Background(), anAsk); err != nil || !d.Allowed {
		t.Fatalf("before Close: %v %v", d, err)
	}
	c.Close()
	c.Close()
	if _, err := c.Authorize(context.Background(), anAsk); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestTheSecretKeyIsNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-k3y-value"
	a := ByKey("AKIDexample", secret, "im:SendMessage", "*", nil)
	for _, s := range []string{
		a.String(), a.GoString(), a.Key.String(),
		sprintf("%v", a), sprintf("%+v", a), sprintf("%#v", a), sprintf("%s", a), sprintf("%q", a), sprintf("%x", a),
		sprintf("%v", *a.Key), sprintf("%+v", a.Key), sprintf("%#v", a.Key), sprintf("%x", *a.Key),
		sprintf("%v", []Ask{a}), sprintf("%+v", struct{ A Ask }{a}),
		marshal(a), marshal(a.Key),
	} {
		if containsStr(s, secret) {
			t.Errorf("the SecretKey is in %q", s)
		}
	}
	// Nor in an error camd would echo it in.
	e := redact(&Error{Code: "AuthFailure.InvalidAuthorization", Message: "bad key " + secret}, &a)
	if containsStr(e.Error(), secret) {
		t.Errorf("the SecretKey is in %v", e)
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
