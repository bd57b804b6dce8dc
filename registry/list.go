package registry

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"boneyard/lock"
)

// probeConcurrency bounds the hub probes ListInfo runs at once, so a
// registry full of hung hubs costs about one HealthTimeout, not one each.
const probeConcurrency = 32

// List returns all entries of the default registry; see Registry.List.
func List() ([]Entry, error) { return Default().List() }

// List returns all registry entries, skipping corrupt files (which are never
// deleted) and temporary files. Stale entries (dead hub pid, or cwd gone)
// are pruned from disk first, each only if the file is still the one that
// was judged, so an entry rewritten meanwhile survives. When a workspace has
// several files (a legacy <id>-<pid>.json beside <id>.json), one entry is
// returned for it, chosen as Read would. Temporary files that killed writers
// left behind more than ten minutes ago are removed.
func (r Registry) List() ([]Entry, error) {
	files, err := r.listFiles()
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(files))
	for i, f := range files {
		entries[i] = f.entry
	}
	return entries, nil
}

// ListInfo lists the default registry; see Registry.ListInfo.
func ListInfo() ([]Info, error) { return Default().ListInfo() }

// ListInfo is List with each entry's id, file mtime, agent.id marker and hub
// status (see HubStatus), sorted by name, then cwd. Hubs are probed
// concurrently.
func (r Registry) ListInfo() ([]Info, error) { return r.ListInfoFunc(IsAlive) }

// ListInfoFunc lists the default registry; see Registry.ListInfoFunc.
func ListInfoFunc(alive func(Entry) bool) ([]Info, error) { return Default().ListInfoFunc(alive) }

// ListInfoFunc is ListInfo with the hub check supplied by the caller, so a
// caller that remembers earlier probes can answer from memory instead of
// waiting on the network. alive is called only for entries with a pid and a
// loopback http(s) hub_url (every other entry is HubUnknown), from at most
// 32 goroutines at once; it reports whether the hub is up (HubRunning) or
// not (HubStopped). Listing, pruning and sorting are those of ListInfo.
func (r Registry) ListInfoFunc(alive func(Entry) bool) ([]Info, error) {
	files, err := r.listFiles()
	if err != nil {
		return nil, err
	}
	infos := make([]Info, len(files))
	var probes errgroup.Group
	probes.SetLimit(probeConcurrency)
	for i, f := range files {
		infos[i] = Info{
			Entry:       f.entry,
			ID:          WorkspaceID(f.entry.Cwd),
			AgentID:     agentID(f.entry.Cwd),
			HubStatus:   HubUnknown,
			LastTouched: f.info.ModTime(),
		}
		if !probeWorthy(f.entry) {
			continue
		}
		probes.Go(func() error {
			infos[i].HubStatus = HubStopped
			if alive(f.entry) {
				infos[i].HubStatus = HubRunning
			}
			return nil
		})
	}
	probes.Wait()
	slices.SortFunc(infos, func(a, b Info) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Cwd, b.Cwd))
	})
	return infos, nil
}

// probeWorthy reports whether e names a hub that may be probed: a pid and
// an http(s) loopback hub_url. Anything else has status unknown.
func probeWorthy(e Entry) bool {
	return e.HubPID > 0 && IsLoopbackHTTP(e.HubURL)
}

// agentID returns the trimmed workspace marker of cwd, "" if missing.
func agentID(cwd string) string {
	data, err := os.ReadFile(filepath.Join(lock.StateDir(cwd), "agent.id"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// listFiles reads every entry file, prunes the stale ones and returns one
// file per workspace, ordered by file name.
func (r Registry) listFiles() ([]entryFile, error) {
	dir := r.Dir
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry list %s: %w", dir, err)
	}
	byID := make(map[string]int)
	var files []entryFile
	for _, de := range ents {
		if !isEntryName(de.Name()) {
			removeAbandonedTemp(dir, de)
			continue
		}
		f, err := readEntryFile(filepath.Join(dir, de.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			slog.Debug("registry: skipping unreadable entry", "err", err)
			continue
		}
		if stale(f.entry) {
			if err := r.prune(f); err != nil {
				slog.Warn("registry: prune failed", "path", f.path, "err", err)
			}
			continue
		}
		id := WorkspaceID(f.entry.Cwd)
		if i, ok := byID[id]; ok {
			if better(f, files[i]) {
				files[i] = f
			}
			continue
		}
		byID[id] = len(files)
		files = append(files, f)
	}
	return files, nil
}

// abandonedTempAge is how old a temporary write file must be to count as
// left behind by a writer that died between writing and renaming it; a live
// writer renames within milliseconds.
const abandonedTempAge = 10 * time.Minute

// removeAbandonedTemp deletes de if it is an old temporary write file.
// Files parked aside by a pruner are left alone: a rename keeps the mtime of
// the entry, so their age says nothing about their owner.
func removeAbandonedTemp(dir string, de fs.DirEntry) {
	name := de.Name()
	if !strings.Contains(name, tmpMarker) || strings.Contains(name, tmpMarker+asidePurpose+".") {
		return
	}
	info, err := de.Info()
	if err != nil || !info.Mode().IsRegular() || time.Since(info.ModTime()) < abandonedTempAge {
		return
	}
	if err := os.Remove(filepath.Join(dir, name)); err == nil {
		slog.Debug("registry: removed abandoned temporary file", "name", name)
	}
}
