package collector

import (
	"slices"
	"time"

	"boneyard/internal/journal"
)

// What the collector takes from the journal: each complete collection is
// an observation for it, and each snapshot carries the journal as it
// stood then, with the verdicts drawn from it (which workspaces are down,
// which deaths are unacknowledged, which hubs flap, what to announce).

// observe hands a complete collection to the journal (one whose registry
// listing or process scan failed would read as hubs gone), then fills s
// with the journal as it stands; the caller holds sem.
func (c *Collector) observe(s *Snapshot) {
	if c.journal == nil {
		return
	}
	complete := s.ListErr == nil && s.ScanErr == nil
	var evs []Event
	if complete {
		var err error
		if evs, err = c.journal.Observe(observation(s)); err != nil {
			c.log.Warn("collector: journal", "err", err)
		}
	}
	// The first observation reconciles with what was known when boneyard
	// last ran: old news, announced to nobody.
	first := complete && !c.observed
	c.observed = c.observed || complete
	c.remember(s)
	if !first {
		c.notices.stepSnapshot(s, evs)
	}
	c.notices.attach(s)
}

// observation is what the journal needs of s.
func observation(s *Snapshot) journal.Observation {
	o := journal.Observation{
		Time:       s.Taken,
		Workspaces: make([]journal.WorkspaceState, 0, len(s.Workspaces)),
		Orphans:    make([]journal.OrphanProc, 0, len(s.Orphans)),
	}
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		o.Workspaces = append(o.Workspaces, journal.WorkspaceState{
			ID: w.ID, Name: w.DisplayName(), Cwd: w.Cwd, Status: string(w.Status),
			PID: w.HubPID, PIDCreate: w.HubStarted,
			// The listing prunes an entry whose directory is gone.
			DirExists: true, AgentIDExists: w.AgentID != "",
			OrphanReason: w.OrphanReason,
		})
	}
	for _, p := range s.Orphans {
		o.Orphans = append(o.Orphans, journal.OrphanProc{PID: p.PID, PIDCreate: p.CreateTime, Cwd: p.Cwd, Reason: p.Reason})
	}
	return o
}

// remember fills s with the journal as it stands now: its view, each
// row's death and flapping, and the down workspaces the registry does not
// list. Without a listing nothing can be down: the registry may list it.
func (c *Collector) remember(s *Snapshot) {
	if c.journal == nil {
		return
	}
	v := c.journal.View()
	s.journal, s.remembers = v, true
	now := s.Taken
	if now.IsZero() {
		now = time.Now()
	}
	deaths := deathsSince(v, now.Add(-FlapWindow))
	mark := func(w *Workspace) {
		if k, ok := v.Workspace(w.ID); ok {
			w.Death = k.Death
		}
		w.Deaths = deaths[w.ID]
		w.Flapping = w.Deaths >= FlapDeaths
	}
	for i := range s.Workspaces {
		mark(&s.Workspaces[i])
	}
	if !s.Listed() {
		return
	}
	listed := make(map[string]bool, len(s.Workspaces))
	for _, w := range s.Workspaces {
		listed[w.ID] = true
	}
	down := make([]Workspace, 0, len(v.Down()))
	for _, d := range v.Down() {
		if listed[d.ID] {
			continue
		}
		w := downRow(d)
		mark(&w)
		down = append(down, w)
	}
	slices.SortFunc(down, compareWorkspaces)
	s.Down = down[:len(down):len(down)]
}

// downRow is a down workspace as a row: no entry, no hub.
func downRow(d Down) Workspace {
	w := Workspace{Status: StatusDown, Down: &d, LogPath: LogPath(d.Cwd)}
	w.ID, w.Name, w.Cwd = d.ID, d.Name, d.Cwd
	w.CanStart = canStart(&w)
	return w
}

// deathsSince counts each workspace's hub deaths at or after since.
func deathsSince(v journal.View, since time.Time) map[string]int {
	n := make(map[string]int)
	for _, e := range v.Query(journal.Filter{Kind: journal.KindHubDied, Since: since, Limit: 1 << 30}) {
		n[e.WorkspaceID]++
	}
	return n
}

// sortRank places w among the others: by status, except that a down
// workspace whose hub's death is not acknowledged sorts with the problems
// and any other with the idle ones.
func (w *Workspace) sortRank() int {
	if w.Status == StatusDown && w.Death == nil {
		return StatusIdle.Rank()
	}
	return w.Status.Rank()
}

// Remembers reports whether the snapshot comes with a journal: without
// one there are no events, down workspaces or deaths.
func (s *Snapshot) Remembers() bool { return s.remembers }

// Table is what the dashboard's table lists: the registry's workspaces and
// the down ones, sorted problems first.
func (s *Snapshot) Table() []Workspace {
	if len(s.Down) == 0 {
		return s.Workspaces
	}
	t := slices.Concat(s.Workspaces, s.Down)
	slices.SortFunc(t, compareWorkspaces)
	return t
}

// DownWorkspace returns the down workspace id, if the snapshot has it.
func (s *Snapshot) DownWorkspace(id string) (Workspace, bool) {
	i := slices.IndexFunc(s.Down, func(w Workspace) bool { return w.ID == id })
	if i < 0 {
		return Workspace{}, false
	}
	return s.Down[i], true
}

// Events returns the journal's events matching f as of the snapshot,
// newest first.
func (s *Snapshot) Events(f EventFilter) []Event { return s.journal.Query(f) }

// KnownWorkspace returns the workspace id as the journal remembers it.
func (s *Snapshot) KnownWorkspace(id string) (Known, bool) { return s.journal.Workspace(id) }

// The Status of a known workspace that is neither listed nor down.
const KnownGone = "gone"

// KnownWorkspace is a workspace the journal remembers, with its status now.
type KnownWorkspace struct {
	Known
	// Status is the workspace's status in the registry, "down", or
	// KnownGone when its directory or .bones/agent.id is gone (it is
	// history only).
	Status string
}

// KnownWorkspaces returns every workspace the journal remembers, sorted by
// id, with its status in the snapshot.
func (s *Snapshot) KnownWorkspaces() []KnownWorkspace {
	known := s.journal.Known()
	out := make([]KnownWorkspace, 0, len(known))
	for _, k := range known {
		st := KnownGone
		if w, ok := s.Workspace(k.ID); ok {
			st = string(w.Status)
		} else if _, ok := s.DownWorkspace(k.ID); ok {
			st = string(StatusDown)
		}
		out = append(out, KnownWorkspace{Known: k, Status: st})
	}
	return out
}
