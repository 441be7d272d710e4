package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// repoRoot is the product repository, one level above this module.
const repoRoot = ".."

// secretName matches ARG and ENV names that look like they carry a secret.
var secretName = regexp.MustCompile(`(?i)(TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|API_?KEY|(^|_)KEY($|_))`)

// digestSuffix is how a FROM takes its digest from a build argument.
var digestSuffix = regexp.MustCompile(`\$\{([A-Z_]+_DIGEST):\+@\}\$\{([A-Z_]+_DIGEST)\}$`)

// secretFile matches COPY/ADD sources that are keys, env files or other
// credential files.
var secretFile = regexp.MustCompile(`(?i)(\.pem$|\.key$|\.p12$|\.pfx$|(^|/)\.env(\.|$)|(^|/)id_(rsa|ed25519|ecdsa)|\.tfvars$|\.tfstate|(^|/)\.npmrc$|kubeconfig|(^|/)\.git(/|$)|\.docker/config\.json$)`)

func TestDockerfile(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkDockerfile(string(src)) {
		t.Error(p)
	}
}

// TestDockerfileCheckerCatches makes sure every rule of checkDockerfile fires
// on a Dockerfile that breaks it.
func TestDockerfileCheckerCatches(t *testing.T) {
	good := `ARG GO_DIGEST=
ARG RUNTIME_DIGEST=
FROM golang:1.26${GO_DIGEST:+@}${GO_DIGEST} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/housekeeper ./cmd/housekeeper
FROM gcr.io/distroless/static-debian12:nonroot${RUNTIME_DIGEST:+@}${RUNTIME_DIGEST}
COPY --from=build /out/housekeeper /housekeeper
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/housekeeper"]
CMD ["serve"]
`
	if got := checkDockerfile(good); len(got) != 0 {
		t.Fatalf("the reference Dockerfile has problems: %q", got)
	}
	tests := map[string]struct {
		old, new string // replace old with new in good
		want     string // a substring of one problem
	}{
		"single stage":         {"FROM gcr.io/distroless/static-debian12:nonroot${RUNTIME_DIGEST:+@}${RUNTIME_DIGEST}\nCOPY --from=build /out/housekeeper /housekeeper\n", "", "stages"},
		"fat final base":       {"gcr.io/distroless/static-debian12:nonroot", "debian:12", "final stage"},
		"runtime not pinnable": {"nonroot${RUNTIME_DIGEST:+@}${RUNTIME_DIGEST}", "nonroot", "digest"},
		"builder not pinnable": {"golang:1.26${GO_DIGEST:+@}${GO_DIGEST}", "golang:1.26", "digest"},
		"digest arg set":       {"ARG GO_DIGEST=\n", "ARG GO_DIGEST=sha256:0000\n", "empty default"},
		"digest arg missing":   {"ARG GO_DIGEST=\n", "", "GO_DIGEST"},
		"cgo on":               {"CGO_ENABLED=0 ", "", "CGO_ENABLED=0"},
		"no trimpath":          {"-trimpath ", "", "-trimpath"},
		"version not stamped":  {"-X main.version=${VERSION}", "", "main.version"},
		"version literal":      {"-X main.version=${VERSION}", "-X main.version=1.2.3", "main.version"},
		"version arg missing":  {"ARG VERSION=dev\n", "", "ARG VERSION"},
		"root user":            {"USER nonroot:nonroot", "USER root", "non-root"},
		"uid 0":                {"USER nonroot:nonroot", "USER 0:0", "non-root"},
		"no user":              {"USER nonroot:nonroot\n", "", "USER"},
		"secret arg":           {"ARG VERSION=dev\n", "ARG VERSION=dev\nARG GITHUB_TOKEN\n", "GITHUB_TOKEN"},
		"secret env":           {"WORKDIR /src\n", "WORKDIR /src\nENV WEBHOOK_SECRET=x\n", "WEBHOOK_SECRET"},
		"private key env":      {"WORKDIR /src\n", "WORKDIR /src\nENV GITHUB_APP_PRIVATE_KEY_PATH=/k\n", "GITHUB_APP_PRIVATE_KEY_PATH"},
		"copy pem":             {"COPY --from=build", "COPY app.pem /app.pem\nCOPY --from=build", "app.pem"},
		"copy env":             {"COPY go.mod go.sum ./", "COPY go.mod go.sum .env ./", ".env"},
		"add key":              {"WORKDIR /src\n", "WORKDIR /src\nADD deploy/id_rsa /root/.ssh/id_rsa\n", "id_rsa"},
		"no mod download":      {"RUN go mod download\n", "", "go mod download"},
		"mod download late":    {"RUN go mod download\nCOPY . .\n", "COPY . .\nRUN go mod download\n", "go mod download"},
		"no entrypoint":        {"ENTRYPOINT [\"/housekeeper\"]\n", "", "ENTRYPOINT"},
		"shell entrypoint":     {"ENTRYPOINT [\"/housekeeper\"]", "ENTRYPOINT /housekeeper", "ENTRYPOINT"},
		"no serve":             {"CMD [\"serve\"]\n", "", "CMD"},
		"no expose":            {"EXPOSE 8080\n", "", "EXPOSE 8080"},
		"wrong builder":        {"golang:1.26", "golang:1.22", "golang:1.26"},
		"lint: as casing":      {"${GO_DIGEST} AS build", "${GO_DIGEST} as build", "FromAsCasing"},
		"lint: stage casing":   {"${GO_DIGEST} AS build", "${GO_DIGEST} AS Build", "StageNameCasing"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("test case does not apply: %q not in the reference Dockerfile", tc.old)
			}
			bad := strings.Replace(good, tc.old, tc.new, 1)
			got := checkDockerfile(bad)
			if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem mentions %q; got %q", tc.want, got)
			}
		})
	}
}

