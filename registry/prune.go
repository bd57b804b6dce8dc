package registry

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"boneyard/internal/atomicfile"
	"boneyard/procscan"
)

// Changing an entry file only if it is still the one that was read.
//
// Writers (this package and bones) only ever replace an entry file as a
// whole, by renaming or linking a complete file into place; no file is
// edited in place. So a file's identity (device, inode, size, mtime) and
// bytes pin its content. A caller that has read a file and judged it (a
// stale entry to prune, an idle row to refresh) acts through
// compareAndSwap, which deletes or replaces the file only while the name
// still holds it. No system call removes a name only if it holds a given
// file, so:
//
//  1. Everything happens under the entry's lock, which this package's Write
//     also takes around its rename, so no writer of this process moves in
//     between the steps.
//  2. Writers of other processes (bones, another boneyard) first write a
//     complete temporary file in the same directory, then rename it into
//     place. While the directory holds such a file, younger than
//     inFlightAge, a write may be about to land, and nothing is moved.
//  3. The name is checked with lstat: a file other than the judged one is
//     never touched. So no entry written by this process is ever moved,
//     and a reader never finds such an entry missing.
//  4. The name is renamed aside to a fresh temporary name (rename takes
//     exactly one file, whichever is there at that instant, and nobody
//     else touches the temporary name), and the file taken is compared
//     with the judged one again.
//  5. If it is the judged file it is deleted, or the replacement is linked
//     into the name (a link fails if a newer file arrived meanwhile, and
//     that file stays).
//  6. Otherwise another process wrote its temporary file and renamed it
//     into place within the few system calls since step 2. That file is
//     put back at once (see settleLocked).
//
// Invariant: a file is deleted only if it is the exact file judged, or if
// the name meanwhile holds a file that supersedes it (a live hub's entry
// beats anything else, otherwise the newer write wins). The name is briefly
// empty only in case 6, or while an idle row is replaced (step 5); it never
// holds a torn file, and no write is lost.

// maxSettle bounds the compare-and-retry loops; each round means another
// writer made progress, so running out means heavy contention, not a bug.
const maxSettle = 16

// entryLocks serialise, within this process, the renames of Write with the
// check-and-move of compareAndSwap on the same entry file. Paths hash onto
// a fixed set of mutexes, so the set never grows.
var entryLocks [64]sync.Mutex

// lockEntry locks the entry file at path and returns the unlock func.
func lockEntry(path string) func() {
	h := fnv.New32a()
	h.Write([]byte(path))
	mu := &entryLocks[h.Sum32()%uint32(len(entryLocks))]
	mu.Lock()
	return mu.Unlock
}

// pidAlive reports whether pid names a live, non-zombie process.
func pidAlive(pid int) bool { return pid > 0 && procscan.Alive(pid) }

// stale reports whether e may be pruned: its hub pid is dead, or its cwd is
// gone. Idle rows (hub_pid 0) with an existing cwd are never stale.
func stale(e Entry) bool {
	return (e.HubPID > 0 && !pidAlive(e.HubPID)) || cwdGone(e.Cwd)
}

// prune deletes f, an entry judged stale, if its name still holds it.
func (r Registry) prune(f entryFile) error {
	done, err := r.compareAndSwap(f, "")
	if done {
		slog.Debug("registry: pruned stale entry", "path", f.path, "cwd", f.entry.Cwd, "hub_pid", f.entry.HubPID)
	}
	return err
}

// compareAndSwap makes old.path hold the file at repl, or no file when repl
// is "", if and only if the name still holds old, the file as read, and
// reports whether it did. A file that arrived at the name after old was
// read is neither deleted nor overwritten.
func (r Registry) compareAndSwap(old entryFile, repl string) (bool, error) {
	defer lockEntry(old.path)()
	aside, same, err := moveAsideIfLocked(old)
	switch {
	case err != nil || aside == "":
		return false, err
	case !same:
		return false, r.settleLocked(old.path, aside)
	}
	if repl != "" {
		if err := os.Link(repl, old.path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				// A newer file arrived while the name was free; it stays.
				return false, r.discard(aside)
			}
			return false, errors.Join(fmt.Errorf("registry replace %s: %w", old.path, err), r.settleLocked(old.path, aside))
		}
	}
	if err := r.discard(aside); err != nil {
		return true, err
	}
	return true, r.syncDir(filepath.Dir(old.path))
}

