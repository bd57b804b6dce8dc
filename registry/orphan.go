package registry

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"boneyard/lock"
	"boneyard/procscan"
)

// Orphan reasons, shown to people next to the hub they describe.
const (
	reasonCwdGone     = "cwd no longer exists"
	reasonNoMarker    = "workspace marker .bones/agent.id is missing"
	reasonTrashed     = "cwd is in the trash"
	reasonCwdUnknown  = "cwd unknown"
	reasonNotRegistry = "cwd missing from registry"
)

// IsOrphan reports whether e is an orphan by the trash of $HOME; see
// Registry.IsOrphan.
func IsOrphan(e Entry) bool { return Default().IsOrphan(e) }

// IsOrphan reports whether e's hub process is alive while its workspace is
// gone: the cwd does not exist, or has no .bones/agent.id marker, or lies in
// the user's trash (Home/.Trash, the XDG trash Home/.local/share/Trash, or
// DataHome/Trash), symlinks resolved. A dead pid is never an orphan (the
// entry is merely stale and pruned on read).
func (r Registry) IsOrphan(e Entry) bool {
	return pidAlive(e.HubPID) && orphanReason(e.Cwd, r.trashDirs()) != ""
}

// orphanReason says why the workspace at cwd is gone, "" if it is not;
// trashes are the trash directories as trashDirs returns them.
func orphanReason(cwd string, trashes []string) string {
	if cwdGone(cwd) {
		return reasonCwdGone
	}
	if inTrash(cwd, trashes) {
		return reasonTrashed
	}
	if _, err := os.Stat(filepath.Join(lock.StateDir(cwd), "agent.id")); errors.Is(err, fs.ErrNotExist) {
		return reasonNoMarker
	}
	return ""
}

// trashDirs returns the user's trash directories, symlinks resolved. They
// are looked up once per listing rather than once per entry.
func (r Registry) trashDirs() []string {
	var trashes []string
	if r.Home != "" {
		trashes = append(trashes, filepath.Join(r.Home, ".Trash"), filepath.Join(r.Home, ".local", "share", "Trash"))
	}
	if r.DataHome != "" {
		trashes = append(trashes, filepath.Join(r.DataHome, "Trash"))
	}
	for i, t := range trashes {
		trashes[i] = resolve(t)
	}
	return trashes
}

// inTrash reports whether cwd, symlinks resolved, lies in one of trashes.
func inTrash(cwd string, trashes []string) bool {
	dir := resolve(cwd)
	for _, t := range trashes {
		if within(dir, t) {
			return true
		}
	}
	return false
}

// resolve returns path cleaned and with symlinks resolved (/tmp and
// /private/tmp on macOS name the same directory). Of a path that no longer
// exists, the longest part that does is resolved, so a removed workspace
// still compares equal to the path its hub's cwd had.
func resolve(path string) string {
	path = filepath.Clean(path)
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(path); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(path)
		if parent == path {
			return filepath.Join(path, rest)
		}
		rest = filepath.Join(filepath.Base(path), rest)
		path = parent
	}
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// Orphans returns the orphans of the default registry; see
// Registry.Orphans.
func Orphans() ([]Entry, error) { return Default().Orphans() }

// Orphans returns the registry entries whose hub process is alive but whose
// workspace is gone (see IsOrphan). Read-only apart from the prune of List.
func (r Registry) Orphans() ([]Entry, error) {
	entries, err := r.List()
	if err != nil {
		return nil, err
	}
	trashes := r.trashDirs()
	var orphans []Entry
	for _, e := range entries {
		if pidAlive(e.HubPID) && orphanReason(e.Cwd, trashes) != "" {
			orphans = append(orphans, e)
		}
	}
	return orphans, nil
}

// LiveHubProcesses returns the live `bones hub start` processes on this
// host. A process whose cwd is unreadable is kept, with Cwd "".
func LiveHubProcesses() ([]HubProcess, error) {
	procs, err := procscan.Scan()
	if err != nil {
		return nil, fmt.Errorf("registry: scan hub processes: %w", err)
	}
	hubs := make([]HubProcess, len(procs))
	for i, p := range procs {
		hubs[i] = HubProcess{PID: p.PID, ETime: p.ETime, Cwd: p.Cwd, Cmd: p.Cmd}
	}
	return hubs, nil
}

// AllOrphanHubs returns the orphaned hubs by the default registry; see
// Registry.AllOrphanHubs.
func AllOrphanHubs() ([]OrphanHub, error) { return Default().AllOrphanHubs() }

