// Benchmarks against the real camd (go test -run - -bench . with the scene's
// environment): one decision in flight (mean, and p50/p99 in µs as custom
// metrics), many in flight from parallel goroutines, and batches of 100 on
// one connection.
package camd

import (
	"context"
	"sort"
	"testing"
	"time"
)

var benchAsk = ByUser(UserName("reader"), "im:GetGroupInfo", "qcs::im::uin/100000000001:sdkappid/1400000001",
	[]KV{{"qcs:ip", "10.0.0.1"}})

func BenchmarkOneDecisionInFlight(b *testing.B) {
	c := dialDaemon(b, WithPoolSize(1))
	ctx := context.Background()
	for i := 0; i < 1000; i++ { // warm up
		if _, err := c.Authorize(ctx, benchAsk); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		d, err := c.Authorize(ctx, benchAsk)
		lat[i] = time.Since(start)
		if err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

func BenchmarkOneDecisionWithDeadlineContext(b *testing.B) {
	c := dialDaemon(b, WithPoolSize(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Authorize(ctx, benchAsk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParallelDecisions(b *testing.B) {
	c := dialDaemon(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Authorize(ctx, benchAsk); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkBatchOf100(b *testing.B) {
	c := dialDaemon(b, WithPoolSize(1))
	ctx := context.Background()
	asks := make([]Ask, 100)
	for i := range asks {
		asks[i] = benchAsk
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := c.AuthorizeBatch(ctx, asks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(asks))/time.Since(start).Seconds(), "decisions/s")
}
