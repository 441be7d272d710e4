package githubtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"
)

func annotations(n int, level string) []*github.CheckRunAnnotation {
	out := make([]*github.CheckRunAnnotation, n)
	for i := range out {
		out[i] = &github.CheckRunAnnotation{
			Path: github.String("apps/api/main.go"), StartLine: github.Int(i + 1), EndLine: github.Int(i + 1),
			AnnotationLevel: github.String(level), Message: github.String(fmt.Sprintf("finding %d", i)),
		}
	}
	return out
}

func TestCheckRunsCreateUpdateList(t *testing.T) {
	f := newFixture(t)
	c := f.client

	run := must[*github.CheckRun](t)(c.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name:       "housekeeper/dirs",
		HeadSHA:    f.head,
		Status:     github.String("in_progress"),
		ExternalID: github.String("pr-1"),
		Output: &github.CheckRunOutput{
			Title: github.String("Checking"), Summary: github.String("…"),
			Annotations: annotations(50, "failure"),
		},
		Actions: []*github.CheckRunAction{{Label: "Add stub entries", Description: "Commit TODO lines", Identifier: "add-stubs"}},
	}))
	if run.GetStatus() != "in_progress" || run.GetOutput().GetAnnotationsCount() != 50 || len(run.PullRequests) != 1 {
		t.Errorf("created run: status %s, annotations %d, PRs %d", run.GetStatus(), run.GetOutput().GetAnnotationsCount(), len(run.PullRequests))
	}
	run = must[*github.CheckRun](t)(c.Checks.UpdateCheckRun(ctx, "acme", "infra", run.GetID(), github.UpdateCheckRunOptions{
		Name:       "housekeeper/dirs",
		Conclusion: github.String("failure"),
		Output: &github.CheckRunOutput{
			Title: github.String("2 unregistered directories"), Summary: github.String("Add them to docs/dir.md"),
			Annotations: annotations(20, "warning"),
		},
	}))
	if run.GetStatus() != "completed" || run.GetConclusion() != "failure" || run.GetOutput().GetAnnotationsCount() != 70 || run.CompletedAt == nil {
		t.Errorf("updated run: %s/%s annotations %d", run.GetStatus(), run.GetConclusion(), run.GetOutput().GetAnnotationsCount())
	}

	// State as a test sees it: annotations appended, output replaced.
	got, ok := f.s.CheckRun("acme", "infra", f.head, "housekeeper/dirs")
	if !ok || len(got.Output.Annotations) != 70 || got.Output.Title != "2 unregistered directories" || got.ExternalID != "pr-1" || len(got.Actions) != 1 || got.Requests != 2 {
		t.Errorf("state: %+v", got)
	}
	var anns []*github.CheckRunAnnotation
	opts := &github.ListOptions{PerPage: 30}
	for {
		page, resp, err := c.Checks.ListCheckRunAnnotations(ctx, "acme", "infra", run.GetID(), opts)
		if err != nil {
			t.Fatal(err)
		}
		anns = append(anns, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(anns) != 70 || anns[69].GetAnnotationLevel() != "warning" {
		t.Errorf("listed %d annotations", len(anns))
	}

	// A second run with another name, then a re-run of the first.
	must[*github.CheckRun](t)(c.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "housekeeper/secrets", HeadSHA: f.head, Conclusion: github.String("success"),
		Output: &github.CheckRunOutput{Title: github.String("No secrets"), Summary: github.String("ok")},
	}))
	must[*github.CheckRun](t)(c.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "housekeeper/dirs", HeadSHA: f.head, Status: github.String("queued"),
	}))
	list := must[*github.ListCheckRunsResults](t)(c.Checks.ListCheckRunsForRef(ctx, "acme", "infra", "feature", &github.ListCheckRunsOptions{
		CheckName: github.String("housekeeper/dirs"),
	}))
	if list.GetTotal() != 1 || list.CheckRuns[0].GetStatus() != "queued" {
		t.Errorf("latest dirs runs: %d", list.GetTotal())
	}
	all := must[*github.ListCheckRunsResults](t)(c.Checks.ListCheckRunsForRef(ctx, "acme", "infra", f.head, &github.ListCheckRunsOptions{
		Filter: github.String("all"),
	}))
	if all.GetTotal() != 3 {
		t.Errorf("all runs: %d", all.GetTotal())
	}
	if n := len(f.s.CheckRuns("acme", "infra", f.head)); n != 3 {
		t.Errorf("CheckRuns: %d", n)
	}
	suites := f.s.CheckSuites("acme", "infra", f.head)
	if len(suites) != 1 || suites[0].Status != "in_progress" {
		t.Errorf("suites: %+v", suites)
	}
	if _, err := c.Checks.ReRequestCheckSuite(ctx, "acme", "infra", suites[0].ID); err != nil {
		t.Fatal(err)
	}
	if f.s.CheckSuites("acme", "infra", f.head)[0].Rerequests != 1 {
		t.Errorf("rerequest not recorded")
	}
}

