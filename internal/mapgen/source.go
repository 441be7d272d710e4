package mapgen

import (
	"fmt"
	"io"
	"sort"

	"github.com/housekeeper-app/housekeeper/internal/manifest"
)

// Mem is a tree held in memory (a tarball's files, tests). It keeps the
// bytes of the files Wanted names, up to MaxFileRead each and MaxTotalRead
// in all; other files count for the layout only.
type Mem struct {
	files []File
	data  map[string][]byte
	total int64
}

// NewMem returns an empty tree.
func NewMem() *Mem { return &Mem{data: map[string][]byte{}} }

// MaxAddRead is the most Mem.Add reads of one file (a YAML file's limit):
// a caller streaming a large file need only give it that much.
const MaxAddRead = max(MaxFileRead, manifest.MaxSize)

// Add records a file; r is read (bounded) only for regular files inference
// may need. It returns how many bytes it kept.
func (m *Mem) Add(f File, r io.Reader) (int64, error) {
	m.files = append(m.files, f)
	if !f.Regular || r == nil || !Wanted(f.Path) || m.total >= MaxTotalRead {
		return 0, nil
	}
	limit := min(int64(MaxFileRead), MaxTotalRead-m.total)
	if manifest.IsYAML(f.Path) {
		limit = min(int64(manifest.MaxSize), MaxTotalRead-m.total)
	}
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", f.Path, err)
	}
	m.data[f.Path] = data
	m.total += int64(len(data))
	return int64(len(data)), nil
}

// Files implements Source.
func (m *Mem) Files() []File {
	out := append([]File(nil), m.files...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Read implements Source.
func (m *Mem) Read(p string, limit int64) ([]byte, error) {
	d, ok := m.data[p]
	if !ok {
		return nil, fmt.Errorf("%s: not kept", p)
	}
	if int64(len(d)) > limit {
		d = d[:limit]
	}
	return d, nil
}