// checkDockerfile parses a Dockerfile with BuildKit's own parser and returns
// every way it breaks the image rules of docs/deploy.md.
func checkDockerfile(src string) []string {
	var problems []string
	add := func(p string) { problems = append(problems, p) }

	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		return []string{"parse: " + err.Error()}
	}
	for _, w := range res.Warnings {
		add("parser warning: " + w.Short)
	}
	// The BuildKit lint rules that run while parsing instructions (stage name
	// and FROM … AS casing, MAINTAINER), as `docker build --check` reports
	// them. The other rules need BuildKit's LLB converter, a much heavier
	// dependency; the checks below cover the ones that matter here
	// (SecretsUsedInArgOrEnv, JSONArgsRecommended).
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		add("lint " + rule + " (line " + strconv.Itoa(line) + "): " + msg)
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return []string{"parse instructions: " + err.Error()}
	}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if secretName.MatchString(kv.Key) {
				add("global ARG " + kv.Key + " looks like a secret: pass secrets at run time, never at build time")
			}
		}
	}
	// Every base image can be pinned by digest from a build argument (the
	// tag alone when it is empty; no digest is committed, since none can be
	// checked where the tests run).
	defaults := map[string]*string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			defaults[kv.Key] = kv.Value
		}
	}
	for _, st := range stages {
		if st.BaseName == "scratch" || slices.ContainsFunc(stages, func(o instructions.Stage) bool { return o.Name != "" && o.Name == st.BaseName }) {
			continue
		}
		m := digestSuffix.FindStringSubmatch(st.BaseName)
		if m == nil || m[1] != m[2] {
			add("stage " + stageName(st) + ": FROM " + st.BaseName + " cannot be pinned by digest: end it with ${NAME_DIGEST:+@}${NAME_DIGEST}")
			continue
		}
		def, ok := defaults[m[1]]
		switch {
		case !ok:
			add("stage " + stageName(st) + ": FROM uses " + m[1] + ", which no global ARG declares")
		case def != nil && *def != "":
			add("global ARG " + m[1] + " must have an empty default (the tag alone), got " + *def)
		}
		for _, digest := range []string{"", "sha256:" + strings.Repeat("ab", 32)} {
			got, _, err := shell.NewLex('\\').ProcessWord(st.BaseName, shell.EnvsFromSlice([]string{m[1] + "=" + digest}))
			want := strings.TrimSuffix(st.BaseName, m[0])
			if digest != "" {
				want += "@" + digest
			}
			if err != nil || got != want {
				add("stage " + stageName(st) + ": FROM with " + m[1] + "=" + digest + " expands to " + got + ", want " + want)
			}
		}
	}

	if len(stages) < 2 {
		add("want at least 2 stages (builder and runtime), got " + strconv.Itoa(len(stages)))
	}
	if len(stages) == 0 {
		return problems
	}

	// Every stage: no secret-looking ARG/ENV, no COPY/ADD of credential files.
	for _, st := range stages {
		for _, cmd := range st.Commands {
			switch c := cmd.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					if secretName.MatchString(kv.Key) {
						add("stage " + stageName(st) + ": ARG " + kv.Key + " looks like a secret: build args end up in the image history")
					}
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if secretName.MatchString(kv.Key) {
						add("stage " + stageName(st) + ": ENV " + kv.Key + " looks like a secret: the image must carry none")
					}
				}
			case *instructions.CopyCommand:
				for _, s := range c.SourcePaths {
					if secretFile.MatchString(s) {
						add("stage " + stageName(st) + ": COPY of " + s + " puts a credential file into the image")
					}
				}
			case *instructions.AddCommand:
				for _, s := range c.SourcePaths {
					if secretFile.MatchString(s) {
						add("stage " + stageName(st) + ": ADD of " + s + " puts a credential file into the image")
					}
				}
			}
		}
	}

	// The builder: golang:1.26, modules downloaded before the sources are
	// copied, a static trimmed build with the version stamped from an ARG.
	builder := stages[0]
	if !strings.HasPrefix(builder.BaseName, "golang:1.26") {
		add("builder stage must start FROM golang:1.26, got " + builder.BaseName)
	}
	var (
		downloadAt, copyAllAt = -1, -1
		versionArgAt          = -1
		buildSeen             bool
	)
	for i, cmd := range builder.Commands {
		switch c := cmd.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if kv.Key == "VERSION" && versionArgAt < 0 {
					versionArgAt = i
				}
			}
		case *instructions.CopyCommand:
			if slices.Contains(c.SourcePaths, ".") && copyAllAt < 0 {
				copyAllAt = i
			}
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if strings.Contains(line, "go mod download") && downloadAt < 0 {
				downloadAt = i
			}
			if !strings.Contains(line, "go build") {
				continue
			}
			buildSeen = true
			if !strings.Contains(line, "CGO_ENABLED=0") {
				add("the go build must set CGO_ENABLED=0 for a static binary")
			}
			if !strings.Contains(line, "-trimpath") {
				add("the go build must use -trimpath")
			}
			if !regexp.MustCompile(`-X\s*'?main\.version=\$\{?VERSION\}?`).MatchString(line) {
				add("the go build must stamp -X main.version=${VERSION}")
			}
			if !strings.Contains(line, "./cmd/housekeeper") {
				add("the go build must build ./cmd/housekeeper")
			}
			if versionArgAt < 0 || versionArgAt > i {
				add("ARG VERSION must be declared in the builder stage before the go build")
			}
		}
	}
	if !buildSeen {
		add("the builder stage has no RUN go build")
	}
	if downloadAt < 0 || (copyAllAt >= 0 && downloadAt > copyAllAt) {
		add("the builder stage must RUN go mod download before COPY . . so the module layer is cached")
	}

	// The runtime: distroless static (or scratch), non-root, the binary as
	// entrypoint, serve as the default command.
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.BaseName, "gcr.io/distroless/static") && final.BaseName != "scratch" {
		add("final stage must be FROM gcr.io/distroless/static* or scratch, got " + final.BaseName)
	}
	var user string
	var entrypoint, cmdArgs *instructions.ShellDependantCmdLine
	exposed := false
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entrypoint = &c.ShellDependantCmdLine
		case *instructions.CmdCommand:
			cmdArgs = &c.ShellDependantCmdLine
		case *instructions.ExposeCommand:
			exposed = exposed || slices.Contains(c.Ports, "8080") || slices.Contains(c.Ports, "8080/tcp")
		}
	}
	switch {
	case user == "":
		add("final stage sets no USER: the image must run non-root")
	case isRootUser(user):
		add("final stage USER " + user + " is root: the image must run non-root (nonroot or 65532)")
	}
	if entrypoint == nil || entrypoint.PrependShell || !slices.Equal(entrypoint.CmdLine, []string{"/housekeeper"}) {
		add(`final stage must have ENTRYPOINT ["/housekeeper"] (exec form)`)
	}
	if cmdArgs == nil || cmdArgs.PrependShell || !slices.Equal(cmdArgs.CmdLine, []string{"serve"}) {
		add(`final stage must have CMD ["serve"] (exec form)`)
	}
	if !exposed {
		add("final stage must EXPOSE 8080")
	}
	return problems
}

// isRootUser reports whether a USER value (user[:group]) runs as root.
func isRootUser(u string) bool {
	name, group, _ := strings.Cut(u, ":")
	return name == "root" || name == "0" || group == "root" || group == "0"
}

func stageName(st instructions.Stage) string {
	if st.Name != "" {
		return st.Name
	}
	return st.BaseName
}