// AllOrphanHubs returns every orphaned hub on this host under one
// definition, sorted by pid:
//
//   - registry-side: an entry for which IsOrphan holds, with the reason its
//     workspace is gone, unless its pid now names a process born after the
//     entry (a recycled pid, which Reap would not signal either);
//   - process-only: a live `bones hub start` process whose pid is in no
//     entry and whose cwd (symlinks resolved on both sides) matches no
//     entry's cwd, with reason "cwd unknown", "cwd no longer exists" or
//     "cwd missing from registry".
//
// A hub process of another user is never an orphan, whichever side names
// it: it is not this user's to reap (the reap functions refuse it with
// ErrNotYours). To show how many there are, count the OtherUser rows of
// procscan.Scan.
//
// If the process scan fails, the registry-side orphans are returned together
// with the error.
func (r Registry) AllOrphanHubs() ([]OrphanHub, error) {
	entries, err := r.List()
	if err != nil {
		return nil, err
	}
	infos := make([]Info, len(entries))
	for i, e := range entries {
		infos[i].Entry = e
	}
	procs, scanErr := procscan.Scan()
	orphans := r.OrphanHubsFrom(infos, procs)
	if scanErr != nil {
		return orphans, fmt.Errorf("registry: scan hub processes: %w", scanErr)
	}
	return orphans, nil
}

// OrphanHubsFrom finds orphans by the trash of $HOME; see
// Registry.OrphanHubsFrom.
func OrphanHubsFrom(infos []Info, procs []procscan.Process) []OrphanHub {
	return Default().OrphanHubsFrom(infos, procs)
}

// OrphanHubsFrom is AllOrphanHubs over registry rows and hub processes the
// caller already has (from ListInfo and procscan.Scan), so one listing and
// one scan can serve both the table and the orphan report. It reads no
// registry file; it checks each row's pid, workspace directory and marker,
// and for a registry-side orphan that procs does not list, its pid's create
// time. Rows with an empty ID get WorkspaceID(Cwd). With nil procs only
// registry-side orphans are found.
func (r Registry) OrphanHubsFrom(infos []Info, procs []procscan.Process) []OrphanHub {
	byPID := make(map[int]procscan.Process, len(procs))
	for _, p := range procs {
		byPID[p.PID] = p
	}
	trashes := r.trashDirs()
	var orphans []OrphanHub
	pids := make(map[int]bool, len(infos))
	for _, in := range infos {
		if in.HubPID > 0 {
			pids[in.HubPID] = true
		}
		if !pidAlive(in.HubPID) {
			continue
		}
		reason := orphanReason(in.Cwd, trashes)
		if reason == "" {
			continue
		}
		e := in.Entry
		o := OrphanHub{PID: e.HubPID, Cwd: e.Cwd, Reason: reason, Entry: &e, ID: cmp.Or(in.ID, WorkspaceID(e.Cwd))}
		if p, ok := byPID[e.HubPID]; ok {
			if p.OtherUser {
				continue
			}
			o.Cmd, o.ETime, o.CreateTime = p.Cmd, p.ETime, p.CreateTime
		} else {
			if mine, err := procscan.RunsAsSelf(e.HubPID); err == nil && !mine {
				continue
			}
			if ct, err := procscan.CreateTime(e.HubPID); err == nil {
				o.CreateTime = ct
			}
		}
		if !o.CreateTime.IsZero() && recycled(e, o.CreateTime) {
			continue // the pid now names a younger, unrelated process
		}
		orphans = append(orphans, o)
	}
	// Resolving every registered cwd costs a few syscalls per entry, so it
	// is done only if some hub process is not named by an entry's pid.
	var cwds map[string]bool
	for _, p := range procs {
		if pids[p.PID] || p.OtherUser {
			continue
		}
		if cwds == nil {
			cwds = make(map[string]bool, len(infos))
			for _, in := range infos {
				cwds[resolve(in.Cwd)] = true
			}
		}
		reason := processReason(p, cwds)
		if reason == "" {
			continue
		}
		orphans = append(orphans, OrphanHub{
			PID: p.PID, Cwd: p.Cwd, Cmd: p.Cmd, ETime: p.ETime, CreateTime: p.CreateTime,
			Reason: reason, ProcessOnly: true,
		})
	}
	slices.SortFunc(orphans, func(a, b OrphanHub) int { return cmp.Compare(a.PID, b.PID) })
	return orphans
}

// processReason says why a hub process that no entry names by pid is an
// orphan, "" if some entry's workspace is its cwd.
func processReason(p procscan.Process, registered map[string]bool) string {
	switch {
	case p.Cwd == "":
		return reasonCwdUnknown
	case p.CwdDeleted || cwdGone(p.Cwd):
		return reasonCwdGone
	case registered[resolve(p.Cwd)]:
		return ""
	default:
		return reasonNotRegistry
	}
}
