package secrets_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/housekeeper-app/housekeeper/internal/secrets"
	"github.com/housekeeper-app/housekeeper/internal/secrets/corpus"
)

// genReader yields n bytes of unit repeated, then tail, without holding
// them: the test measures the scanner's memory, not its input's.
type genReader struct {
	unit []byte
	n    int // bytes of unit still to give
	tail []byte
	pos  int
}

func (g *genReader) Read(p []byte) (int, error) {
	w := 0
	for w < len(p) && g.n > 0 {
		k := copy(p[w:min(len(p), w+g.n)], g.unit[g.pos:])
		g.pos = (g.pos + k) % len(g.unit)
		g.n -= k
		w += k
	}
	if g.n == 0 && w < len(p) {
		k := copy(p[w:], g.tail)
		g.tail = g.tail[k:]
		w += k
	}
	if w == 0 {
		return 0, io.EOF
	}
	return w, nil
}

// A whole file is streamed through a bounded window: 16 MiB of newlines
// (the old code held a string per line, ~110× the file) or of text cost a
// few MiB, and a token at the very end is found at its line.
func TestScanChangeStreamsWholeFiles(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	tok := "gh" + "p_" + corpus.NewRand(3).String(corpus.Alnum, 36)
	size := 16 << 20
	if raceEnabled {
		size = 6 << 20 // still past the 4 MiB held whole
	}
	for name, unit := range map[string]string{
		"newlines": "\n",
		"text":     "INSERT INTO t VALUES (42, 'an ordinary row', 'password', 'token');\n",
	} {
		t.Run(name, func(t *testing.T) {
			n := size / len(unit) * len(unit)
			d := secrets.FileDiff{NewPath: "db/dump.sql", Open: func() (io.ReadCloser, error) {
				return io.NopCloser(&genReader{unit: []byte(unit), n: n, tail: []byte("-- " + tok + "\n")}), nil
			}}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			fs, skip, err := s.ScanChange(context.Background(), d, nil)
			runtime.ReadMemStats(&after)
			if err != nil || skip != "" {
				t.Fatalf("skip %q, err %v", skip, err)
			}
			if g, want := got(fs), []string{"github-pat@" + itoa(n/len(unit)+1) + ":4"}; !reflect.DeepEqual(g, want) {
				t.Errorf("findings %v, want %v", g, want)
			}
			// The window is 4 MiB; allow generously for the test's own
			// allocations, below the file's 16 MiB.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("scanning a %d MiB file allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))
			if alloc > 12<<20 && !raceEnabled {
				t.Errorf("scanning a %d MiB file allocated %d MiB", size>>20, alloc>>20)
			}
		})
	}
}

