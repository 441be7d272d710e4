package githubtest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/githubtest"
)

func TestServerErrorsAreSeeded(t *testing.T) {
	statuses := func() map[int]int {
		s := githubtest.New(t, githubtest.WithSeed(42), githubtest.WithFaults(githubtest.Fault{
			Kind: githubtest.FaultServerError, Rate: 0.3, Operation: "GET /repos/{owner}/{repo}",
		}))
		s.AddRepo(githubtest.Repo{Owner: "o", Name: "r"})
		c := tokenClient(t, s, s.InstallationToken(s.AddInstallation(githubtest.Installation{Account: "o", All: true})))
		for range 100 {
			c.Repositories.Get(ctx, "o", "r")
		}
		return s.Calls().ByStatus
	}
	a, b := statuses(), statuses()
	failed := a[502] + a[503]
	if failed < 15 || failed > 45 || a[502] == 0 || a[503] == 0 || a[200] != 100-failed {
		t.Errorf("statuses %v: want about 30%% 502/503", a)
	}
	if a[502] != b[502] || a[503] != b[503] {
		t.Errorf("same seed, different faults: %v vs %v", a, b)
	}
}

func TestRateLimitsAndFaults(t *testing.T) {
	f := newFixture(t)
	s, c := f.s, f.client
	// go-github remembers a rate limit and refuses to call until it ends,
	// so each case uses a fresh client.
	repo := func() error {
		_, _, err := tokenClient(t, s, s.InstallationToken(f.inst)).Repositories.Get(ctx, "acme", "infra")
		return err
	}

	// Rate headers on every answer.
	_, resp, err := c.Repositories.Get(ctx, "acme", "infra")
	if err != nil || resp.Rate.Limit != 5000 || resp.Rate.Remaining >= 5000 || resp.Header.Get("X-RateLimit-Resource") != "core" {
		t.Errorf("rate %+v, %v", resp.Rate, err)
	}
	rl := must[*github.RateLimits](t)(c.RateLimit.Get(ctx))
	if rl.GetCore().Limit != 5000 || rl.GetCore().Remaining != resp.Rate.Remaining {
		t.Errorf("rate_limit core %+v vs header %+v", rl.GetCore(), resp.Rate)
	}

	t.Run("secondary", func(t *testing.T) {
		s.AddFault(githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit, Times: 1, RetryAfter: 30 * time.Second})
		var abuse *github.AbuseRateLimitError
		if err := repo(); !errors.As(err, &abuse) || abuse.GetRetryAfter() != 30*time.Second || !strings.Contains(abuse.Message, "secondary rate limit") {
			t.Errorf("got %v", err)
		}
		if err := repo(); err != nil {
			t.Errorf("fault should have stopped after one hit: %v", err)
		}
	})
	t.Run("secondary 429", func(t *testing.T) {
		s.AddFault(githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit, Times: 1, Status: 429})
		_, resp, err := tokenClient(t, s, s.InstallationToken(f.inst)).Repositories.Get(ctx, "acme", "infra")
		if err == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "60" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("low budget", func(t *testing.T) {
		reset := s.SetRateLimitRemaining(f.inst, 7)
		_, resp, err := tokenClient(t, s, s.InstallationToken(f.inst)).Repositories.Get(ctx, "acme", "infra")
		// The request itself takes one of the 7.
		if err != nil || resp.Rate.Limit != 5000 || resp.Rate.Remaining != 6 || !resp.Rate.Reset.Time.Equal(reset) {
			t.Errorf("rate %+v (reset %s), %v; want 6 of 5000 left until %s", resp.Rate, resp.Rate.Reset, err, reset)
		}
	})
	t.Run("primary exhausted", func(t *testing.T) {
		s.ExhaustRateLimit(f.inst)
		var rle *github.RateLimitError
		err := repo()
		if !errors.As(err, &rle) || rle.Rate.Remaining != 0 || rle.Rate.Reset.Before(time.Now()) {
			t.Errorf("got %v", err)
		}
		if hits := s.LimitHits(); len(hits) != 1 || hits[0].Kind != "primary" {
			t.Errorf("limit hits %v", hits)
		}
	})
}

