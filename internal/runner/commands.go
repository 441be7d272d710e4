package runner

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/rs/zerolog"

	"github.com/housekeeper-app/housekeeper/internal/change"
	"github.com/housekeeper-app/housekeeper/internal/command"
	"github.com/housekeeper-app/housekeeper/internal/coord"
	"github.com/housekeeper-app/housekeeper/internal/escape"
	"github.com/housekeeper-app/housekeeper/internal/marker"
)

// CommentJob is a pull-request comment that may hold commands.
type CommentJob struct {
	InstallationID int64
	Owner, Repo    string
	PR             int
	CommentID      int64 // 0 for a check-run button, which has no comment to react to
	Author         string
	Body           string
	// Commands, when set, are run instead of parsing Body (buttons).
	Commands []command.Command
}

// JobForPR checks a pull request's head against its base branch. A fork's
// head commit is read through the base repository.
func JobForPR(installationID int64, pr *github.PullRequest) Job {
	base := pr.GetBase()
	repo := base.GetRepo()
	return Job{
		InstallationID: installationID,
		Owner:          repo.GetOwner().GetLogin(),
		Repo:           repo.GetName(),
		DefaultBranch:  repo.GetDefaultBranch(),
		HeadSHA:        pr.GetHead().GetSHA(),
		BaseSHA:        base.GetSHA(),
		BaseRef:        base.GetRef(),
		PR:             pr.GetNumber(),
	}
}

// Comment answers the commands of a comment: 👀 on receipt, one reply with
// every outcome, then the checks again when an outcome changes them.
func (r *Runner) Comment(ctx context.Context, cj CommentJob) error {
	cmds := cj.Commands
	var replies []string
	if cmds == nil {
		res := command.Parse(cj.Body)
		if res.Empty() {
			return nil
		}
		cmds, replies = res.Commands, res.Replies
	}
	log := zerolog.Ctx(ctx)
	notice, err := r.commandLimited(ctx, cj)
	if err != nil {
		return err
	}
	if notice == limitedQuiet {
		return nil
	}
	client, err := r.client(cj.InstallationID, &callCounter{})
	if err != nil {
		return fmt.Errorf("installation client: %w", err)
	}
	if notice != "" {
		// One notice a minute per user and repository says why the rest
		// go unanswered; the commands themselves do not run.
		x := &executor{r: r, client: client, cj: cj}
		return x.reply(ctx, []string{notice})
	}
	if cj.CommentID != 0 {
		if _, _, err := client.Reactions.CreateIssueCommentReaction(ctx, cj.Owner, cj.Repo, cj.CommentID, "eyes"); err != nil {
			log.Warn().Err(err).Msg("could not react to the comment")
		}
	}
	pr, _, err := client.PullRequests.Get(ctx, cj.Owner, cj.Repo, cj.PR)
	if err != nil {
		return fmt.Errorf("read pull request #%d: %w", cj.PR, err)
	}
	job := JobForPR(cj.InstallationID, pr)
	x := &executor{r: r, client: client, cj: cj, pr: pr, job: job}
	rerun := false
	for _, c := range cmds {
		out, again := x.run(ctx, c)
		replies = append(replies, out)
		rerun = rerun || again
	}
	if err := x.reply(ctx, replies); err != nil {
		return err
	}
	if rerun {
		return r.Run(ctx, job)
	}
	return nil
}

type executor struct {
	r      *Runner
	client *github.Client
	cj     CommentJob
	pr     *github.PullRequest
	job    Job
	perm   *bool // the author may change decisions, once looked up
	// markers go, all together, on the reply's last line: the only place
	// they are honoured.
	markers []string
}

func (x *executor) run(ctx context.Context, c command.Command) (reply string, rerun bool) {
	key := fmt.Sprintf("%s/%s#%d", x.cj.Owner, x.cj.Repo, x.cj.PR)
	if wait := x.r.limits.take(key, c.Name); wait > 0 {
		return fmt.Sprintf("`%s %s`: slow down — try again in %s (commands are rate-limited per pull request).", command.Prefix, c.Name, wait.Round(time.Second)), false
	}
	if c.NeedsWrite() {
		ok, why := x.canWrite(ctx)
		if !ok {
			return fmt.Sprintf("`%s %s`: %s, %s", command.Prefix, c.Name, escape.Text("@"+x.cj.Author), why), false
		}
	}
	switch c.Name {
	case command.Help:
		return command.HelpText(), false
	case command.Recheck:
		return fmt.Sprintf("Re-running both checks on %s.", shortSHA(x.job.HeadSHA)), true
	case command.Ignore, command.Unignore:
		action := marker.ActionIgnore
		text := fmt.Sprintf("Accepted: %s ignored %s on this pull request: %s", escape.Text("@"+x.cj.Author), escape.Code(c.Fingerprint), escape.Text(c.Reason))
		if c.Name == command.Unignore {
			action = marker.ActionUnignore
			text = fmt.Sprintf("Withdrawn: %s no longer ignores %s on this pull request.", escape.Text("@"+x.cj.Author), escape.Code(c.Fingerprint))
		}
		if x.r.MarkerKey == nil {
			return "This installation cannot record decisions (no webhook secret configured).", false
		}
		x.markers = append(x.markers, marker.Sign(x.r.MarkerKey, marker.Marker{Repo: x.cj.Owner + "/" + x.cj.Repo, PR: x.cj.PR, CommentID: x.cj.CommentID, Fingerprint: c.Fingerprint, Actor: x.cj.Author, Action: action, Reason: c.Reason}))
		return text + " The checks run again now.", true
	case command.FixDirs:
		return x.fixDirs(ctx), false
	}
	return command.HelpText(), false
}