func TestCheckRunLimitsAnswer422(t *testing.T) {
	f := newFixture(t)
	c := f.client
	long := strings.Repeat("x", 65536)
	cases := map[string]github.CreateCheckRunOptions{
		"51 annotations": {Name: "n", HeadSHA: f.head, Output: &github.CheckRunOutput{
			Title: github.String("t"), Summary: github.String("s"), Annotations: annotations(51, "notice")}},
		"summary over 65535": {Name: "n", HeadSHA: f.head, Output: &github.CheckRunOutput{
			Title: github.String("t"), Summary: github.String(long)}},
		"text over 65535": {Name: "n", HeadSHA: f.head, Output: &github.CheckRunOutput{
			Title: github.String("t"), Summary: github.String("s"), Text: github.String(long)}},
		"four actions": {Name: "n", HeadSHA: f.head, Actions: []*github.CheckRunAction{
			{Label: "a", Description: "a", Identifier: "a"}, {Label: "b", Description: "b", Identifier: "b"},
			{Label: "c", Description: "c", Identifier: "c"}, {Label: "d", Description: "d", Identifier: "d"}}},
		"identifier over 20": {Name: "n", HeadSHA: f.head, Actions: []*github.CheckRunAction{
			{Label: "a", Description: "a", Identifier: strings.Repeat("i", 21)}}},
		"output without title": {Name: "n", HeadSHA: f.head, Output: &github.CheckRunOutput{Summary: github.String("s")}},
		"invalid conclusion":   {Name: "n", HeadSHA: f.head, Conclusion: github.String("passed")},
		"missing name":         {HeadSHA: f.head},
		"completed without conclusion": {Name: "n", HeadSHA: f.head, Status: github.String("completed"),
			Output: &github.CheckRunOutput{Title: github.String("t"), Summary: github.String("s")}},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := c.Checks.CreateCheckRun(ctx, "acme", "infra", opts)
			if statusOf(err) != 422 {
				t.Fatalf("got %v, want 422", err)
			}
			if v := f.s.TakeViolations(); len(v) != 1 {
				t.Errorf("violations: %v", v)
			}
		})
	}
	if runs := f.s.CheckRuns("acme", "infra", f.head); len(runs) != 0 {
		t.Errorf("a refused request created %d runs", len(runs))
	}

	// go-github's UpdateCheckRunOptions.Name is not omitempty: an unset
	// name is sent as "" and refused.
	run := must[*github.CheckRun](t)(c.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "n", HeadSHA: f.head}))
	_, _, err := c.Checks.UpdateCheckRun(ctx, "acme", "infra", run.GetID(), github.UpdateCheckRunOptions{Conclusion: github.String("success")})
	if statusOf(err) != 422 || len(f.s.TakeViolations()) != 1 {
		t.Errorf("update without name: %v", err)
	}
}