func TestContentCreationCeiling(t *testing.T) {
	f := newFixture(t, githubtest.WithContentCreationLimit(3))
	post := func() (*github.Response, error) {
		_, resp, err := f.client.Issues.CreateComment(ctx, "acme", "infra", f.prNum, &github.IssueComment{Body: github.String("x")})
		return resp, err
	}
	for i := range 3 {
		if _, err := post(); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	resp, err := post()
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth post: %v", err)
	}
	if hits := f.s.LimitHits(); len(hits) != 1 || hits[0].Kind != "content-creation" || hits[0].InstallationID != f.inst {
		t.Errorf("limit hits %v", hits)
	}
	if n := len(f.s.Comments("acme", "infra", f.prNum)); n != 3 {
		t.Errorf("%d comments posted", n)
	}
	// Reads are not content-creating.
	if _, _, err := installationClient(t, f.s, f.inst).Issues.ListComments(ctx, "acme", "infra", f.prNum, nil); err != nil {
		t.Errorf("read after the ceiling: %v", err)
	}
}

func TestTimeoutLatencyAndTokenExpiry(t *testing.T) {
	f := newFixture(t, githubtest.WithLatency(20*time.Millisecond))
	s := f.s
	start := time.Now()
	must[*github.Repository](t)(f.client.Repositories.Get(ctx, "acme", "infra"))
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("answered in %v despite 20ms latency", d)
	}
	s.SetLatency(0)

	s.AddFault(githubtest.Fault{Kind: githubtest.FaultTimeout, Times: 1, Operation: "GET /repos/{owner}/{repo}/pulls/{pull_number}"})
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := f.client.PullRequests.Get(tctx, "acme", "infra", f.prNum); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout fault: %v", err)
	}

	// A token that expires mid-run: 401 Bad credentials, and the App's
	// transport gets a new one on its own schedule only.
	tok := s.InstallationToken(f.inst)
	raw := tokenClient(t, s, tok)
	must[*github.Repository](t)(raw.Repositories.Get(ctx, "acme", "infra"))
	s.ExpireTokens()
	_, resp, err := raw.Repositories.Get(ctx, "acme", "infra")
	if err == nil || resp.StatusCode != http.StatusUnauthorized || !strings.Contains(err.Error(), "Bad credentials") {
		t.Errorf("expired token: %v", err)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("an expired token is not a violation: %v", v)
	}
}

func TestTokenTTL(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := githubtest.New(t, githubtest.WithClock(clock), githubtest.WithTokenTTL(10*time.Minute))
	s.AddRepo(githubtest.Repo{Owner: "o", Name: "r"})
	inst := s.AddInstallation(githubtest.Installation{Account: "o", All: true})
	app := githubClient(t, s, nil).WithAuthToken(s.AppJWT())
	tok := must[*github.InstallationToken](t)(app.Apps.CreateInstallationToken(ctx, inst, nil))
	if got := tok.GetExpiresAt().Sub(now); got != 10*time.Minute {
		t.Errorf("token lives %v", got)
	}
	c := tokenClient(t, s, tok.GetToken())
	must[*github.Repository](t)(c.Repositories.Get(ctx, "o", "r"))
	now = now.Add(11 * time.Minute)
	if _, _, err := c.Repositories.Get(ctx, "o", "r"); statusOf(err) != 401 {
		t.Errorf("after expiry: %v", err)
	}
	s.SuspendInstallation(inst, true)
	app = githubClient(t, s, nil).WithAuthToken(s.AppJWT())
	if _, _, err := app.Apps.CreateInstallationToken(ctx, inst, nil); statusOf(err) != 403 {
		t.Errorf("token for a suspended installation: %v", err)
	}
}
