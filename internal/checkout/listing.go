package checkout

import (
	"context"
	"fmt"
	"io/fs"
	"iter"
	"sync"
)

// Listing is a working tree's file list as it is read: in a plain
// directory the walk goes on in the background while a consumer takes the
// files already listed (Stream), so a scan starts on the first directory
// rather than after the last.
type Listing struct {
	mu    sync.Mutex
	files []File // in the order of WorkingFiles; only ever appended to
	done  bool
	err   error
	grown chan struct{} // closed (and replaced) when files grow or the walk ends
}

func newListing() *Listing {
	return &Listing{grown: make(chan struct{})}
}

// doneListing is a listing read at once (a checkout's, from the index).
func doneListing(files []File) *Listing {
	l := newListing()
	l.files, l.done = files, true
	close(l.grown)
	return l
}

func (l *Listing) add(batch []File) {
	l.mu.Lock()
	l.files = append(l.files, batch...)
	close(l.grown)
	l.grown = make(chan struct{})
	l.mu.Unlock()
}

func (l *Listing) finish(err error) {
	l.mu.Lock()
	l.done, l.err = true, err
	close(l.grown)
	l.mu.Unlock()
}

// Files waits for the walk to end and returns every file, as WorkingFiles
// does (except that sizes may be unknown, see ListWorking). The slice is
// shared: callers must not change it.
func (l *Listing) Files() ([]File, error) {
	for {
		l.mu.Lock()
		files, done, err, grown := l.files, l.done, l.err, l.grown
		l.mu.Unlock()
		if done {
			if err != nil {
				return nil, err
			}
			return files, nil
		}
		<-grown
	}
}

// Stream yields every file once, in the order of Files, as soon as the
// walk has listed it; a walk's error ends the sequence (yielded with a zero
// File), after the files listed before it. Several streams may run at
// once, and after Files.
func (l *Listing) Stream() iter.Seq2[File, error] {
	return func(yield func(File, error) bool) {
		i := 0
		for {
			l.mu.Lock()
			files, done, err, grown := l.files, l.done, l.err, l.grown
			l.mu.Unlock()
			for ; i < len(files); i++ {
				if !yield(files[i], nil) {
					return
				}
			}
			if done {
				if err != nil {
					yield(File{}, err)
				}
				return
			}
			<-grown
		}
	}
}

// Count says how many files are listed so far, and whether that is all.
func (l *Listing) Count() (n int, done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.files), l.done
}

// ListWorking lists the files of the working tree as WorkingFiles does. A
// checkout's list is read at once (its error returned here); a plain
// directory's is walked in the background, its error coming through the
// Listing, and its files' sizes are not read (Size is -1: a reader learns
// it when it opens the file, which saves a system call per file). The walk
// stops when ctx ends or the Repo is closed.
func (r *Repo) ListWorking(ctx context.Context) (*Listing, error) {
	if r.Git {
		files, err := r.trackedFiles(ctx)
		if err != nil {
			return nil, err
		}
		return doneListing(files), nil
	}
	l := newListing()
	ctx, cancel := context.WithCancel(ctx)
	r.walksMu.Lock()
	if r.closed {
		r.walksMu.Unlock()
		cancel()
		l.finish(fmt.Errorf("walk %s: %w", r.Dir, fs.ErrClosed))
		return l, nil
	}
	r.walks.Add(1)
	if r.walkStops == nil {
		r.walkStops = map[*Listing]context.CancelFunc{}
	}
	r.walkStops[l] = cancel
	r.walksMu.Unlock()
	go func() {
		defer r.walks.Done()
		l.finish(r.walkPlain(ctx, false, l.add))
		r.walksMu.Lock()
		delete(r.walkStops, l)
		r.walksMu.Unlock()
		cancel()
	}()
	return l, nil
}
