// One Client shared by goroutines against the real camd: 16 goroutines x
// 200 decisions, each checked against its shared case; and camd
// "restarting" in the middle of a run, played by a proxy in front of camd's
// socket that drops every connection (and, once, its listener): the client
// reconnects, and no answer is ever wrong.
package camd

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSixteenGoroutinesShareOneClient(t *testing.T) {
	c := dialDaemon(t)
	cases := sharedCases(t)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	var wrong atomic.Int32
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				sc := &cases[(g+i)%len(cases)]
				var d Decision
				var err error
				if i%3 == 0 {
					// Now and then through the batch path, with a neighbour.
					other := &cases[(g+i+1)%len(cases)]
					var rs []Result
					rs, err = c.AuthorizeBatch(ctx, []Ask{sc.ask(), other.ask()})
					if err == nil {
						d, err = rs[0].Decision, rs[0].Err
						other.check(t, rs[1].Decision, rs[1].Err)
					}
				} else {
					d, err = c.Authorize(ctx, sc.ask())
				}
				before := t.Failed()
				sc.check(t, d, err)
				if !before && t.Failed() {
					wrong.Add(1)
				}
			}
		}(g)
	}
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d goroutines got a wrong answer", n)
	}
}

// proxy forwards connections on its own socket to camd's, and can drop
// them all (camd restarting) or stop listening (camd down).
type proxy struct {
	t      *testing.T
	path   string
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, path: sockPath(t), target: target}
	p.listen()
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

func (p *proxy) listen() {
	l, err := net.Listen("unix", p.path)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("unix", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			p.wg.Add(2)
			pipe := func(a, b net.Conn) {
				defer p.wg.Done()
				io.Copy(a, b)
				a.Close()
				b.Close()
			}
			go pipe(in, out)
			go pipe(out, in)
		}
	}()
}

// drop closes every connection (camd restarted, its socket kept).
func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// down drops the connections and the listener (camd stopped).
func (p *proxy) down() {
	p.mu.Lock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	p.mu.Unlock()
	p.drop()
	os.Remove(p.path)
}

func TestCamdRestartedInTheMiddleOfARun(t *testing.T) {
	p := newProxy(t, daemon(t))
	c, err := Dial(p.path, WithPoolSize(4))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cases := sharedCases(t)
	ctx := testCtx(t)
	ask := func(i int) error {
		sc := &cases[i%len(cases)]
		d, err := c.Authorize(ctx, sc.ask())
		if err != nil && errors.Is(err, ErrConnection) {
			return err // a connection failure: no answer, not a wrong one
		}
		sc.check(t, d, err)
		return nil
	}

	// Between calls: every pooled connection is dead; each call still
	// gets its answer (the retry on a new connection).
	for round := 0; round < 3; round++ {
		for i := 0; i < 20; i++ {
			if err := ask(i); err != nil {
				t.Fatalf("round %d call %d: %v", round, i, err)
			}
		}
		p.drop()
	}

	// During calls, from 4 goroutines: answers are right or errors.
	var wg sync.WaitGroup
	var failed atomic.Int32
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if ask(g+i) != nil {
					failed.Add(1)
				}
			}
		}(g)
	}
	for i := 0; i < 10; i++ {
		time.Sleep(20 * time.Millisecond)
		p.drop()
	}
	close(stop)
	wg.Wait()
	t.Logf("while connections were dropped under load: %d calls failed (cut mid-answer), none wrong", failed.Load())

	// camd down: calls fail fast with ErrConnection, no hang.
	p.down()
	start := time.Now()
	if _, err := c.Authorize(ctx, cases[0].ask()); !errors.Is(err, ErrConnection) {
		t.Errorf("camd down: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("camd down: the call took %v", time.Since(start))
	}
	// camd back on the same path: answers again.
	p.listen()
	for i := 0; i < 20; i++ {
		if err := ask(i); err != nil {
			t.Fatalf("camd back, call %d: %v", i, err)
		}
	}
}

func TestAPoolOfOneServesManyGoroutines(t *testing.T) {
	c := dialDaemon(t, WithPoolSize(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := c.Ping(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