// canWrite asks GitHub (never the payload) whether the author has write,
// maintain or admin on the repository.
func (x *executor) canWrite(ctx context.Context) (bool, string) {
	if x.perm != nil {
		return *x.perm, "this command needs write, maintain or admin access to the repository."
	}
	lvl, _, err := x.client.Repositories.GetPermissionLevel(ctx, x.cj.Owner, x.cj.Repo, x.cj.Author)
	ok := false
	if err == nil {
		switch lvl.GetPermission() {
		case "admin", "write":
			ok = true
		}
		switch lvl.GetRoleName() {
		case "admin", "maintain", "write":
			ok = true
		}
	}
	x.perm = &ok
	if err != nil {
		return false, "I could not check your access to the repository, so I did not run this (" + escape.Text(err.Error()) + ")."
	}
	return ok, fmt.Sprintf("this command needs write, maintain or admin access to the repository; you have %s.", orNone(lvl.GetPermission()))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// fixDirs commits the stub entries to the PR branch, or replies with the
// patch when the App cannot push there (a fork, or no contents write).
func (x *executor) fixDirs(ctx context.Context) string {
	fix, err := x.r.FixDirs(ctx, x.job)
	if err != nil {
		return "I could not compute the fix: " + escape.Text(err.Error())
	}
	if fix == nil {
		return "Every new directory is already registered: nothing to fix."
	}
	head := x.pr.GetHead()
	var codes []string
	for _, d := range fix.Dirs {
		codes = append(codes, escape.Code(d))
	}
	list := strings.Join(codes, ", ")
	patch := patchBlock(fix.Patch)
	if head.GetRepo().GetFullName() != x.pr.GetBase().GetRepo().GetFullName() {
		return fmt.Sprintf("This pull request comes from a fork, which I cannot push to. Here is the change that registers %s:\n\n%s", list, patch)
	}
	if err := x.r.pacer(x.cj.InstallationID).Wait(ctx); err != nil {
		return "I could not commit the fix: " + escape.Text(err.Error())
	}
	opts := &github.RepositoryContentFileOptions{
		Message: github.String(fmt.Sprintf("Register %d new director%s in %s\n\nStub entries with TODO annotations, added by /housekeeper fix dirs for @%s.", len(fix.Dirs), plural(len(fix.Dirs)), fix.MapPath, x.cj.Author)),
		Content: fix.New,
		Branch:  github.String(head.GetRef()),
	}
	var resp *github.Response
	var res *github.RepositoryContentResponse
	if fix.HadMap {
		opts.SHA = github.String(fix.MapSHA)
		res, resp, err = x.client.Repositories.UpdateFile(ctx, x.cj.Owner, x.cj.Repo, fix.MapPath, opts)
	} else {
		res, resp, err = x.client.Repositories.CreateFile(ctx, x.cj.Owner, x.cj.Repo, fix.MapPath, opts)
	}
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound) {
			return fmt.Sprintf("I may not push to this branch (the App needs the contents write permission). Here is the change that registers %s:\n\n%s", list, patch)
		}
		return "I could not commit the fix: " + escape.Text(err.Error())
	}
	return fmt.Sprintf("Committed %s to %s: stub entries for %s. Replace each `TODO` annotation; the dirs check passes once they are filled in.", shortSHA(res.GetSHA()), escape.Code(head.GetRef()), list)
}

// patchBlock shows a map patch in a diff block whose fence no line can
// close. The patch repeats lines of the map (which the pull request wrote):
// when one would carry control characters or an HTML comment opener the
// App does not repeat it, and says where to get it instead.
func patchBlock(patch string) string {
	if flat := strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(patch); escape.Block(flat) != flat {
		return "The map around the new lines holds text I do not repeat (control characters or an HTML comment); `housekeeper check --base` prints the lines to add."
	}
	lines := strings.Split(patch, "\n")
	fence := escape.Fence(lines...)
	return fmt.Sprintf("%sdiff\n%s%s\n\nApply it with `git apply`, then replace each `TODO`.", fence, patch, fence)
}

