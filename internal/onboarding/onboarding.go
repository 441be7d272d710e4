// Package onboarding opens, and keeps in step, the one pull request that
// brings Housekeeper to a repository without a directory map: the map
// generated from the tree, a commented config when none applies, and a
// description of what the checks do and what is left to fill in.
//
// It writes politely (Renovate's rules): it looks before creating, so
// redeliveries and restarts never open a second pull request; it never
// reopens one a person closed; and it refreshes its branch only while every
// commit there is its own.
package onboarding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/housekeeper-app/housekeeper/internal/publish"
)

// Branch is the onboarding pull request's head branch.
const Branch = "housekeeper/onboarding"

// Author signs the App's commits on Branch; with the Layout trailer it tells
// them from anyone else's.
var Author = github.CommitAuthor{Name: github.String("Housekeeper"), Email: github.String("housekeeper@users.noreply.github.com")}

const trailer = "Housekeeper-Layout: "

// Outcome is what Ensure did.
type Outcome string

// Outcomes (metric labels too).
const (
	Opened     Outcome = "opened"
	Refreshed  Outcome = "refreshed"
	UpToDate   Outcome = "up_to_date"
	HandedOver Outcome = "handed_over" // someone else committed to the branch: left alone
	Declined   Outcome = "declined"    // closed unmerged: never reopened
	Merged     Outcome = "merged"
	DryRun     Outcome = "dry_run"
	NoAccess   Outcome = "no_permission"
)

// Repo is the repository and the default-branch commit the map was
// generated from.
type Repo struct {
	Owner, Name   string
	DefaultBranch string
	HeadSHA       string
}

// Content is what the pull request adds.
type Content struct {
	MapPath string
	Map     []byte
	Config  []byte // nil: no config file
	Body    string
}

// Layout identifies the content, so a refresh happens only when it changed.
func (c Content) Layout() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", c.MapPath, len(c.Map))
	h.Write(c.Map)
	h.Write([]byte{0})
	h.Write(c.Config)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Onboarder writes onboarding pull requests through one installation's
// client, pacing content-creating requests.
type Onboarder struct {
	// Branch and Title default to the onboarding pull request's; the
	// dashboard's stub-entries pull request uses its own.
	Branch, Title string
	// Again: a closed or merged pull request does not stop a new one (the
	// stub-entries pull request is opened on request, every time).
	Again  bool
	Client *github.Client
	Pacer  *publish.Pacer // shared with every check run
	Pace   *publish.Pacer // background work's own, smaller budget
}

// wait paces one content-creating request on both budgets.
func (o *Onboarder) wait(ctx context.Context) error {
	if err := o.Pace.Wait(ctx); err != nil {
		return err
	}
	return o.Pacer.Wait(ctx)
}

// Result says what happened, and to which pull request.
type Result struct {
	Outcome Outcome
	Number  int
}

// ErrPermission wraps GitHub's refusal when the installation lacks
// contents or pull requests write.
var ErrPermission = errors.New("the installation has not granted contents and pull requests write")

// Ensure makes sure the repository has exactly one onboarding pull
// request, up to date while it is the App's alone. With dryRun it only
// says what it would do.
func (o *Onboarder) Ensure(ctx context.Context, repo Repo, c Content, dryRun bool) (Result, error) {
	if o.Branch == "" {
		o.Branch = Branch
	}
	if o.Title == "" {
		o.Title = Title
	}
	prs, _, err := o.Client.PullRequests.List(ctx, repo.Owner, repo.Name, &github.PullRequestListOptions{
		State: "all", Head: repo.Owner + ":" + o.Branch, ListOptions: github.ListOptions{PerPage: 100},
	})
	if err != nil {
		return Result{}, o.wrap(fmt.Errorf("list onboarding pull requests: %w", err))
	}
	var open, merged, closed *github.PullRequest
	for _, pr := range prs {
		if pr.GetHead().GetRef() != o.Branch {
			continue
		}
		switch {
		case pr.GetState() == "open" && open == nil:
			open = pr
		case pr.MergedAt != nil && merged == nil:
			merged = pr
		case pr.GetState() == "closed" && pr.MergedAt == nil && closed == nil:
			closed = pr
		}
	}
	switch {
	case open != nil:
		return o.refresh(ctx, repo, c, open, dryRun)
	case o.Again && dryRun:
		return Result{Outcome: DryRun}, nil
	case o.Again:
		return o.open(ctx, repo, c)
	case closed != nil:
		return Result{Outcome: Declined, Number: closed.GetNumber()}, nil
	case merged != nil:
		return Result{Outcome: Merged, Number: merged.GetNumber()}, nil
	case dryRun:
		return Result{Outcome: DryRun}, nil
	}
	return o.open(ctx, repo, c)
}