// moveAsideIfLocked renames f.path to a fresh temporary name if the name
// holds f, and returns that name ("" if nothing was moved) and whether the
// file moved is f after all; when it is not, the caller must put it back.
// The caller holds lockEntry(f.path).
func moveAsideIfLocked(f entryFile) (aside string, same bool, err error) {
	if writeInFlight(filepath.Dir(f.path)) {
		return "", false, nil
	}
	info, err := os.Lstat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("registry prune %s: %w", f.path, err)
	}
	if !sameFile(info, f.info) {
		return "", false, nil
	}
	aside = atomicfile.TempName(f.path, asidePurpose)
	if err := os.Rename(f.path, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("registry prune %s: %w", f.path, err)
	}
	// A file that is not f by identity goes back at once; only one that is
	// has its bytes compared as well.
	if info, err := os.Lstat(aside); err != nil || !sameFile(info, f.info) {
		return aside, false, nil
	}
	taken, _ := readEntryFile(aside)
	return aside, f.is(taken), nil
}

// inFlightAge is how long a temporary file of another process counts as a
// write in progress: writers rename theirs within milliseconds, and one
// left behind by a killed writer holds prunes back for no longer than this.
const inFlightAge = 2 * time.Second

// ownTempPurpose marks this process's temporary entry files. Its writes
// are serialised with pruning by lockEntry, so they do not count as in
// flight.
var ownTempPurpose = "write-" + strconv.Itoa(os.Getpid())

// writeInFlight reports whether dir holds a temporary file of another
// process younger than inFlightAge.
func writeInFlight(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, de := range ents {
		name := de.Name()
		if !strings.Contains(name, tmpMarker) || strings.Contains(name, tmpMarker+asidePurpose+".") ||
			strings.Contains(name, tmpMarker+ownTempPurpose+".") {
			continue
		}
		if info, err := de.Info(); err == nil && info.Mode().IsRegular() && time.Since(info.ModTime()) < inFlightAge {
			return true
		}
	}
	return false
}

// asidePurpose marks the temporary names of files parked by
// moveAsideIfLocked.
const asidePurpose = "aside"

// discard deletes the parked file at path.
func (r Registry) discard(path string) error {
	if r.tune != nil && r.tune.onDiscard != nil {
		if f, err := readEntryFile(path); err == nil {
			r.tune.onDiscard(f.entry)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("registry prune: %w", err)
	}
	return nil
}

// settleLocked puts the file parked at aside back at path. If path has been
// filled meanwhile, the two files are compared: the parked one is discarded
// unless it outranks the newcomer, in which case the newcomer is moved aside
// in turn (with the same identity check) and the contest repeats. Links, not
// renames, put files back, so a file arriving at path is never overwritten
// blindly. The caller holds lockEntry(path).
func (r Registry) settleLocked(path, aside string) error {
	for range maxSettle {
		err := os.Link(aside, path)
		if err == nil {
			os.Remove(aside)
			return r.syncDir(filepath.Dir(path))
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
			return r.discard(aside)
		}
		displaced, same, err := moveAsideIfLocked(cur)
		switch {
		case err != nil:
			return err
		case displaced == "":
			continue
		case same:
			if err := r.discard(displaced); err != nil {
				return err
			}
			continue
		}
		// An even newer file arrived before the displacement: keep
		// whichever of the two parked files ranks higher.
		other, oerr := readEntryFile(displaced)
		if outranks(other, oerr, parked, perr) {
			if err := r.discard(aside); err != nil {
				return err
			}
			aside = displaced
		} else if err := r.discard(displaced); err != nil {
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
