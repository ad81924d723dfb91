package camd

// One connection to camd, used by one call at a time, on a blocking socket.
//
// Why blocking: a decision's round trip is tens of microseconds. Through
// Go's network poller (net.Conn) a read that has to wait parks the
// goroutine and is woken by the poller: against camd that measured 1.33x a
// C client's p50, where a thread blocked in read(2), as the Rust client's
// is, measured 1.12x (the README has the figures). So the connection is made with net.Dialer (its
// deadline and context), then its descriptor is taken out of the poller,
// made blocking, and used with read(2) and sendmsg(2): the Go runtime hands
// the goroutine's processor to others while it waits. Deadlines are
// SO_RCVTIMEO and SO_SNDTIMEO; a cancelled context shuts the socket down.

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// errTimedOut is the cause of a timeout (os.ErrDeadlineExceeded, as
// net.Conn reports it).
var errTimedOut = os.ErrDeadlineExceeded

const (
	readBufSize = 16 << 10
	// keepBuf: buffers grown past this (a large batch) are not kept.
	keepBuf = 64 << 10
)

type conn struct {
	fd   int
	buf  []byte // read buffer: buf[r:w] is read and not yet used
	r, w int
	wbuf []byte
	rto  time.Duration // SO_RCVTIMEO as set (0: none)
	sto  time.Duration // SO_SNDTIMEO as set
	used bool          // it has carried a request: a failure may be a connection camd closed

	mu     sync.Mutex // guards gen and closed against a context's watcher
	gen    uint64     // which call the watcher may interrupt
	closed bool
}

// dialConn connects to path before until (zero: no limit) or ctx's end.
func dialConn(ctx context.Context, path string, until time.Time) (*conn, error) {
	d := net.Dialer{Deadline: until}
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	raw, err := nc.(*net.UnixConn).SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, s, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			dupErr = os.NewSyscallError("fcntl", e)
			return
		}
		fd = int(r)
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, dupErr
	}
	// The duplicate shares the file's O_NONBLOCK flag; the original is
	// closed (and leaves the poller) as this returns.
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	cn := &conn{fd: fd, buf: make([]byte, readBufSize)}
	runtime.SetFinalizer(cn, (*conn).close) // a Client dropped without Close
	return cn, nil
}

// close closes the socket (once).
func (cn *conn) close() {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if !cn.closed {
		cn.closed = true
		cn.gen++
		syscall.Close(cn.fd)
		runtime.SetFinalizer(cn, nil)
	}
}

// watchDelay is how long a call runs before a watcher of its context's
// cancellation starts: a call answered sooner (nearly all) costs a timer,
// not a goroutine; a cancel is noticed within it. Deadlines need no
// watcher: they are the socket's timeouts.
const watchDelay = time.Millisecond

// watch makes ctx's cancellation shut the socket down, which ends a
// blocked read or write; the function it returns ends the watch (nil:
// the context cannot be cancelled).
func (cn *conn) watch(ctx context.Context) func() {
	done := ctx.Done()
	if done == nil {
		return nil
	}
	cn.mu.Lock()
	cn.gen++
	g := cn.gen
	cn.mu.Unlock()
	stop := make(chan struct{})
	timer := time.AfterFunc(watchDelay, func() {
		select {
		case <-done:
			cn.mu.Lock()
			if cn.gen == g && !cn.closed {
				syscall.Shutdown(cn.fd, syscall.SHUT_RDWR)
			}
			cn.mu.Unlock()
		case <-stop:
		}
	})
	return func() {
		if !timer.Stop() {
			close(stop) // the watcher runs: release it
		}
		cn.mu.Lock()
		cn.gen++
		cn.mu.Unlock()
	}
}

// setTimeout sets SO_RCVTIMEO or SO_SNDTIMEO (opt) for I/O that must end
// by until (zero: never), when the one set would overshoot it by more than
// a millisecond or wake far too early; errTimedOut when until has passed.
func (cn *conn) setTimeout(opt int, set *time.Duration, until time.Time) error {
	var want time.Duration
	if !until.IsZero() {
		want = time.Until(until)
		if want <= 0 {
			return errTimedOut
		}
	}
	cur := *set
	switch {
	case want == 0 && cur == 0:
		return nil
	case want != 0 && cur != 0 && cur <= want+time.Millisecond && cur >= want/2:
		return nil
	}
	tv := syscall.NsecToTimeval(want.Nanoseconds())
	if want > 0 && tv.Sec == 0 && tv.Usec == 0 {
		tv.Usec = 1 // 0 would mean no timeout
	}
	if err := syscall.SetsockoptTimeval(cn.fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	*set = want
	return nil
}

// writeAll writes p before until.
func (cn *conn) writeAll(p []byte, until time.Time) error {
	for len(p) > 0 {
		if err := cn.setTimeout(syscall.SO_SNDTIMEO, &cn.sto, until); err != nil {
			return err
		}
		// MSG_NOSIGNAL: a closed peer is EPIPE, not a SIGPIPE.
		n, err := syscall.SendmsgN(cn.fd, p, nil, nil, syscall.MSG_NOSIGNAL)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			continue // the timeout: setTimeout tells whether until has passed
		case err != nil:
			return os.NewSyscallError("write", err)
		}
		p = p[n:]
	}
	runtime.KeepAlive(cn)
	return nil
}

// errEOF is the end of the stream (read returned 0).
var errEOF = errors.New("EOF")

// fill reads at least one more byte into buf before until.
func (cn *conn) fill(until time.Time) error {
	if cn.r > 0 && cn.r == cn.w {
		cn.r, cn.w = 0, 0
	}
	if cn.w == len(cn.buf) {
		copy(cn.buf, cn.buf[cn.r:cn.w])
		cn.w -= cn.r
		cn.r = 0
	}
	for {
		if err := cn.setTimeout(syscall.SO_RCVTIMEO, &cn.rto, until); err != nil {
			return err
		}
		n, err := syscall.Read(cn.fd, cn.buf[cn.w:])
		switch {
		case err == syscall.EINTR || err == syscall.EAGAIN:
			continue
		case err != nil:
			return os.NewSyscallError("read", err)
		case n == 0:
			return errEOF
		}
		cn.w += n
		runtime.KeepAlive(cn)
		return nil
	}
}

// next returns the next n bytes (valid until the next read), reading
// before until; got is how many of them had come when it failed.
func (cn *conn) next(n int, until time.Time) (p []byte, got int, err error) {
	if n > len(cn.buf) {
		grown := make([]byte, n)
		cn.w = copy(grown, cn.buf[cn.r:cn.w])
		cn.r = 0
		cn.buf = grown
	} else if len(cn.buf)-cn.r < n {
		cn.w = copy(cn.buf, cn.buf[cn.r:cn.w])
		cn.r = 0
	}
	for cn.w-cn.r < n {
		if err := cn.fill(until); err != nil {
			return nil, cn.w - cn.r, err
		}
	}
	p = cn.buf[cn.r : cn.r+n]
	cn.r += n
	return p, n, nil
}

// shrink drops a read buffer a large response grew, once it is used up.
func (cn *conn) shrink() {
	if len(cn.buf) > keepBuf && cn.r == cn.w {
		cn.buf = make([]byte, readBufSize)
		cn.r, cn.w = 0, 0
	}
	if cap(cn.wbuf) > keepBuf {
		cn.wbuf = nil
	}
}
