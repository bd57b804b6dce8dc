package collector

import (
	"path/filepath"
	"strconv"
	"strings"

	"boneyard/lock"
	"boneyard/registry"
)

// The rules the collector applies to what it collected: the verdicts on
// workspaces and hub processes that every page, API and action shares.

// DisplayName is the workspace's name for people; never "", so every link
// and message has one: the registry name, else the directory's base name,
// else the id.
func (w *Workspace) DisplayName() string {
	if strings.TrimSpace(w.Name) != "" {
		return w.Name
	}
	if b := filepath.Base(w.Cwd); b != "." && b != string(filepath.Separator) {
		return b
	}
	return w.ID
}

// LogPath is the hub log of the workspace at cwd, in its bones state
// directory (which BONES_DIR may move).
func LogPath(cwd string) string { return filepath.Join(lock.StateDir(cwd), "hub.log") }

// statusOf is the badge of a registry row: idle without a hub pid, orphan
// when its workspace is gone, else what the hub probe said.
func statusOf(w *Workspace, orphan bool) Status {
	switch {
	case w.HubPID == 0:
		return StatusIdle
	case orphan:
		return StatusOrphan
	case w.HubStatus == registry.HubRunning:
		return StatusRunning
	case w.HubStatus == registry.HubStopped:
		return StatusStopped
	}
	return StatusUnknown
}

// stoppedReason says why a stopped workspace is stopped, as an orphan's
// reason does: its hub process is dead, or alive but not answering. scanned
// tells whether the process scan listed the hub pid.
func stoppedReason(w *Workspace, scanned bool) string {
	pid := strconv.Itoa(w.HubPID)
	switch {
	case !scanned && w.Resources == nil:
		return "pid " + pid + " is dead"
	case w.HubURL == "":
		return "pid " + pid + " alive, no hub URL to ask"
	}
	return "pid " + pid + " alive, hub not answering at " + w.HubURL
}

// canReap tells whether reaping the workspace's hub makes sense: its pid
// may be a live hub (the registry's reap makes sure before it signals).
// Never pid 0 (idle) or 1.
func canReap(w *Workspace) bool {
	live := w.Status == StatusRunning || w.Status == StatusStopped || w.Status == StatusOrphan
	return w.HubPID > 1 && (live || w.Resources != nil)
}

// markProcesses marks each hub process with the registry entry naming its
// pid and the orphan verdict. Several entries may name one pid: the first
// in display order wins, which puts an orphaned entry before a healthy one.
func markProcesses(ws []Workspace, orphans []Orphan, procs []HubProcess) {
	byPID := make(map[int]*Workspace, len(ws))
	for i := range ws {
		w := &ws[i]
		if _, seen := byPID[w.HubPID]; !seen && w.HubPID > 0 {
			byPID[w.HubPID] = w
		}
	}
	processOnly := make(map[int]string, len(orphans))
	for _, o := range orphans {
		processOnly[o.PID] = o.Reason
	}
	for i := range procs {
		h := &procs[i]
		if reason, ok := processOnly[h.PID]; ok {
			h.Orphan, h.OrphanReason = true, reason
		}
		if w := byPID[h.PID]; w != nil {
			h.WorkspaceID = w.ID
			if w.Status == StatusOrphan {
				h.Orphan, h.OrphanReason = true, w.OrphanReason
			}
		}
	}
}

// ProcessReapable tells whether pid may be reaped as a process: only a hub
// process that no registry entry accounts for. A registered hub is reaped
// through its workspace, which also removes its entry. The error is a
// *Refusal that says which rule refused it.
func (s *Snapshot) ProcessReapable(pid int) error {
	if _, ok := s.Orphan(pid); ok {
		return nil
	}
	for i := range s.Workspaces {
		if w := &s.Workspaces[i]; w.HubPID == pid {
			return Refuse(Conflict, "hub process %d is the registered hub of %s (%s), so nothing was signalled: use Reap on that workspace, which also removes its entry", pid, w.DisplayName(), w.Cwd)
		}
	}
	if p, ok := s.Process(pid); ok {
		return Refuse(Conflict, "hub process %d runs in %s, a registered workspace, so it is not a process-only orphan and nothing was signalled: use Reap on that workspace, or Remove its entry first", pid, p.Cwd)
	}
	return notHub(pid)
}
