// A real restart: camd SIGKILLed and started again by the scene's restart
// service ($CAMD_TEST_RESTART_SOCKET) under a running Client: the same
// Client answers right afterwards, reconnecting by itself, and goroutines
// asking across the restart never get a wrong answer.
package camd

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const restartApp = "qcs::im::uin/100000000001:sdkappid/1400000001"

// restartService is $CAMD_TEST_RESTART_SOCKET, or the test is skipped.
func restartService(t *testing.T) string {
	t.Helper()
	p := os.Getenv("CAMD_TEST_RESTART_SOCKET")
	if p == "" {
		t.Skip("CAMD_TEST_RESTART_SOCKET is unset: no restart service to restart camd with")
	}
	return p
}

// restartCamd asks the service to kill camd and start it again; it returns
// once camd serves again.
func restartCamd(t *testing.T, service string) {
	t.Helper()
	c, err := net.DialTimeout("unix", service, 5*time.Second)
	if err != nil {
		t.Fatalf("the restart service: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte("restart\n")); err != nil {
		t.Fatalf("the restart service: %v", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "ok\n" {
		t.Fatalf("the restart service answered %q (%v)", line, err)
	}
}

// rightAnswer: reader may im:GetGroupInfo, by QcloudChatReadOnlyAccess statement 0.
func rightAnswer(d Decision) bool {
	return d.Allowed && d.Reason == "Allow" && d.Policy != nil && *d.Policy == "QcloudChatReadOnlyAccess" &&
		d.Statement != nil && *d.Statement == 0
}

func TestTheSameClientAnswersAfterARealRestart(t *testing.T) {
	service := restartService(t)
	c := dialDaemon(t, WithPoolSize(1))
	ctx := testCtx(t)
	ask := ByUser(UserName("reader"), "im:GetGroupInfo", restartApp, nil)
	d, err := c.Authorize(ctx, ask)
	if err != nil || !rightAnswer(d) {
		t.Fatalf("before the restart: %v %v", d, err)
	}
	restartCamd(t, service)
	// camd serves again: a connection error now is a failure.
	d, err = c.Authorize(ctx, ask)
	if err != nil || !rightAnswer(d) {
		t.Fatalf("the same client after the restart: %v %v", d, err)
	}
}

func TestGoroutinesAskingAcrossARealRestartGetOnlyRightAnswers(t *testing.T) {
	service := restartService(t)
	c := dialDaemon(t, WithTimeout(2*time.Second))
	ask := ByUser(UserName("reader"), "im:GetGroupInfo", restartApp, nil)
	var stop, restarted atomic.Bool
	var right, rightAfter, connErrors, wrong atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				d, err := c.Authorize(context.Background(), ask)
				switch {
				case err != nil && errors.Is(err, ErrConnection):
					connErrors.Add(1) // camd was down: counted, never an answer
					time.Sleep(5 * time.Millisecond)
				case err == nil && rightAnswer(d):
					right.Add(1)
					if restarted.Load() {
						rightAfter.Add(1)
					}
				default:
					wrong.Add(1)
					t.Errorf("a wrong answer across the restart: %v %v", d, err)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	restartCamd(t, service)
	restarted.Store(true)
	time.Sleep(700 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	t.Logf("restart: %d right answers (%d after it), %d connection errors while camd was down",
		right.Load(), rightAfter.Load(), connErrors.Load())
	if wrong.Load() > 0 {
		t.Errorf("%d wrong answers", wrong.Load())
	}
	if rightAfter.Load() == 0 {
		t.Error("no right answer after the restart")
	}
}
