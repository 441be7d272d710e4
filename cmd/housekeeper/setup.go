package main

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/housekeeper-app/housekeeper/internal/setup"
)

// exitSetupFailed is setup's status when the registration did not complete.
const exitSetupFailed = 1

type setupFlags struct {
	org, publicURL, out, listen, name, manifest, localURL string
	force, listenPublic                                   bool
}

func newSetupCmd() *cobra.Command {
	var f setupFlags
	cmd := &cobra.Command{
		Use:   "setup --url PUBLIC_URL [--org ORG] [--out DIR]",
		Short: "Register the GitHub App from app.yml (GitHub's App-manifest flow)",
		Long: `Registers Housekeeper as a GitHub App through GitHub's App-manifest flow.

It reads the manifest (app.yml), points its webhook at PUBLIC_URL/api/github/hook,
and serves a local page (--listen) whose form posts the manifest to GitHub for
your account, or for --org. GitHub then redirects the browser back to the local
page with a one-time code, which setup exchanges for the App's id, private key
and webhook secret. They are written to --out as app-id, private-key.pem and
webhook-secret (mode 0600; existing files are kept unless --force). The settings
for "housekeeper serve" and the App's install URL are printed; the key and the
secret never are. setup ends after one registration, or on Ctrl-C.

GitHub Enterprise Server: set GITHUB_WEB_URL (and GITHUB_V3_API_URL when it is
not GITHUB_WEB_URL/api/v3/). See docs/setup.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSetup(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.publicURL, "url", "", "the App's public base URL; the webhook is URL/api/github/hook (required)")
	fl.StringVar(&f.org, "org", "", "register the App for this organisation (default: your personal account)")
	fl.StringVar(&f.out, "out", ".", "directory for app-id, private-key.pem and webhook-secret")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:3000", "address of the local setup page")
	fl.StringVar(&f.name, "name", "", "the App's name (default: the manifest's; App names are unique on GitHub)")
	fl.StringVar(&f.manifest, "manifest", "app.yml", "the App manifest")
	fl.BoolVar(&f.force, "force", false, "overwrite existing credential files")
	fl.BoolVar(&f.listenPublic, "listen-public", false, "allow --listen on an address other machines reach (risky: see docs/setup.md); needs --local-url")
	fl.StringVar(&f.localURL, "local-url", "", "with --listen-public: http://HOST:PORT, the address your browser uses for the setup page")
	return cmd
}

func runSetup(cmd *cobra.Command, f setupFlags) error {
	if f.publicURL == "" {
		return usageErr("setup needs --url, the App's public base URL (its webhook is URL/api/github/hook)")
	}
	m, err := setup.LoadManifest(f.manifest)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !cmd.Flags().Changed("manifest"):
		return usageErr("no %s in this directory: setup registers the App from Housekeeper's manifest, app.yml at the top of a Housekeeper checkout; run it there, or give --manifest PATH/TO/app.yml", f.manifest)
	case errors.Is(err, fs.ErrNotExist):
		return usageErr("%v (--manifest names Housekeeper's app.yml, at the top of its checkout)", err)
	case err != nil:
		return usageErr("%v", err)
	}
	web, api := setupURLs(os.Getenv)
	opts := setup.Options{
		Manifest:  m,
		Org:       f.org,
		Name:      f.name,
		PublicURL: f.publicURL,
		WebURL:    web,
		APIURL:    api,
		OutDir:    f.out,
		Force:     f.force,

		ListenPublic: f.listenPublic,
		LocalURL:     f.localURL,
	}
	if err := setup.CheckListen(f.listen, opts); err != nil {
		return usageErr("%v", err)
	}
	if _, err := m.Rewrite(setup.RewriteOptions{Name: f.name, PublicURL: f.publicURL}); err != nil {
		return usageErr("%v", err)
	}
	if _, err := setup.Run(cmd.Context(), opts, f.listen, cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
		return &exitError{code: exitSetupFailed, err: err}
	}
	return nil
}

// setupURLs reads GitHub's URLs as serve does. On GitHub Enterprise Server
// the API lives at WEB/api/v3/, so setting GITHUB_WEB_URL alone suffices.
func setupURLs(getenv func(string) string) (web, api string) {
	web, api = getenv("GITHUB_WEB_URL"), getenv("GITHUB_V3_API_URL")
	if web == "" {
		web = setup.DefaultWebURL
	}
	if api == "" {
		if strings.TrimRight(web, "/") == strings.TrimRight(setup.DefaultWebURL, "/") {
			api = setup.DefaultAPIURL
		} else {
			api = strings.TrimRight(web, "/") + "/api/v3/"
		}
	}
	return web, api
}