// ours reports whether a commit is one the App wrote on the branch.
func ours(cm *github.Commit) bool {
	return cm.GetAuthor().GetName() == Author.GetName() && cm.GetAuthor().GetEmail() == Author.GetEmail() &&
		strings.Contains(cm.GetMessage(), "\n"+trailer)
}

func layoutOf(cm *github.Commit) string {
	_, after, _ := strings.Cut(cm.GetMessage(), "\n"+trailer)
	return strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
}

func (o *Onboarder) refresh(ctx context.Context, repo Repo, c Content, pr *github.PullRequest, dryRun bool) (Result, error) {
	res := Result{Number: pr.GetNumber()}
	commits, _, err := o.Client.PullRequests.ListCommits(ctx, repo.Owner, repo.Name, pr.GetNumber(), &github.ListOptions{PerPage: 100})
	if err != nil {
		return res, o.wrap(fmt.Errorf("list the onboarding pull request's commits: %w", err))
	}
	if len(commits) == 0 {
		res.Outcome = HandedOver
		return res, nil
	}
	for _, cm := range commits {
		if !ours(cm.GetCommit()) {
			res.Outcome = HandedOver
			return res, nil
		}
	}
	last := commits[len(commits)-1].GetCommit()
	if layoutOf(last) == c.Layout() {
		res.Outcome = UpToDate
		return res, nil
	}
	if dryRun {
		res.Outcome = DryRun
		return res, nil
	}
	sha, err := o.commit(ctx, repo, c)
	if err != nil {
		return res, err
	}
	if err := o.wait(ctx); err != nil {
		return res, err
	}
	if _, _, err := o.Client.Git.UpdateRef(ctx, repo.Owner, repo.Name, &github.Reference{
		Ref: github.String("refs/heads/" + o.Branch), Object: &github.GitObject{SHA: github.String(sha)},
	}, true); err != nil {
		return res, o.wrap(fmt.Errorf("refresh %s: %w", o.Branch, err))
	}
	res.Outcome = Refreshed
	return res, nil
}

