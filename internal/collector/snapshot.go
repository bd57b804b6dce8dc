package collector

import (
	"slices"

	"boneyard/procscan"
	"boneyard/registry"
)

// Counts are the per-status totals a page header shows.
type Counts struct {
	Running, Stopped, Idle, Unknown, Orphan int // workspaces per status
	ProcessOrphans                          int // process-only orphan hubs
}

// Of returns the number of workspaces with status s.
func (c Counts) Of(s Status) int {
	switch s {
	case StatusRunning:
		return c.Running
	case StatusStopped:
		return c.Stopped
	case StatusIdle:
		return c.Idle
	case StatusUnknown:
		return c.Unknown
	case StatusOrphan:
		return c.Orphan
	}
	return 0
}

// Workspaces returns the number of workspaces of any status.
func (c Counts) Workspaces() int { return c.Running + c.Stopped + c.Idle + c.Unknown + c.Orphan }

// Problems returns what needs the user's attention: orphan and stopped
// workspaces plus process-only orphan hubs (the page title's count).
func (c Counts) Problems() int { return c.Orphan + c.Stopped + c.ProcessOrphans }

// Counts tallies the snapshot's workspaces per status and its process-only
// orphans.
func (s *Snapshot) Counts() Counts {
	c := Counts{ProcessOrphans: len(s.Orphans)}
	for _, w := range s.Workspaces {
		switch w.Status {
		case StatusRunning:
			c.Running++
		case StatusStopped:
			c.Stopped++
		case StatusIdle:
			c.Idle++
		case StatusUnknown:
			c.Unknown++
		case StatusOrphan:
			c.Orphan++
		}
	}
	return c
}

// Problems is shorthand for s.Counts().Problems().
func (s *Snapshot) Problems() int { return s.Counts().Problems() }

// Workspace returns the workspace with registry id, if the snapshot has it.
func (s *Snapshot) Workspace(id string) (Workspace, bool) {
	i := slices.IndexFunc(s.Workspaces, func(w Workspace) bool { return w.ID == id })
	if i < 0 {
		return Workspace{}, false
	}
	return s.Workspaces[i], true
}

// Process returns the live hub process pid, if the snapshot has it.
func (s *Snapshot) Process(pid int) (procscan.Process, bool) {
	i := slices.IndexFunc(s.Processes, func(p procscan.Process) bool { return p.PID == pid })
	if i < 0 {
		return procscan.Process{}, false
	}
	return s.Processes[i], true
}

// Orphan returns the process-only orphan hub pid, if the snapshot has it.
func (s *Snapshot) Orphan(pid int) (registry.OrphanHub, bool) {
	i := slices.IndexFunc(s.Orphans, func(o registry.OrphanHub) bool { return o.PID == pid })
	if i < 0 {
		return registry.OrphanHub{}, false
	}
	return s.Orphans[i], true
}

// HubProcess is a live hub process with what the registry says of it.
type HubProcess struct {
	procscan.Process
	WorkspaceID  string // the registry entry naming this pid, "" if none
	Orphan       bool   // an orphan hub: process-only, or its entry's workspace is gone
	OrphanReason string // why it is an orphan; "" unless Orphan
}

// HubProcesses returns every live hub process, sorted by pid, marked with
// its registry entry and orphan verdict under the same definition as the
// workspaces' orphan status. The slice is shared: treat it as read-only.
func (s *Snapshot) HubProcesses() []HubProcess {
	if s.hubs == nil {
		return markProcesses(s)
	}
	return s.hubs
}

// markProcesses builds HubProcesses from the snapshot's other sections.
// Several entries may name one pid: the first in display order wins, which
// puts an orphaned entry before a healthy one.
func markProcesses(s *Snapshot) []HubProcess {
	byPID := make(map[int]*Workspace, len(s.Workspaces))
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		if _, seen := byPID[w.HubPID]; !seen && w.HubPID > 0 {
			byPID[w.HubPID] = w
		}
	}
	processOnly := make(map[int]string, len(s.Orphans))
	for _, o := range s.Orphans {
		processOnly[o.PID] = o.Reason
	}
	out := make([]HubProcess, len(s.Processes))
	for i, p := range s.Processes {
		h := HubProcess{Process: p}
		if reason, ok := processOnly[p.PID]; ok {
			h.Orphan, h.OrphanReason = true, reason
		}
		if w := byPID[p.PID]; w != nil {
			h.WorkspaceID = w.ID
			if w.Status == StatusOrphan {
				h.Orphan, h.OrphanReason = true, w.OrphanReason
			}
		}
		out[i] = h
	}
	return out
}
