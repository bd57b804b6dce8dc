package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"boneyard/internal/atomicfile"
)

// syncWrites makes every write durable (fsync of the file and of the
// directory). Tests that exercise races between live processes turn it off:
// atomicity between processes comes from rename and link alone, durability
// only matters across a machine crash.
var syncWrites = true

// Write persists e to <RegistryDir>/<WorkspaceID(e.Cwd)>.json atomically: the
// bytes go to a temporary file in the same directory, which is synced and
// renamed over the entry, and the directory is synced. A reader sees the
// old file or the new one, never a torn one, even if the writer is killed.
// The registry directory is created if missing. Last writer wins.
func Write(e Entry) error {
	if err := validate(e); err != nil {
		return fmt.Errorf("registry write: %w", err)
	}
	path := EntryPath(e.Cwd)
	tmp, err := writeTemp(e)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("registry write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func validate(e Entry) error {
	switch {
	case e.Cwd == "":
		return errors.New("entry has no cwd; set it to the workspace root")
	case e.HubPID < 0:
		return fmt.Errorf("entry for %s has negative hub_pid %d", e.Cwd, e.HubPID)
	}
	if y := e.StartedAt.UTC().Year(); y < 0 || y > maxYear {
		return fmt.Errorf("entry for %s has started_at %v outside years 0-%d", e.Cwd, e.StartedAt, maxYear)
	}
	return nil
}

// writeTemp writes e, complete and synced, to a new temporary file next to
// its entry file and returns the temporary file's path. Nothing is left
// behind on error.
func writeTemp(e Entry) (string, error) {
	data, err := encodeEntry(e)
	if err != nil {
		return "", err
	}
	path := EntryPath(e.Cwd)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("registry create %s: %w", dir, err)
	}
	tmp, err := atomicfile.WriteTemp(path, "write", data, 0o600, syncWrites)
	if err != nil {
		return "", fmt.Errorf("registry write %s: %w", path, err)
	}
	return tmp, nil
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	if !syncWrites {
		return nil
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	return nil
}

// Register records an idle row (hub_pid 0, no URLs) named name for cwd, so
// the workspace is listed before its first hub starts. It is RegisterIdle
// for callers that need not know whether a live hub's entry was kept: that
// case is a no-op, as in bones.
func Register(cwd, name string) error {
	_, err := RegisterIdle(cwd, name)
	return err
}

// RegisterIdle records an idle row as Register does and returns the entry
// of the live hub it left in place instead, or nil when the idle row was
// written or refreshed.
//
// An entry of a live hub is left alone, also when the hub's Write races this
// call: a new row is only ever created with a hard link, which fails if any
// file appeared at the name meanwhile, and an existing idle row is replaced
// only after it has been moved aside and proven to be the very row that was
// judged. An entry of a dead hub is pruned first, as Read would. When a
// hub's Write wins such a race the hub's entry is returned.
func RegisterIdle(cwd, name string) (*Entry, error) {
	if cwd == "" {
		return nil, errors.New("registry register: empty cwd; pass the workspace root")
	}
	if cwdGone(cwd) {
		return nil, fmt.Errorf("registry register: %s does not exist; create the workspace first", cwd)
	}
	path := EntryPath(cwd)
	tmp, err := writeTemp(Entry{Cwd: cwd, Name: name, StartedAt: nowUTC()})
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := migrateLegacy(cwd); err != nil {
		return nil, err
	}
	for range maxSettle {
		cur, err := readEntryFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			err := os.Link(tmp, path)
			if err == nil {
				return nil, syncDir(filepath.Dir(path))
			}
			if !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("registry register %s: %w", path, err)
			}
		case err != nil:
			return nil, fmt.Errorf("registry register: %w; remove the file or run Remove first", err)
		case cur.entry.HubPID > 0:
			if !stale(cur.entry) {
				return &cur.entry, nil
			}
			if err := pruneFile(cur); err != nil {
				return nil, err
			}
		default:
			done, err := replaceIdle(cur, tmp)
			if done || err != nil {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("registry register %s: the entry kept changing under concurrent writers; try again", path)
}

// replaceIdle replaces the idle row judged in cur with the file at tmp,
// unless the row was replaced meanwhile. The row is moved aside first; only
// if the moved file is the judged one does tmp take its place, and then
// only by a link that fails if a writer has filled the name in between (that
// writer's file is newer than the judged row and stays, and the caller
// looks again to learn what it is). A moved file that is not the judged one
// is settled back. done is false when the caller should look again.
func replaceIdle(cur entryFile, tmp string) (done bool, err error) {
	aside, err := moveAside(cur.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if info, _ := os.Lstat(aside); !sameFile(info, cur.info) {
		return false, settle(cur.path, aside)
	}
	err = os.Link(tmp, cur.path)
	switch {
	case err == nil:
		os.Remove(aside)
		return true, syncDir(filepath.Dir(cur.path))
	case errors.Is(err, fs.ErrExist):
		os.Remove(aside)
		return false, nil
	default:
		return false, errors.Join(fmt.Errorf("registry register %s: %w", cur.path, err), settle(cur.path, aside))
	}
}

// Remove deletes the entry for cwd: <id>.json and every legacy <id>-*.json.
// Removing nothing is not an error.
func Remove(cwd string) error {
	dir := RegistryDir()
	id := WorkspaceID(cwd)
	names, err := legacyNames(dir, id, true)
	if err != nil {
		return fmt.Errorf("registry remove %s: %w", cwd, err)
	}
	var errs []error
	for _, name := range append(names, id+".json") {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("registry remove: %w", err))
		}
	}
	return errors.Join(errs...)
}

// RemoveEntry removes e's entry only while it still names e.HubPID: the
// canonical file, if it is still the file read here (checked as pruning
// does), and the legacy <id>-<pid>.json. A newer hub or registration for the
// same workspace survives. Removing nothing is not an error.
func RemoveEntry(e Entry) error {
	path := EntryPath(e.Cwd)
	var errs []error
	f, err := readEntryFile(path)
	if err == nil && f.entry.HubPID == e.HubPID {
		errs = append(errs, pruneFile(f))
	}
	legacy := filepath.Join(filepath.Dir(path), WorkspaceID(e.Cwd)+"-"+strconv.Itoa(e.HubPID)+".json")
	if err := os.Remove(legacy); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("registry remove: %w", err))
	}
	return errors.Join(errs...)
}

// legacyNames lists the legacy files of workspace id in dir: <id>-<pid>.json,
// or with any, every <id>-*.json that is not a temporary file.
func legacyNames(dir, id string, any bool) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range ents {
		name := de.Name()
		if _, ok := legacyPID(name, id); ok || (any && isEntryName(name) && len(name) > len(id) && name[:len(id)+1] == id+"-") {
			names = append(names, name)
		}
	}
	return names, nil
}
