package collector

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"

	"boneyard/registry"
)

// dirWatch watches the registry directory and its parent. The parent watch
// notices the directory being re-created after a deletion (bones and
// boneyard create it on their next write); if the parent goes too, ensure
// re-adds both watches once they exist again. Without a working watcher
// (fsnotify unavailable, or its goroutine gone) it yields no events and
// ensure keeps trying to make a new one; the interval still collects.
type dirWatch struct {
	w           *fsnotify.Watcher // nil when there is no working watcher
	dir, parent string
	dirOK       bool // dir is watched
	parentOK    bool // parent is watched
	log         *slog.Logger
	lastWarn    string // the last problem logged, so a lasting one is logged once
}

// newDirWatch creates dir (mode 0700) if missing and starts watching it.
// Failures are logged, not returned: the collector then relies on its
// interval.
func newDirWatch(dir string, log *slog.Logger) *dirWatch {
	d := &dirWatch{log: log}
	if dir == "" {
		log.Warn("collector: no registry directory (is HOME set?); relying on the interval")
		return d
	}
	d.dir = filepath.Clean(dir)
	d.parent = filepath.Dir(d.dir)
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		d.warn("create registry directory", d.dir, err)
	}
	d.ensure()
	return d
}

// ensure creates the watcher if there is none and adds the parent and
// directory watches that are missing and whose paths exist. It reports
// whether the directory watch was newly added, in which case entries may
// have appeared unseen.
func (d *dirWatch) ensure() bool {
	if d.dir == "" {
		return false
	}
	if d.w == nil {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			d.warn("watch the registry directory; relying on the interval", d.dir, err)
			return false
		}
		d.w, d.dirOK, d.parentOK = w, false, false
	}
	if !d.parentOK {
		d.parentOK = d.add(d.parent)
	}
	if d.dirOK {
		return false
	}
	d.dirOK = d.add(d.dir)
	return d.dirOK
}

// add watches path if it exists; a missing path is expected after a
// deletion and is not logged.
func (d *dirWatch) add(path string) bool {
	err := d.w.Add(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.warn("watch directory", path, err)
	}
	return err == nil
}

// handle updates the watches for ev and reports whether the registry may
// have changed.
func (d *dirWatch) handle(ev fsnotify.Event) bool {
	switch {
	case ev.Name == d.dir:
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			d.forget(d.dir, &d.dirOK)
		}
		// Deleted: its entries are gone. Created: entries may have been
		// written before the watch was added.
		d.ensure()
		return true
	case ev.Name == d.parent:
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			d.forget(d.parent, &d.parentOK)
			d.forget(d.dir, &d.dirOK)
			return true
		}
		return false
	case filepath.Dir(ev.Name) == d.dir:
		// Atomic writes rename a temporary file into place: the rename is
		// the change. Permission changes alone do not alter entries.
		return !registry.IsTempFile(ev.Name) && ev.Op != fsnotify.Chmod
	default:
		// Other files next to the registry directory.
		return false
	}
}

// forget drops the watch on path (fsnotify may already have dropped it).
func (d *dirWatch) forget(path string, ok *bool) {
	if *ok {
		_ = d.w.Remove(path)
		*ok = false
	}
}

// lost drops a watcher whose channels were closed; the next ensure makes a
// new one.
func (d *dirWatch) lost() {
	d.warn("watcher stopped; relying on the interval until it is re-created", d.dir, errors.New("event channel closed"))
	d.close()
	d.w = nil
}

func (d *dirWatch) events() <-chan fsnotify.Event {
	if d.w == nil {
		return nil
	}
	return d.w.Events
}

func (d *dirWatch) errs() <-chan error {
	if d.w == nil {
		return nil
	}
	return d.w.Errors
}

func (d *dirWatch) close() {
	if d.w == nil {
		return
	}
	if err := d.w.Close(); err != nil {
		d.warn("stop watching", d.dir, fmt.Errorf("close watcher: %w", err))
	}
}

// warn logs a watch problem unless it is the one logged last.
func (d *dirWatch) warn(what, path string, err error) {
	msg := what + " " + path + ": " + err.Error()
	if msg == d.lastWarn {
		return
	}
	d.lastWarn = msg
	d.log.Warn("collector: "+what, "dir", path, "err", err)
}
