package handlers_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

// BenchmarkPullRequestEvent measures one pull_request event end to end
// (handler → runner → emulated GitHub with 20 ms per request): API calls
// per event and latency percentiles. The token and org-config caches are
// warm after the first event, as in a running App.
//
//	go test ./handlers -run '^$' -bench PullRequestEvent -benchtime 50x
func BenchmarkPullRequestEvent(b *testing.B) {
	f := newFixture(b, githubtest.WithLatency(20*time.Millisecond))
	var prs []int
	for i := 0; i < b.N+1; i++ {
		prs = append(prs, f.pr(fmt.Sprintf("b%d", i), map[string]string{
			fmt.Sprintf("apps/web/f%d.go", i): "package main\n",
			"infra/vars.tf":                   fmt.Sprintf("variable \"x%d\" {}\n", i),
		}))
	}
	// Warm the installation token and the org-config cache.
	if err := f.deliver("pull_request", f.gh.PullRequestEvent("opened", f.repo, prs[b.N])); err != nil {
		b.Fatal(err)
	}
	f.gh.ResetCalls()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		payload := f.gh.PullRequestEvent("opened", f.repo, prs[i])
		start := time.Now()
		if err := f.deliver("pull_request", payload); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(f.gh.Calls().Total)/float64(b.N), "calls/event")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Milliseconds()), "p99-ms")
}
