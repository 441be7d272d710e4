package change

import (
	"context"
	"fmt"
)

// Comment is a pull-request comment as the ignore markers need it.
// go-github v66 does not decode performed_via_github_app, which says which
// App (if any) authored a comment, so comments are decoded here.
type Comment struct {
	ID    int64  `json:"id"`
	Body  string `json:"body"`
	User  User   `json:"user"`
	AppID int64  `json:"-"`
	// PerformedVia is GitHub's performed_via_github_app.
	PerformedVia *struct {
		ID   int64  `json:"id"`
		Slug string `json:"slug"`
	} `json:"performed_via_github_app"`
}

// User is a comment's author.
type User struct {
	Login string `json:"login"`
	Type  string `json:"type"`
}

// Comments lists a pull request's conversation comments, oldest first (one
// call per 100).
func (r *Reader) Comments(ctx context.Context, owner, repo string, number int) ([]Comment, error) {
	var out []Comment
	page := 1
	for {
		u := fmt.Sprintf("repos/%s/%s/issues/%d/comments?per_page=100&page=%d", owner, repo, number, page)
		req, err := r.Client.NewRequest("GET", u, nil)
		if err != nil {
			return nil, err
		}
		var batch []Comment
		resp, err := r.Client.Do(ctx, req, &batch)
		if err != nil {
			return nil, fmt.Errorf("list comments of #%d: %w", number, err)
		}
		for i := range batch {
			if batch[i].PerformedVia != nil {
				batch[i].AppID = batch[i].PerformedVia.ID
			}
		}
		out = append(out, batch...)
		if resp.NextPage == 0 {
			return out, nil
		}
		page = resp.NextPage
	}
}
