package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Read loads the entry for cwd from the default registry; see
// Registry.Read.
func Read(cwd string) (Entry, error) { return Default().Read(cwd) }

// Read loads the entry for cwd.
//
// Legacy <id>-<pid>.json files are migrated into <id>.json first: if the
// canonical file exists the legacy ones are removed; otherwise the best
// legacy file (live pid first, then newest started_at) is hard-linked to the
// canonical name, unless a writer has created it meanwhile, and the legacy
// names are removed.
//
// If the entry's hub pid is dead or its cwd is gone, the file is pruned and
// Read returns ErrNotFound. An entry file that may not be read (a symlink,
// not a regular file, over 16 KiB, or another user's: ErrNotOwned) is an
// error, and is left alone.
func (r Registry) Read(cwd string) (Entry, error) {
	if err := r.migrateLegacy(cwd); err != nil {
		return Entry{}, err
	}
	f, err := readEntryFile(r.EntryPath(cwd))
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, fmt.Errorf("registry read %s: %w", cwd, ErrNotFound)
	}
	if err != nil {
		return Entry{}, err
	}
	if stale(f.entry) {
		if err := r.prune(f); err != nil {
			return Entry{}, err
		}
		return Entry{}, fmt.Errorf("registry read %s: stale entry pruned: %w", cwd, ErrNotFound)
	}
	return f.entry, nil
}

// migrateLegacy moves cwd's legacy files, if any, into the canonical name.
// A legacy file that readEntryFile refuses (another user's, a symlink, a
// FIFO...) is left where it is; a corrupt one is removed with the rest.
func (r Registry) migrateLegacy(cwd string) error {
	dir := r.Dir
	id := WorkspaceID(cwd)
	names, err := legacyNames(dir, id, false)
	if err != nil {
		return fmt.Errorf("registry migrate %s: %w", cwd, err)
	}
	if len(names) == 0 {
		return nil
	}
	var (
		best    *entryFile
		refused = make(map[string]bool)
	)
	for _, name := range names {
		f, err := readEntryFile(filepath.Join(dir, name))
		var corrupt *corruptError
		switch {
		case err == nil:
			if best == nil || better(f, *best) {
				best = &f
			}
		case !errors.As(err, &corrupt):
			refused[name] = true
		}
	}
	canonical := filepath.Join(dir, id+".json")
	if _, err := os.Lstat(canonical); errors.Is(err, fs.ErrNotExist) {
		if best == nil {
			return nil
		}
		if err := os.Link(best.path, canonical); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("registry migrate %s: %w", best.path, err)
		}
	}
	var errs []error
	for _, name := range names {
		if refused[name] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("registry migrate: %w", err))
		}
	}
	return errors.Join(errs...)
}

// better orders two files holding entries of the same workspace: the
// canonical <id>.json first, then a live hub pid, then the newest
// started_at.
func better(a, b entryFile) bool {
	if ac, bc := isCanonical(a), isCanonical(b); ac != bc {
		return ac
	}
	if aa, ba := pidAlive(a.entry.HubPID), pidAlive(b.entry.HubPID); aa != ba {
		return aa
	}
	return a.entry.StartedAt.After(b.entry.StartedAt)
}

func isCanonical(f entryFile) bool {
	return filepath.Base(f.path) == WorkspaceID(f.entry.Cwd)+".json"
}
