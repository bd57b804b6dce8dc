package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"boneyard/internal/atomicfile"
	"boneyard/procscan"
)

// Pruning without losing a newer write.
//
// Writers (this package and bones) only ever replace an entry file as a
// whole, by renaming or linking a complete file into place; no file is
// edited in place. So a file's identity (device, inode, size, mtime) pins
// its content. A pruner has read one file and judged it stale; by the time
// it acts, a writer may have put a newer file at the same name. Checking the
// name and then unlinking it leaves a window in which that newer file is
// deleted. Instead:
//
//  1. The pruner renames the name aside to a fresh temporary name (rename is
//     atomic: it takes exactly one file, whichever is there at that instant,
//     and no writer can touch the temporary name).
//  2. If the file taken is the judged one, it is deleted: it was stale, and
//     any writer that comes later creates a new file at the free name.
//  3. Otherwise a writer got in between; the file taken is newer than the
//     judged one and is settled back (see settle).
//
// Invariant: a file is deleted only if it is the exact file judged stale, or
// if the name meanwhile holds a file that supersedes it (a live hub's entry
// beats anything else, otherwise the newer write wins). The price is that
// the name is briefly empty while a file is aside, so a concurrent reader
// may see "not found" for a moment, or, when two pruners each hold a file
// aside, the older of the two until the newer one is settled over it; it
// never sees a torn file, and no write is lost.

// maxSettle bounds the compare-and-retry loops; each round means another
// writer made progress, so running out means heavy contention, not a bug.
const maxSettle = 16

// discardHook, when set by tests, sees every entry this package deletes
// while pruning or settling.
var discardHook func(Entry)

// pidAlive reports whether pid names a live, non-zombie process.
func pidAlive(pid int) bool { return pid > 0 && procscan.Alive(pid) }

// stale reports whether e may be pruned: its hub pid is dead, or its cwd is
// gone. Idle rows (hub_pid 0) with an existing cwd are never stale.
func stale(e Entry) bool {
	return (e.HubPID > 0 && !pidAlive(e.HubPID)) || cwdGone(e.Cwd)
}

// pruneFile deletes f if the file at f.path is still the one that was read.
func pruneFile(f entryFile) error {
	aside, err := moveAside(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info, err := os.Lstat(aside); err == nil && sameFile(info, f.info) {
		slog.Debug("registry: pruned stale entry", "path", f.path, "cwd", f.entry.Cwd, "hub_pid", f.entry.HubPID)
		return discard(aside, f.entry)
	}
	return settle(f.path, aside)
}

// asidePurpose marks the temporary names of files parked by moveAside.
const asidePurpose = "aside"

// moveAside renames path to a fresh temporary name and returns that name.
func moveAside(path string) (string, error) {
	aside := atomicfile.TempName(path, asidePurpose)
	if err := os.Rename(path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("registry prune %s: %w", path, err)
	}
	return aside, nil
}

func discard(path string, e Entry) error {
	if discardHook != nil {
		discardHook(e)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("registry prune: %w", err)
	}
	return nil
}

// settle puts the file parked at aside back at path. If path has been filled
// meanwhile, the two files are compared: the parked one is discarded unless
// it outranks the newcomer, in which case the newcomer is moved aside in
// turn (with the same identity check) and the contest repeats. Links, not
// renames, put files back, so a file arriving at path is never overwritten
// blindly.
func settle(path, aside string) error {
	for range maxSettle {
		err := os.Link(aside, path)
		if err == nil {
			os.Remove(aside)
			return syncDir(filepath.Dir(path))
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("registry restore %s from %s: %w", path, aside, err)
		}
		parked, perr := readEntryFile(aside)
		cur, cerr := readEntryFile(path)
		if errors.Is(cerr, fs.ErrNotExist) {
			continue
		}
		if !outranks(parked, perr, cur, cerr) {
			return discard(aside, parked.entry)
		}
		displaced, err := moveAside(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if info, err := os.Lstat(displaced); err == nil && sameFile(info, cur.info) {
			if err := discard(displaced, cur.entry); err != nil {
				return err
			}
			continue
		}
		// An even newer file arrived before the displacement: keep
		// whichever of the two parked files ranks higher.
		other, oerr := readEntryFile(displaced)
		if outranks(other, oerr, parked, perr) {
			if err := discard(aside, parked.entry); err != nil {
				return err
			}
			aside = displaced
		} else if err := discard(displaced, other.entry); err != nil {
			return err
		}
	}
	slog.Warn("registry: gave up restoring an entry under heavy contention", "path", path, "parked", aside)
	return fmt.Errorf("registry restore %s: the entry kept changing under concurrent writers", path)
}

// outranks reports whether entry file a (read with error aerr) should win
// over b: a readable entry beats an unreadable one, a live hub's entry beats
// anything else, and otherwise the strictly newer file wins. File times
// tick coarsely (a few milliseconds on Linux), so equal mtimes fall back to
// the later started_at. Full ties keep b, the file already in place.
func outranks(a entryFile, aerr error, b entryFile, berr error) bool {
	switch {
	case aerr != nil:
		return false
	case berr != nil:
		return true
	}
	aHub, bHub := liveHub(a.entry), liveHub(b.entry)
	if aHub != bHub {
		return aHub
	}
	at, bt := a.info.ModTime(), b.info.ModTime()
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return a.entry.StartedAt.After(b.entry.StartedAt)
}

func liveHub(e Entry) bool { return e.HubPID > 0 && pidAlive(e.HubPID) }