// commit writes the content as one commit on top of the default branch's
// head (one read for its tree, then a tree and a commit).
func (o *Onboarder) commit(ctx context.Context, repo Repo, c Content) (string, error) {
	head, _, err := o.Client.Repositories.GetCommit(ctx, repo.Owner, repo.Name, repo.HeadSHA, &github.ListOptions{PerPage: 1})
	if err != nil {
		return "", o.wrap(fmt.Errorf("read %s: %w", short(repo.HeadSHA), err))
	}
	entries := []*github.TreeEntry{{Path: github.String(c.MapPath), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(string(c.Map))}}
	if c.Config != nil {
		entries = append(entries, &github.TreeEntry{Path: github.String(".github/housekeeper.yml"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(string(c.Config))})
	}
	if err := o.wait(ctx); err != nil {
		return "", err
	}
	tree, _, err := o.Client.Git.CreateTree(ctx, repo.Owner, repo.Name, head.GetCommit().GetTree().GetSHA(), entries)
	if err != nil {
		return "", o.wrap(fmt.Errorf("write the onboarding tree: %w", err))
	}
	what := "Add the directory map"
	if o.Branch != Branch {
		what = "Register the unregistered directories in the map"
	}
	msg := what + "\n\nGenerated by Housekeeper from the tree of " + short(repo.HeadSHA) + "; fill in the TODO annotations before merging.\n\n" + trailer + c.Layout() + "\n"
	if err := o.wait(ctx); err != nil {
		return "", err
	}
	cm, _, err := o.Client.Git.CreateCommit(ctx, repo.Owner, repo.Name, &github.Commit{
		Message: github.String(msg), Tree: tree, Parents: []*github.Commit{{SHA: github.String(repo.HeadSHA)}}, Author: &Author,
	}, nil)
	if err != nil {
		return "", o.wrap(fmt.Errorf("write the onboarding commit: %w", err))
	}
	return cm.GetSHA(), nil
}

func (o *Onboarder) open(ctx context.Context, repo Repo, c Content) (Result, error) {
	sha, err := o.commit(ctx, repo, c)
	if err != nil {
		return Result{}, err
	}
	if err := o.wait(ctx); err != nil {
		return Result{}, err
	}
	ref := "refs/heads/" + o.Branch
	_, _, err = o.Client.Git.CreateRef(ctx, repo.Owner, repo.Name, &github.Reference{Ref: github.String(ref), Object: &github.GitObject{SHA: github.String(sha)}})
	if isUnprocessable(err) {
		// The branch is left from a run that stopped before opening the
		// pull request, or someone else's: take it over only if every
		// commit on it is ours.
		err = o.takeOver(ctx, repo, sha)
		if errors.Is(err, errNotOurs) {
			return Result{Outcome: HandedOver}, nil
		}
	}
	if err != nil {
		return Result{}, o.wrap(fmt.Errorf("create %s: %w", o.Branch, err))
	}
	if err := o.wait(ctx); err != nil {
		return Result{}, err
	}
	pr, _, err := o.Client.PullRequests.Create(ctx, repo.Owner, repo.Name, &github.NewPullRequest{
		Title: github.String(o.Title), Head: github.String(o.Branch), Base: github.String(repo.DefaultBranch),
		Body: github.String(c.Body), MaintainerCanModify: github.Bool(true),
	})
	if isUnprocessable(err) {
		// Another delivery opened it meanwhile: GitHub allows one open pull
		// request per head and base.
		return Result{Outcome: UpToDate}, nil
	}
	if err != nil {
		return Result{}, o.wrap(fmt.Errorf("open the onboarding pull request: %w", err))
	}
	return Result{Outcome: Opened, Number: pr.GetNumber()}, nil
}

var errNotOurs = errors.New("the branch holds commits that are not Housekeeper's")

func (o *Onboarder) takeOver(ctx context.Context, repo Repo, sha string) error {
	ref, _, err := o.Client.Git.GetRef(ctx, repo.Owner, repo.Name, "heads/"+o.Branch)
	if err != nil {
		return err
	}
	cmp, _, err := o.Client.Repositories.CompareCommits(ctx, repo.Owner, repo.Name, repo.HeadSHA, ref.GetObject().GetSHA(), &github.ListOptions{PerPage: 100})
	if err != nil {
		return err
	}
	for _, cm := range cmp.Commits {
		if !ours(cm.GetCommit()) {
			return errNotOurs
		}
	}
	if err := o.wait(ctx); err != nil {
		return err
	}
	_, _, err = o.Client.Git.UpdateRef(ctx, repo.Owner, repo.Name, &github.Reference{Ref: github.String("refs/heads/" + o.Branch), Object: &github.GitObject{SHA: github.String(sha)}}, true)
	return err
}

func isUnprocessable(err error) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusUnprocessableEntity
}

// wrap marks GitHub's 403 "Resource not accessible by integration" as a
// missing permission, which the caller skips and counts.
func (o *Onboarder) wrap(err error) error {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusForbidden && strings.Contains(ge.Message, "not accessible by integration") {
		return fmt.Errorf("%w: %w", ErrPermission, err)
	}
	return err
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
