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
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"boneyard/internal/safefile"
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
	sc, err := r.listFiles()
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(sc.files))
	for i, f := range sc.files {
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
// It is ListReport without the report.
func (r Registry) ListInfoFunc(alive func(Entry) bool) ([]Info, error) {
	l, err := r.ListReport(alive)
	return l.Infos, err
}

// Skipped is a file that a listing refused to read, and why.
type Skipped struct {
	Path string
	// Cwd is the workspace a workspace file (agent.id) belongs to; "" for
	// an entry file.
	Cwd string
	// Reason says what is wrong with the file, for a page: "is a symbolic
	// link", "is not a regular file (named pipe)", "is owned by uid 1001,
	// not by this user (uid 1000)", "is not a valid entry (...)".
	Reason string
}

// Listing is a listing with what it had to leave out.
type Listing struct {
	// Infos are the rows, as ListInfoFunc returns them.
	Infos []Info
	// Skipped are the entry files and agent.id files that were refused,
	// ordered by path: symlinks, FIFOs and other non-regular files, files
	// over the size cap (16 KiB for an entry, 256 bytes for agent.id),
	// corrupt entries and entries owned by another user. A refused entry
	// file is never pruned; a workspace whose agent.id is refused is
	// listed with AgentID "".
	Skipped []Skipped
	// Warnings are problems of the registry directory itself, each saying
	// what to do (e.g. "... run chmod go-w DIR").
	Warnings []string
}

// ListReport lists the default registry; see Registry.ListReport.
func ListReport(alive func(Entry) bool) (Listing, error) { return Default().ListReport(alive) }

// ListReport is ListInfoFunc (alive nil: IsAlive) that also reports the
// files it refused and what is unsafe about the registry directory, so a
// page can name them. Both are logged as well, each only when it is new.
func (r Registry) ListReport(alive func(Entry) bool) (Listing, error) {
	if alive == nil {
		alive = IsAlive
	}
	sc, err := r.listFiles()
	if err != nil {
		return Listing{}, err
	}
	infos := make([]Info, len(sc.files))
	var probes errgroup.Group
	probes.SetLimit(probeConcurrency)
	for i, f := range sc.files {
		agent, skip := agentID(f.entry.Cwd)
		if skip != nil {
			sc.skip(*skip)
		}
		infos[i] = Info{
			Entry:       f.entry,
			ID:          WorkspaceID(f.entry.Cwd),
			AgentID:     agent,
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
	slices.SortFunc(sc.skipped, func(a, b Skipped) int { return cmp.Compare(a.Path, b.Path) })
	return Listing{Infos: infos, Skipped: sc.skipped, Warnings: sc.warnings}, nil
}

// probeWorthy reports whether e names a hub that may be probed: a pid and
// an http(s) loopback hub_url. Anything else has status unknown.
func probeWorthy(e Entry) bool {
	return e.HubPID > 0 && IsLoopbackHTTP(e.HubURL)
}

// maxAgentIDSize bounds agent.id, one short line.
const maxAgentIDSize = 256

// agentID returns the trimmed workspace marker of cwd, "" if missing, and
// the refusal of a marker that is there but may not be read (see
// safefile): a symlink, a FIFO, a device, or more than maxAgentIDSize
// bytes.
func agentID(cwd string) (string, *Skipped) {
	path := filepath.Join(lock.StateDir(cwd), "agent.id")
	data, _, err := safefile.ReadFile(path, maxAgentIDSize)
	switch {
	case err == nil:
		return strings.TrimSpace(string(data)), nil
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return "", nil
	}
	return "", &Skipped{Path: path, Cwd: cwd, Reason: skipReason(err)}
}

// skipReason says, for a page, why a file was refused; err is from
// readEntryFile or safefile.
func skipReason(err error) string {
	var (
		owner   *ownerError
		corrupt *corruptError
		pe      *fs.PathError
	)
	switch {
	case safefile.Reason(err) != "":
		return safefile.Reason(err)
	case errors.As(err, &owner):
		return owner.reason()
	case errors.As(err, &corrupt):
		return "is not a valid entry (" + corrupt.err.Error() + ")"
	case errors.As(err, &pe):
		return "cannot be read (" + pe.Err.Error() + ")"
	}
	return "cannot be read (" + err.Error() + ")"
}

// scan is what listFiles found: one file per workspace, ordered by file
// name, and what it refused.
type scan struct {
	files    []entryFile
	skipped  []Skipped
	warnings []string
}

// skip records s, logging it the first time it is seen.
func (sc *scan) skip(s Skipped) {
	sc.skipped = append(sc.skipped, s)
	if reported.first(s.Path + "\x00" + s.Reason) {
		slog.Warn("registry: file refused", "path", s.Path, "reason", s.Reason)
	}
}

// listFiles reads every entry file, prunes the stale ones and returns one
// file per workspace, with the files it refused.
func (r Registry) listFiles() (scan, error) {
	var sc scan
	dir := r.Dir
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return sc, nil
	}
	if err != nil {
		return sc, fmt.Errorf("registry list %s: %w", dir, err)
	}
	if !info.IsDir() {
		// Opening a FIFO to list it would block.
		return sc, fmt.Errorf("registry list %s: not a directory; remove it or point the registry elsewhere", dir)
	}
	sc.warnings = dirWarnings(dir, info)
	for _, w := range sc.warnings {
		if reported.first(w) {
			slog.Warn("registry: " + w)
		}
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return sc, nil
	}
	if err != nil {
		return sc, fmt.Errorf("registry list %s: %w", dir, err)
	}
	byID := make(map[string]int)
	for _, de := range ents {
		if !isEntryName(de.Name()) {
			removeAbandonedTemp(dir, de)
			continue
		}
		path := filepath.Join(dir, de.Name())
		f, err := readEntryFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			sc.skip(Skipped{Path: path, Reason: skipReason(err)})
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
			if better(f, sc.files[i]) {
				sc.files[i] = f
			}
			continue
		}
		byID[id] = len(sc.files)
		sc.files = append(sc.files, f)
	}
	return sc, nil
}

// reported remembers the refusals and warnings already logged, so a
// listing repeated every few seconds logs each once.
var reported = newSeenSet(1024)

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
