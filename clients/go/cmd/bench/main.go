// Command bench prints the Go client's figures as one JSON line, the
// contract every clients/<lang>/bench follows (see README.md, "Bench"):
// one decision in flight (p50/p99 in µs, after 1,000 warm-ups), batches on
// one connection (decisions/s), and camd-api over loopback HTTP as the
// baseline (a TC3-HMAC-SHA256-signed GetUser, p50/p99 in µs). Settings come
// from the environment: CAMD_SOCKET, CAMD_BENCH_N, CAMD_BENCH_BATCH,
// CAMD_BENCH_BATCHES, CAMD_BENCH_HTTP, CAMD_BENCH_KEY_ID,
// CAMD_BENCH_KEY_SECRET, CAMD_BENCH_HTTP_N, CAMD_BENCH_MAX_FRAME_BYTES.
// Diagnostics go to stderr; any failure or wrong answer exits 2.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	camd "github.com/camd/camd/clients/go"
)

const app = "qcs::im::uin/100000000001:sdkappid/1400000001"

var ask = camd.ByUser(camd.UserName("reader"), "im:GetGroupInfo", app, nil)

func envInt(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		fail(fmt.Errorf("%s=%q is not a positive number", name, v))
	}
	return n
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(2)
}

func percentiles(lat []time.Duration) (p50, p99 float64) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return us(lat[len(lat)/2]), us(lat[len(lat)*99/100])
}

func timed(warmup, n int, once func() error) (p50, p99 float64, err error) {
	for i := 0; i < warmup; i++ {
		if err := once(); err != nil {
			return 0, 0, err
		}
	}
	lat := make([]time.Duration, n)
	for i := range lat {
		start := time.Now()
		err := once()
		lat[i] = time.Since(start)
		if err != nil {
			return 0, 0, err
		}
	}
	p50, p99 = percentiles(lat)
	return p50, p99, nil
}

// single is (a): one decision in flight through Client.Authorize.
func single(ctx context.Context, c *camd.Client, n int) (float64, float64, error) {
	return timed(1000, n, func() error {
		d, err := c.Authorize(ctx, ask)
		if err != nil {
			return err
		}
		if !d.Allowed {
			return fmt.Errorf("reader im:GetGroupInfo was not allowed: %v", d)
		}
		return nil
	})
}

