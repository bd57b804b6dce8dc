package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gofrs/flock"

	"boneyard/internal/atomicfile"
	"boneyard/internal/hublog"
	"boneyard/internal/safefile"
)

const (
	// FileName is the event log in the journal's directory.
	FileName = "events.jsonl"
	// lockName is the lock file that orders appends (shared) and
	// rotation (exclusive) between boneyard processes.
	lockName = "events.lock"
	// fileMode is every journal file's mode: the events name the user's
	// directories.
	fileMode = 0o600
	// lockWait bounds the wait for the lock; another boneyard holds it for
	// one write or one rotation.
	lockWait = 5 * time.Second
	// MaxLine bounds one event's line. One write(2) of a line this small to
	// a file opened with O_APPEND lands whole at the end, whoever else
	// appends.
	MaxLine = 8 << 10
	// loadBudget bounds what Open reads of each file.
	loadBudget = 4 << 20
)

// store is the event log on disk: events.jsonl and its rotated
// predecessors events.jsonl.1 … .keep.
type store struct {
	path   string
	lock   *flock.Flock
	max    int64
	maxAge time.Duration
	keep   int
	now    func() time.Time

	// oldest caches the first event's time of the file identified by
	// oldestOf, for the age check.
	oldest   time.Time
	oldestOf fs.FileInfo
}

func newStore(dir string, o Options) *store {
	return &store{
		path:   filepath.Join(dir, FileName),
		lock:   flock.New(filepath.Join(dir, lockName), flock.SetPermissions(fileMode)),
		max:    o.MaxSize,
		maxAge: o.MaxAge,
		keep:   o.Keep,
		now:    o.Now,
	}
}

// old returns the name of the i-th rotated file.
func (s *store) old(i int) string { return s.path + "." + strconv.Itoa(i) }

// withLock runs f holding the lock, shared or exclusive.
func (s *store) withLock(exclusive bool, f func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	try := s.lock.TryRLockContext
	if exclusive {
		try = s.lock.TryLockContext
	}
	ok, err := try(ctx, 5*time.Millisecond)
	if err == nil && !ok {
		err = errors.New("held by another process")
	}
	if err != nil {
		return fmt.Errorf("journal lock %s: %w", s.lock.Path(), err)
	}
	defer s.lock.Unlock()
	return f()
}

// append writes one encoded event line (ending in a newline) at the end
// of the log, then rotates the log if it has grown too big or too old.
func (s *store) append(line []byte) error {
	err := s.withLock(false, func() error {
		f, err := os.OpenFile(s.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, fileMode)
		if err != nil {
			return fmt.Errorf("journal append %s: %w", s.path, err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("journal append %s: %w", s.path, err)
		}
		if fi.Mode().Perm() != fileMode {
			f.Chmod(fileMode)
		}
		// A writer killed mid-line left no line end: start afresh so that
		// the torn line stays alone and is skipped on read.
		if torn, err := endsTorn(f, fi.Size()); err != nil {
			return fmt.Errorf("journal append %s: %w", s.path, err)
		} else if torn {
			line = append([]byte{'\n'}, line...)
		}
		if _, err := f.Write(line); err != nil {
			return fmt.Errorf("journal append %s: %w", s.path, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.maybeRotate()
}

// endsTorn reports whether a file of size bytes lacks a final line end.
func endsTorn(f *os.File, size int64) (bool, error) {
	if size == 0 {
		return false, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}

// maybeRotate rotates the log when it is over the size limit or its
// oldest event is over the age limit.
func (s *store) maybeRotate() error {
	due, err := s.due()
	if err != nil || !due {
		return err
	}
	return s.withLock(true, func() error {
		// Another process may have rotated since the check.
		if due, err := s.due(); err != nil || !due {
			return err
		}
		for i := s.keep; i > 1; i-- {
			if err := os.Rename(s.old(i-1), s.old(i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("journal rotate %s: %w", s.old(i-1), err)
			}
		}
		if err := os.Rename(s.path, s.old(1)); err != nil {
			return fmt.Errorf("journal rotate %s: %w", s.path, err)
		}
		s.oldestOf = nil
		return atomicfile.SyncDir(filepath.Dir(s.path))
	})
}

// due reports whether the log needs rotating.
func (s *store) due() (bool, error) {
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("journal stat %s: %w", s.path, err)
	}
	if fi.Size() > s.max {
		return true, nil
	}
	if s.oldestOf == nil || !os.SameFile(s.oldestOf, fi) {
		s.oldest, s.oldestOf = firstTime(s.path), fi
	}
	return !s.oldest.IsZero() && s.now().Sub(s.oldest) > s.maxAge, nil
}

// firstTime returns the time of the first readable event of the file at
// path, zero when there is none.
func firstTime(path string) time.Time {
	f, _, err := safefile.Open(path)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	buf := make([]byte, 4*MaxLine)
	n, _ := io.ReadFull(f, buf)
	for line := range bytes.Lines(buf[:n]) {
		if e, ok := decode(line); ok {
			return e.Time
		}
	}
	return time.Time{}
}

// load returns up to n of the newest events on disk, oldest first, reading
// each file's tail within loadBudget and skipping lines that do not decode
// (a line torn by a crash).
func (s *store) load(n int) ([]Event, error) {
	var chunks [][]Event // newest file first
	got := 0
	for i := 0; i <= s.keep && got < n; i++ {
		path := s.path
		if i > 0 {
			path = s.old(i)
		}
		ex, err := hublog.Tail(path, n-got, loadBudget)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("journal read: %w", err)
		}
		var evs []Event
		for _, l := range ex.Lines {
			if e, ok := decode([]byte(l)); ok {
				evs = append(evs, e)
			}
		}
		chunks = append(chunks, evs)
		got += len(evs)
	}
	var out []Event
	for i := len(chunks) - 1; i >= 0; i-- {
		out = append(out, chunks[i]...)
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

// decode parses one line; a line that is not a whole event is refused.
func decode(line []byte) (Event, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || len(line) > MaxLine || line[0] != '{' {
		return Event{}, false
	}
	var e Event
	if err := json.Unmarshal(line, &e); err != nil || e.Time.IsZero() || e.Kind == "" {
		return Event{}, false
	}
	return e, true
}