// Streaming finds exactly what scanning the file held whole finds, with
// secrets (a PEM block too) straddling every window boundary.
func TestScanReaderMatchesWholeScan(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(9)
	var b bytes.Buffer
	filler := "    value_" + strings.Repeat("x", 50) + " = compute(a, b) # nothing to see\n"
	i := 0
	for b.Len() < 9<<20 {
		// A secret every ~150 KiB, at shifting offsets, so that some land
		// on the window's edges.
		for b.Len()%(150<<10) > 200 || i%7 == 3 {
			b.WriteString(filler[:10+i%40] + "\n")
			i++
		}
		i++
		switch i % 3 {
		case 0:
			b.WriteString("token: gh" + "p_" + g.String(corpus.Alnum, 36) + "\n")
		case 1:
			b.WriteString("-----BEGIN " + "RSA PRIVATE KEY-----\n")
			for range 12 {
				b.WriteString(g.String(corpus.B64, 64) + "\n")
			}
			b.WriteString("-----END " + "RSA PRIVATE KEY-----\n")
		default:
			b.WriteString("db_password = \"" + g.String(corpus.Alnum, 20) + "\"\n")
		}
	}
	data := b.Bytes()
	whole, err := s.Scan(context.Background(), "conf/app.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	streamed, skip, err := s.ScanReader(context.Background(), "conf/app.txt", iotestHalfReader{bytes.NewReader(data)})
	if err != nil || skip != "" {
		t.Fatalf("skip %q, err %v", skip, err)
	}
	// Whole: the per-rule cap applies the same way; compare all of it.
	if len(whole) < 100 {
		t.Fatalf("only %d findings in the whole scan", len(whole))
	}
	if !reflect.DeepEqual(whole, streamed) {
		gw, gs := got(whole), got(streamed)
		for i := 0; i < min(len(gw), len(gs)); i++ {
			if gw[i] != gs[i] {
				t.Fatalf("finding %d: whole %s, streamed %s (of %d / %d)", i, gw[i], gs[i], len(gw), len(gs))
			}
		}
		t.Fatalf("whole %d findings, streamed %d", len(gw), len(gs))
	}
}

// iotestHalfReader returns at most half of what is asked, to exercise
// short reads.
type iotestHalfReader struct{ r io.Reader }

func (h iotestHalfReader) Read(p []byte) (int, error) { return h.r.Read(p[:(len(p)+1)/2]) }

// A file over max_file_size is scanned up to it and reported too large;
// a binary one is not content-scanned.
func TestScanReaderLimits(t *testing.T) {
	s := newScanner(t, secrets.Options{MaxFileSize: 8 << 20})
	g := corpus.NewRand(4)
	early, late := "gh"+"p_"+g.String(corpus.Alnum, 36), "gh"+"p_"+g.String(corpus.Alnum, 36)
	line := strings.Repeat("z", 99) + "\n"
	content := "a: " + early + "\n" + strings.Repeat(line, 9<<20/100) + "b: " + late + "\n"
	fs, skip, err := s.ScanReader(context.Background(), "big.txt", strings.NewReader(content))
	if err != nil || skip != secrets.SkipTooLarge {
		t.Fatalf("skip %q, err %v", skip, err)
	}
	if g := got(fs); !reflect.DeepEqual(g, []string{"github-pat@1:4"}) {
		t.Errorf("findings %v: want the one before the limit", g)
	}
	fs, skip, err = s.ScanReader(context.Background(), "img.png", strings.NewReader("\x89PNG\x00\x00token: "+early))
	if err != nil || skip != secrets.SkipBinary || len(fs) != 0 {
		t.Errorf("binary: %v, skip %q, err %v", got(fs), skip, err)
	}
	// Lock files and minified files are text, and scanned.
	for _, p := range []string{"package-lock.json", "web/app.min.js", "go.sum"} {
		if fs := s.ScanContent(p, []byte(`{"token": "`+early+`"}`)); len(fs) != 1 {
			t.Errorf("%s: %v", p, got(fs))
		}
	}
}

// One file reports at most 100 findings per rule, then one that says how
// many more matches there were (counted past the cheap filters only).
func TestFindingsCappedPerFileAndRule(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(5)
	var b strings.Builder
	matches := 0 // lines the rule finds on their own (a random value may look like a placeholder)
	for range 250 {
		l := "password: '" + g.String(corpus.Alnum, 24) + "'\n"
		matches += len(s.ScanContent("conf/users.yml", []byte(l)))
		b.WriteString(l)
	}
	b.WriteString("token: gh" + "p_" + g.String(corpus.Alnum, 36) + "\n")
	fs := s.ScanContent("conf/users.yml", []byte(b.String()))
	count := map[string]int{}
	var capped []secrets.Finding
	for _, f := range fs {
		if f.Kind == secrets.KindCapped {
			capped = append(capped, f)
			continue
		}
		count[f.RuleID]++
	}
	if count["generic-password"] != secrets.MaxFindingsPerRule || count["github-pat"] != 1 {
		t.Errorf("counts %v", count)
	}
	if len(capped) != 1 || capped[0].RuleID != "generic-password" || capped[0].Omitted < matches-secrets.MaxFindingsPerRule || capped[0].Omitted > 250-secrets.MaxFindingsPerRule || capped[0].Path != "conf/users.yml" {
		t.Errorf("capped %+v (omitted %d)", capped, capped[0].Omitted)
	}
}

// Every scan stops at its context's end, returns what it found, and says
// where it stopped.
func TestScansStopAtTheDeadline(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	tok := "gh" + "p_" + corpus.NewRand(6).String(corpus.Alnum, 36)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	unit := []byte("token: " + tok + "\n" + strings.Repeat("filler line\n", 1000))
	// The reader cancels the scan once 20 MiB were read.
	r := &cancelAfter{r: &genReader{unit: unit, n: 64 << 20 / len(unit) * len(unit)}, after: 20 << 20, cancel: cancel}
	fs, skip, err := s.ScanReader(ctx, "logs/huge.log", r)
	var stop *secrets.StopError
	if !errors.As(err, &stop) || !errors.Is(err, context.Canceled) || skip != secrets.SkipStopped {
		t.Fatalf("err %v, skip %q", err, skip)
	}
	if stop.Path != "logs/huge.log" || stop.Line < 1000 || stop.Line > 64<<20/len(unit)*1001 {
		t.Errorf("stopped at %s line %d", stop.Path, stop.Line)
	}
	// The token repeats every 1,001 lines: each copy read before the stop
	// is reported (up to the per-rule cap), nothing else.
	if len(fs) == 0 || fs[0].RuleID != "github-pat" || fs[0].Line != 1 {
		t.Errorf("findings before the stop: %v", got(fs))
	}
	for _, f := range fs {
		if f.Kind != secrets.KindCapped && (f.RuleID != "github-pat" || f.Line%1001 != 1) {
			t.Errorf("finding before the stop: %v", got([]secrets.Finding{f}))
		}
	}
	if _, err := s.Scan(ctx, "a.txt", unit); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan after cancel: %v", err)
	}
	d := secrets.FileDiff{NewPath: "a.txt", Added: []secrets.DiffLine{{Line: 1, Text: "token: " + tok}}}
	if _, _, err := s.ScanChange(ctx, d, nil); !errors.As(err, &stop) {
		t.Errorf("ScanChange after cancel: %v", err)
	}
}