// batched is (b): batches of `batch` decisions through AuthorizeBatch on
// one connection. camd refuses a frame over its max_frame_bytes, so a
// batch that would not fit goes as the fewest equal frames that do.
func batched(ctx context.Context, c *camd.Client, batch, batches int) (float64, error) {
	limit := envInt("CAMD_BENCH_MAX_FRAME_BYTES", 65536)
	// A ByUser question's postcard bytes, short strings (1-byte lengths)
	// and no context, with a few bytes to spare; the frame's header besides.
	perAsk := 3 + 2 + len("reader") + 2 + len(ask.Action) + 2 + len(ask.Resource) + 2
	size := batch
	for 32+size*perAsk > limit {
		parts := (batch + size - 1) / size
		size = (batch + parts) / (parts + 1)
	}
	var chunks [][]camd.Ask
	for i := 0; i < batch; i += size {
		n := size
		if batch-i < n {
			n = batch - i
		}
		chunk := make([]camd.Ask, n)
		for j := range chunk {
			chunk[j] = ask
		}
		chunks = append(chunks, chunk)
	}
	if len(chunks) > 1 {
		fmt.Fprintf(os.Stderr, "batched: a batch of %d is %d frames of at most %d (a frame is at most %d bytes)\n",
			batch, len(chunks), size, limit)
	}
	start := time.Now()
	for b := 0; b < batches; b++ {
		for _, chunk := range chunks {
			rs, err := c.AuthorizeBatch(ctx, chunk)
			if err != nil {
				return 0, err
			}
			for _, r := range rs {
				if r.Err != nil || !r.Decision.Allowed {
					return 0, fmt.Errorf("a batched decision was not Allow: %v %v", r.Decision, r.Err)
				}
			}
		}
	}
	return float64(batch*batches) / time.Since(start).Seconds(), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tc3 is the Authorization header of a POST / with a JSON body, signing
// content-type and host, as Tencent's SDKs sign it.
func tc3(secretID, secretKey, host string, body []byte, ts int64, service string) string {
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	const signed = "content-type;host"
	canonical := "POST\n/\n\ncontent-type:application/json\nhost:" + strings.ToLower(host) + "\n\n" + signed + "\n" + sha256Hex(body)
	scope := date + "/" + service + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	return "TC3-HMAC-SHA256 Credential=" + secretID + "/" + scope + ", SignedHeaders=" + signed +
		", Signature=" + hex.EncodeToString(hmacSHA256(k, toSign))
}

// httpBaseline is (c): camd-api over loopback HTTP with net/http (its
// keep-alive), a GetUser signed afresh each time.
func httpBaseline(endpoint, secretID, secretKey string, n int) (float64, float64, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return 0, 0, err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	body := []byte(`{"Name":"reader"}`)
	return timed(100, n, func() error {
		ts := time.Now().Unix()
		req, err := http.NewRequest("POST", endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", tc3(secretID, secretKey, u.Host, body, ts, "cam"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-TC-Action", "GetUser")
		req.Header.Set("X-TC-Version", "2019-01-16")
		req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var out struct {
			Response *struct {
				Error json.RawMessage
			}
		}
		if json.Unmarshal(data, &out) != nil || out.Response == nil {
			return fmt.Errorf("camd-api answered %s without a Response", resp.Status)
		}
		if out.Response.Error != nil {
			return fmt.Errorf("camd-api answered an error: %s", out.Response.Error)
		}
		return nil
	})
}

// nullable is a figure, or null when it was not measured.
type nullable *float64

func some(x float64) nullable {
	r := float64(int64(x*10+0.5)) / 10
	return &r
}

func main() {
	ctx := context.Background()
	c, err := camd.Dial(os.Getenv("CAMD_SOCKET"), camd.WithPoolSize(1))
	if err != nil {
		fail(err)
	}
	defer c.Close()
	p50, p99, err := single(ctx, c, envInt("CAMD_BENCH_N", 20000))
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "single: p50 %.1f µs, p99 %.1f µs\n", p50, p99)
	perSec, err := batched(ctx, c, envInt("CAMD_BENCH_BATCH", 1000), envInt("CAMD_BENCH_BATCHES", 200))
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "batched: %.0f decisions/s\n", perSec)
	var h50, h99 nullable
	if endpoint := os.Getenv("CAMD_BENCH_HTTP"); endpoint != "" {
		a, b, err := httpBaseline(endpoint, os.Getenv("CAMD_BENCH_KEY_ID"), os.Getenv("CAMD_BENCH_KEY_SECRET"),
			envInt("CAMD_BENCH_HTTP_N", 2000))
		if err != nil {
			fail(fmt.Errorf("http: %w", err))
		}
		fmt.Fprintf(os.Stderr, "http: p50 %.1f µs, p99 %.1f µs\n", a, b)
		h50, h99 = some(a), some(b)
	} else {
		fmt.Fprintln(os.Stderr, "CAMD_BENCH_HTTP is unset: no HTTP baseline")
	}
	line, err := json.Marshal(struct {
		Client        string   `json:"client"`
		Wire          string   `json:"wire"`
		SingleP50     nullable `json:"single_p50_us"`
		SingleP99     nullable `json:"single_p99_us"`
		BatchedPerSec int64    `json:"batched_per_sec"`
		HTTPP50       nullable `json:"http_p50_us"`
		HTTPP99       nullable `json:"http_p99_us"`
	}{"go", "binary", some(p50), some(p99), int64(perSec + 0.5), h50, h99})
	if err != nil {
		fail(errors.New("cannot encode the figures"))
	}
	fmt.Println(string(line))
}
