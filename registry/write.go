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

// Write persists e in the default registry; see Registry.Write.
func Write(e Entry) error { return Default().Write(e) }

// Write persists e to Dir/<WorkspaceID(e.Cwd)>.json atomically: the bytes go
// to a temporary file in the same directory, which is synced and renamed
// over the entry, and the directory is synced. A reader sees the old file or
// the new one, never a torn one, even if the writer is killed. The registry
// directory is created if missing. Last writer wins.
func (r Registry) Write(e Entry) error {
	if err := validate(e); err != nil {
		return fmt.Errorf("registry write: %w", err)
	}
	path := r.EntryPath(e.Cwd)
	tmp, err := r.writeTemp(e)
	if err != nil {
		return err
	}
	unlock := lockEntry(path)
	err = os.Rename(tmp, path)
	unlock()
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("registry write %s: %w", path, err)
	}
	return r.syncDir(filepath.Dir(path))
}

// writeTemp writes e, complete and synced, to a new temporary file next to
// its entry file and returns the temporary file's path. Nothing is left
// behind on error.
func (r Registry) writeTemp(e Entry) (string, error) {
	if r.Dir == "" {
		return "", errors.New("registry write: the Registry has no Dir; use Default() or ForHome")
	}
	data, err := encodeEntry(e)
	if err != nil {
		return "", err
	}
	path := r.EntryPath(e.Cwd)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("registry create %s: %w", dir, err)
	}
	tmp, err := atomicfile.WriteTemp(path, ownTempPurpose, data, 0o600, r.tune == nil || !r.tune.noSync)
	if err != nil {
		return "", fmt.Errorf("registry write %s: %w", path, err)
	}
	return tmp, nil
}

// syncDir makes a rename or link in dir durable.
func (r Registry) syncDir(dir string) error {
	if r.tune != nil && r.tune.noSync {
		return nil
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	return nil
}

// Register records an idle row in the default registry; see
// Registry.Register.
func Register(cwd, name string) error { return Default().Register(cwd, name) }

// Register records an idle row (hub_pid 0, no URLs) named name for cwd, so
// the workspace is listed before its first hub starts. It is RegisterIdle
// for callers that need not know whether a live hub's entry was kept: that
// case is a no-op, as in bones.
func (r Registry) Register(cwd, name string) error {
	_, err := r.RegisterIdle(cwd, name)
	return err
}

// RegisterIdle records an idle row in the default registry; see
// Registry.RegisterIdle.
func RegisterIdle(cwd, name string) (*Entry, error) { return Default().RegisterIdle(cwd, name) }

// RegisterIdle records an idle row as Register does and returns the entry
// of the live hub it left in place instead, or nil when the idle row was
// written or refreshed.
//
// An entry of a live hub is left alone, also when the hub's Write races this
// call: a new row is only ever created with a hard link, which fails if any
// file appeared at the name meanwhile, and an existing idle row is replaced
// only while it is still the row that was judged (see compareAndSwap). An
// entry of a dead hub is pruned first, as Read would. When a hub's Write
// wins such a race the hub's entry is returned.
func (r Registry) RegisterIdle(cwd, name string) (*Entry, error) {
	if cwd == "" {
		return nil, errors.New("registry register: empty cwd; pass the workspace root")
	}
	if cwdGone(cwd) {
		return nil, fmt.Errorf("registry register: %s does not exist; create the workspace first", cwd)
	}
	path := r.EntryPath(cwd)
	tmp, err := r.writeTemp(Entry{Cwd: cwd, Name: name, StartedAt: nowUTC()})
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := r.migrateLegacy(cwd); err != nil {
		return nil, err
	}
	for range maxSettle {
		cur, err := readEntryFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			err := os.Link(tmp, path)
			if err == nil {
				return nil, r.syncDir(filepath.Dir(path))
			}
			if !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("registry register %s: %w", path, err)
			}
		case err != nil:
			return nil, fmt.Errorf("registry register: %w; remove the file or run Remove first", err)
		case cur.entry.HubPID > 0 && !stale(cur.entry):
			return &cur.entry, nil
		default:
			// A dead hub's entry is pruned, an idle row replaced; if the
			// file changed meanwhile, look again.
			repl := tmp
			if cur.entry.HubPID > 0 {
				repl = ""
			}
			done, err := r.compareAndSwap(cur, repl)
			if err != nil || (done && repl != "") {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("registry register %s: the entry kept changing under concurrent writers; try again", path)
}

// Remove deletes the entry for cwd from the default registry; see
// Registry.Remove.
func Remove(cwd string) error { return Default().Remove(cwd) }

// Remove deletes the entry for cwd: <id>.json and every legacy <id>-*.json.
// Removing nothing is not an error.
func (r Registry) Remove(cwd string) error {
	id := WorkspaceID(cwd)
	names, err := legacyNames(r.Dir, id, true)
	if err != nil {
		return fmt.Errorf("registry remove %s: %w", cwd, err)
	}
	var errs []error
	for _, name := range append(names, id+".json") {
		if err := os.Remove(filepath.Join(r.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("registry remove: %w", err))
		}
	}
	return errors.Join(errs...)
}

// RemoveEntry removes e's entry from the default registry; see
// Registry.RemoveEntry.
func RemoveEntry(e Entry) error { return Default().RemoveEntry(e) }

// RemoveEntry removes e's entry only while it still names e.HubPID: the
// canonical file, if it is still the file read here (see compareAndSwap),
// and the legacy <id>-<pid>.json. A newer hub or registration for the same
// workspace survives. Removing nothing is not an error.
func (r Registry) RemoveEntry(e Entry) error {
	var errs []error
	f, err := readEntryFile(r.EntryPath(e.Cwd))
	if err == nil && f.entry.HubPID == e.HubPID {
		_, err := r.compareAndSwap(f, "")
		errs = append(errs, err)
	}
	legacy := filepath.Join(r.Dir, WorkspaceID(e.Cwd)+"-"+strconv.Itoa(e.HubPID)+".json")
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