// A read the deadline breaks (a download cut short) says where the scan
// stopped, as a stop, not as a file that could not be read.
func TestReadCutByTheDeadlineIsAStop(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	unit := []byte("an ordinary line of a dump\n")
	r := &cancelAfter{r: &genReader{unit: unit, n: 64 << 20}, after: 10 << 20, cancel: cancel, fail: ctx.Err}
	_, skip, err := s.ScanReader(ctx, "db/dump.sql", r)
	var stop *secrets.StopError
	if !errors.As(err, &stop) || skip != secrets.SkipStopped || stop.Path != "db/dump.sql" || stop.Line < (4<<20)/len(unit) || stop.Line > (10<<20)/len(unit) {
		t.Fatalf("err %v, skip %q", err, skip)
	}
	d := secrets.FileDiff{NewPath: "db/later.sql", Open: func() (io.ReadCloser, error) { return nil, ctx.Err() }}
	if _, skip, err := s.ScanChange(ctx, d, nil); !errors.As(err, &stop) || stop.Path != "db/later.sql" || stop.Line != 1 || skip != secrets.SkipStopped {
		t.Errorf("open after the deadline: skip %q, err %v", skip, err)
	}
}

type cancelAfter struct {
	r      io.Reader
	n      int
	after  int
	cancel func()
	fail   func() error // set: once cancelled, reads fail with it (as a download's body)
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.fail != nil && c.n >= c.after {
		return 0, c.fail()
	}
	n, err := c.r.Read(p)
	if c.n += n; c.n >= c.after {
		c.cancel()
	}
	return n, err
}

// An inline allow on any line of a private key block counts, and says
// which line carries it (the caller honours it only where that line is
// already on the base).
func TestAllowOnAnyLineOfAKeyBlock(t *testing.T) {
	s := newScanner(t, secrets.Options{})
	g := corpus.NewRand(8)
	body := []string{g.String(corpus.B64, 64), g.String(corpus.B64, 64), g.String(corpus.B64, 40)}
	block := func(allowAt int) string {
		lines := []string{"-----BEGIN " + "RSA PRIVATE KEY-----"}
		lines = append(lines, body...)
		lines = append(lines, "-----END "+"RSA PRIVATE KEY-----")
		if allowAt >= 0 {
			lines[allowAt] += " # pragma: allowlist secret (test key)"
		}
		return "# key\n" + strings.Join(lines, "\n") + "\n"
	}
	for allowAt, wantLine := range map[int]int{-1: 0, 4: 6} {
		fs := s.ScanContent("deploy/key.txt", []byte(block(allowAt)))
		if len(fs) != 1 {
			t.Fatalf("allow at %d: %v", allowAt, got(fs))
		}
		wantBy := ""
		if wantLine > 0 {
			wantBy = "pragma: allowlist secret"
		}
		if fs[0].Allowed != (wantLine > 0) || fs[0].AllowedLine != wantLine || fs[0].AllowedBy != wantBy {
			t.Errorf("allow at %d: allowed %v by %q on line %d, want line %d", allowAt, fs[0].Allowed, fs[0].AllowedBy, fs[0].AllowedLine, wantLine)
		}
	}
}
