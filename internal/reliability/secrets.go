package reliability

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"sync"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// Planted is a set of files holding secrets, and the secret values in
// them (the random parts, at least 8 characters, built at run time).
type Planted struct {
	Files  map[string]string
	Values []string
	Rules  []string // the rules planted, one per file
	of     []string // the rule of each value
}

// Plant builds n files, each holding one secret that the engine finds,
// from as many different rules' own samples as there are (then round
// again), under leaks/.
func Plant(n int, seed uint64) (Planted, error) {
	s, err := secrets.New(secrets.Options{})
	if err != nil {
		return Planted{}, err
	}
	g := corpus.NewRand(seed)
	p := Planted{Files: map[string]string{}}
	rules := s.Rules().Rules()
	for round := 0; len(p.Values) < n && round < 5; round++ {
		for _, r := range rules {
			if len(p.Rules) >= n {
				break
			}
			if r.Tests == nil || len(r.Tests.Match) == 0 {
				continue
			}
			name := r.Tests.Path
			if name == "" {
				name = "sample.txt"
			}
			tmpl := r.Tests.Match[round%len(r.Tests.Match)]
			content, pieces := g.ExpandRecord(tmpl)
			var long []string
			for _, pc := range pieces {
				if len(pc) >= 8 {
					long = append(long, pc)
				}
			}
			if len(long) == 0 {
				continue // a file rule, or too short to search for
			}
			file := path.Join("leaks", fmt.Sprintf("%02d", len(p.Rules)), name)
			found := false
			for _, f := range s.ScanContent(file, []byte(content)) {
				found = found || f.RuleID == r.ID
			}
			if !found {
				continue // the sample needs a path or context this file lacks
			}
			p.Files[file] = content + "\n"
			p.Values = append(p.Values, long...)
			for range long {
				p.of = append(p.of, r.ID)
			}
			p.Rules = append(p.Rules, r.ID)
		}
	}
	if len(p.Rules) < n {
		return p, fmt.Errorf("planted %d secrets, want %d", len(p.Rules), n)
	}
	return p, nil
}

// Hits lists "value in source" for each planted value found in a source.
func (p Planted) Hits(sources map[string][]byte) []string {
	var hits []string
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, v := range p.Values {
		for _, name := range names {
			if bytes.Contains(sources[name], []byte(v)) {
				hits = append(hits, fmt.Sprintf("value %d (rule %s, %d characters) in %s", i, p.ruleOf(i), len(v), name))
			}
		}
	}
	return hits
}

func (p Planted) ruleOf(i int) string {
	if i < len(p.of) {
		return p.of[i]
	}
	return "?"
}

// Recorder is an http.Handler in front of the emulator that keeps every
// byte the App sends to GitHub: request lines, headers and bodies.
type Recorder struct {
	Next http.Handler
	mu   sync.Mutex
	buf  bytes.Buffer
}

// ServeHTTP implements http.Handler.
func (rc *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	fmt.Fprintf(&rc.buf, "%s %s\n", r.Method, r.URL.String())
	_ = r.Header.Write(&rc.buf)
	rc.buf.Write(body)
	rc.buf.WriteString("\n\n")
	rc.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	rc.Next.ServeHTTP(w, r)
}

// Bytes returns everything recorded so far.
func (rc *Recorder) Bytes() []byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]byte(nil), rc.buf.Bytes()...)
}
