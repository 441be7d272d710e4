package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/housekeeper-app/housekeeper/internal/server"
	"github.com/housekeeper-app/housekeeper/internal/webhooks"
)

func newHookCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Send GitHub's example webhook deliveries to a running server (for trying it locally)",
	}
	var to, secretFile string
	send := &cobra.Command{
		Use:   "send EXAMPLE --to URL",
		Short: "Sign and send one of GitHub's example deliveries, e.g. pull_request.opened",
		Long: `Signs one of GitHub's example webhook deliveries with the webhook secret and
POSTs it to a running server, as GitHub would. The secret comes from
--secret-file, else GITHUB_APP_WEBHOOK_SECRET, else the file named by
GITHUB_APP_WEBHOOK_SECRET_PATH — the same settings serve reads.

Examples: ` + strings.Join(webhooks.Names(), ", ") + `
(the number may be left out).

Exit status: 0 when the server answers 2xx, 1 otherwise, 2 for usage errors.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHookSend(cmd.Context(), args[0], to, secretFile, os.Getenv, cmd.OutOrStdout())
		},
	}
	send.Flags().StringVar(&to, "to", "http://127.0.0.1:8080"+server.HookPath, "the server's webhook URL")
	send.Flags().StringVar(&secretFile, "secret-file", "", "file holding the webhook secret (default: GITHUB_APP_WEBHOOK_SECRET, else GITHUB_APP_WEBHOOK_SECRET_PATH)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the example deliveries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), strings.Join(webhooks.Names(), "\n"))
			return err
		},
	}
	cmd.AddCommand(send, list)
	return cmd
}

func runHookSend(ctx context.Context, name, to, secretFile string, getenv func(string) string, stdout io.Writer) error {
	event, body, err := webhooks.Example(name)
	if err != nil {
		return usageErr("%v", err)
	}
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr("--to must be an http(s) URL such as http://127.0.0.1:8080%s", server.HookPath)
	}
	secret, err := hookSecret(secretFile, getenv)
	if err != nil {
		return usageErr("%v", err)
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	delivery := fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:])
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return usageErr("%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/housekeeper-hook-send")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", server.Sign(secret, body))
	where := u.Redacted()
	fmt.Fprintf(stdout, "POST %s: %s delivery %s (%s example, %d bytes)\n", where, event, delivery, name, len(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return &exitError{code: exitFindings, err: fmt.Errorf("send to %s: %v (is housekeeper serve running there?)", where, unwrapURLError(err))}
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	fmt.Fprintf(stdout, "%s %s\n", res.Status, strings.TrimSpace(string(answer)))
	if res.StatusCode/100 != 2 {
		hint := ""
		if res.StatusCode == http.StatusBadRequest {
			hint = " (a wrong signature is a 400: the secret must be the server's GITHUB_APP_WEBHOOK_SECRET)"
		}
		return &exitError{code: exitFindings, err: fmt.Errorf("the server answered %s%s", res.Status, hint)}
	}
	return nil
}

// hookSecret reads the webhook secret as serve does: a file drops one
// trailing newline.
func hookSecret(file string, getenv func(string) string) ([]byte, error) {
	from := "--secret-file"
	if file == "" {
		if v := getenv("GITHUB_APP_WEBHOOK_SECRET"); v != "" {
			return []byte(v), nil
		}
		file, from = getenv("GITHUB_APP_WEBHOOK_SECRET_PATH"), "GITHUB_APP_WEBHOOK_SECRET_PATH"
	}
	if file == "" {
		return nil, fmt.Errorf("no webhook secret: give --secret-file, or set GITHUB_APP_WEBHOOK_SECRET or GITHUB_APP_WEBHOOK_SECRET_PATH as for serve")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", from, err)
	}
	data = []byte(strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r"))
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: the file %s is empty", from, file)
	}
	return data, nil
}

// unwrapURLError drops net/http's "Post \"URL\": " prefix, which would
// repeat the URL (and any credentials in it).
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