func plural(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

func (x *executor) reply(ctx context.Context, parts []string) error {
	if len(parts) == 0 {
		return nil
	}
	body := strings.Join(parts, "\n\n---\n\n")
	if x.cj.CommentID != 0 {
		body = fmt.Sprintf("%s\n%s\n\n%s", replyTag(x.cj.CommentID), escape.Text("@"+x.cj.Author), body)
		// A delivery handled twice (redelivered, or reclaimed from a
		// replica that died after replying) must not answer twice.
		if done, err := x.replied(ctx); err != nil {
			return fmt.Errorf("look for an earlier reply on #%d: %w", x.cj.PR, err)
		} else if done {
			zerolog.Ctx(ctx).Info().Int64("comment", x.cj.CommentID).Msg("this comment was already answered; not replying again")
			return nil
		}
	}
	if len(x.markers) > 0 {
		body += "\n\n" + strings.Join(x.markers, " ")
	}
	if err := x.r.pacer(x.cj.InstallationID).Wait(ctx); err != nil {
		return err
	}
	if _, _, err := x.client.Issues.CreateComment(ctx, x.cj.Owner, x.cj.Repo, x.cj.PR, &github.IssueComment{Body: github.String(body)}); err != nil {
		return fmt.Errorf("reply on #%d: %w", x.cj.PR, err)
	}
	return nil
}

// replyTag heads each reply to a comment, so a second handling of that
// comment finds it (the first line: the ignore markers own the last). A
// Markdown link reference definition renders as nothing, and is no HTML
// comment (replies carry none but the markers).
func replyTag(commentID int64) string {
	return fmt.Sprintf(`[//]: # "housekeeper:reply-to %d"`, commentID)
}

// replied reports whether the App already answered this comment.
func (x *executor) replied(ctx context.Context) (bool, error) {
	comments, err := (&change.Reader{Client: x.client}).Comments(ctx, x.cj.Owner, x.cj.Repo, x.cj.PR)
	if err != nil {
		return false, err
	}
	tag := replyTag(x.cj.CommentID)
	for _, c := range comments {
		if c.AppID != 0 && c.AppID == x.r.AppID && strings.HasPrefix(c.Body, tag) {
			return true, nil
		}
	}
	return false, nil
}

// Command limits (shared by the replicas): per user and repository, and
// per installation, over every command including help and usage errors.
const limitedQuiet = "\x00quiet"

// commandLimited returns "" when the comment may be answered; a notice to
// post instead (once a minute per user and repository); or limitedQuiet.
func (r *Runner) commandLimited(ctx context.Context, cj CommentJob) (string, error) {
	sh := r.shared()
	inst := strconv.FormatInt(cj.InstallationID, 10)
	user := "cmd-user:" + inst + ":" + strings.ToLower(cj.Owner+"/"+cj.Repo+":"+cj.Author)
	check := func(key string, perMinute int) (time.Duration, error) {
		if perMinute <= 0 {
			return 0, nil
		}
		cctx, cancel := coordContext(ctx)
		defer cancel()
		return sh.Limits.Allow(cctx, key, coord.PerMinute(perMinute))
	}
	wait, err := check(user, r.CommandLimitUser)
	if err != nil {
		return "", fmt.Errorf("command limit: %w", err)
	}
	which, limit, scope := "command_user", r.CommandLimitUser, "per user and repository"
	if wait == 0 {
		if wait, err = check("cmd-inst:"+inst, r.CommandLimitInstallation); err != nil {
			return "", fmt.Errorf("command limit: %w", err)
		}
		which, limit, scope = "command_installation", r.CommandLimitInstallation, "per installation"
	}
	if wait == 0 {
		return "", nil
	}
	if r.Waits != nil {
		r.Waits.Limited(which)
	}
	zerolog.Ctx(ctx).Warn().Str("limit", which).Dur("retry_in", wait).Msg("command limit reached; not answering")
	cctx, cancel := coordContext(ctx)
	defer cancel()
	if w, err := sh.Limits.Allow(cctx, "cmd-notice:"+user, coord.PerMinute(1)); err != nil || w > 0 {
		return limitedQuiet, nil
	}
	return fmt.Sprintf("Slow down: Housekeeper answers at most %d commands a minute %s. Try again in %s.", limit, scope, wait.Round(time.Second)), nil
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

// limiter rate-limits commands per pull request: one recheck a minute, and
// at most ten commands a minute in all.
type limiter struct {
	mu   sync.Mutex
	last map[string][]time.Time
}

const (
	commandWindow  = time.Minute
	commandsPerPR  = 10
	rechecksPerPR  = 1
	limiterMaxKeys = 10000
)

func (l *limiter) take(pr string, name command.Name) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil || len(l.last) > limiterMaxKeys {
		l.last = map[string][]time.Time{}
	}
	now := time.Now()
	check := func(key string, n int) time.Duration {
		var keep []time.Time
		for _, t := range l.last[key] {
			if now.Sub(t) < commandWindow {
				keep = append(keep, t)
			}
		}
		l.last[key] = keep
		if len(keep) >= n {
			return commandWindow - now.Sub(keep[0])
		}
		return 0
	}
	if w := check(pr, commandsPerPR); w > 0 {
		return w
	}
	if name == command.Recheck {
		if w := check(pr+" recheck", rechecksPerPR); w > 0 {
			return w
		}
		l.last[pr+" recheck"] = append(l.last[pr+" recheck"], now)
	}
	l.last[pr] = append(l.last[pr], now)
	return 0
}
