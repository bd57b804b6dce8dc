package collector

import (
	"slices"
	"time"

	"boneyard/internal/history"
	"boneyard/internal/journal"
	"boneyard/lock"
	"boneyard/procscan"
	"boneyard/registry"
)

// Status is the dashboard's badge for a workspace.
type Status string

const (
	StatusRunning Status = "running" // pid alive, hub answers
	StatusStopped Status = "stopped" // entry has a hub, but it does not answer
	StatusIdle    Status = "idle"    // pid 0: registered by `bones up`
	StatusUnknown Status = "unknown" // not enough info to probe
	StatusOrphan  Status = "orphan"  // pid alive, workspace gone
	// StatusDown is a workspace boneyard remembers whose entry is gone
	// (bones deletes it when the hub stops, and prunes it once the hub
	// died) while the workspace is still there; see Snapshot.Down.
	StatusDown Status = "down"
)

// statuses is every status in display order; Counts is indexed by it.
var statuses = [...]Status{StatusOrphan, StatusStopped, StatusDown, StatusUnknown, StatusIdle, StatusRunning}

// Statuses returns every status in display order: problems first (orphan,
// stopped), then down, unknown, idle, running. Workspaces are sorted by
// it, except that a down workspace whose hub stopped cleanly, or whose
// death was acknowledged, sorts with the idle ones.
func Statuses() []Status { return slices.Clone(statuses[:]) }

// Problem reports whether a workspace with this status needs the user's
// attention: an orphan or a stopped hub. A down workspace is not one in
// itself: its hub's death is, until acknowledged (Counts.Deaths).
func (s Status) Problem() bool { return s == StatusOrphan || s == StatusStopped }

// Rank is the status's position in Statuses, for sorting problems first;
// unknown strings sort last.
func (s Status) Rank() int {
	if i := slices.Index(statuses[:], s); i >= 0 {
		return i
	}
	return len(statuses)
}

// The parts a snapshot is made of, named here so that its readers need not
// import the packages that produce them.
type (
	// Resources is a live hub process's resource use.
	Resources = procscan.Resources
	// LockState is a workspace lock as probed.
	LockState = lock.State
	// Orphan is a live hub process whose workspace is gone or unknown.
	Orphan = registry.OrphanHub
	// ReapOutcome says what a workspace reap did.
	ReapOutcome = registry.ReapOutcome
	// Event is one lifecycle event the journal recorded.
	Event = journal.Event
	// Kind is what an event reports.
	Kind = journal.Kind
	// EventFilter selects events (Snapshot.Events).
	EventFilter = journal.Filter
	// Known is a workspace the journal remembers.
	Known = journal.Known
	// Down says how and when a remembered workspace went down.
	Down = journal.Down
	// Sample is one CPU and memory measurement of a hub.
	Sample = history.Sample
)

// The event kinds a page tells apart.
const (
	KindHubDied        = journal.KindHubDied
	KindHubStuck       = journal.KindHubStuck
	KindOrphanAppeared = journal.KindOrphanAppeared
)

// Kinds returns every event kind, in the order of a workspace's life.
func Kinds() []Kind { return journal.Kinds() }

// What a workspace reap did; see ReapWorkspace.
const (
	ReapStopped  = registry.ReapStopped  // the hub was signalled and is gone; its entry was removed
	ReapExited   = registry.ReapExited   // the hub had already exited: only its entry was removed
	ReapRecycled = registry.ReapRecycled // the pid names a newer hub: nothing was signalled, the stale entry was removed
)

// Workspace is one registry row with everything the pages show, and the
// verdicts the collector drew from it.
type Workspace struct {
	registry.Info
	Status        Status     // the badge; HubStatus keeps the registry's own label
	OrphanReason  string     // why the hub is an orphan; "" unless Status is orphan
	StoppedReason string     // why the hub is stopped: dead, or alive and not answering; "" unless Status is stopped
	CanReap       bool       // the hub pid may be a live hub, so reaping it makes sense
	CanStart      bool       // no hub is known to run and the directory holds its marker: Start is offered
	CanStop       bool       // the entry names a running or stopped hub: Stop and Restart are offered
	HubLink       bool       // HubURL is http(s) on loopback, so a page may show it as a link
	HubStarted    time.Time  // when the hub process HubPID started, as the scan saw it; zero when the scan did not list it
	LogPath       string     // the hub's log file in the workspace's state directory
	LogModified   time.Time  // when a running hub's log last changed, its last sign of activity; zero otherwise or without a log
	Lock          LockState  // the workspace lock as probed (never taken)
	Resources     *Resources // nil unless the hub pid is alive; shared by entries naming the same pid

	// What the journal remembers of the workspace (zero without one).
	Down     *Down  // how and when it went down; set only on the rows of Snapshot.Down
	Death    *Event // its hub's last death, until acknowledged
	Deaths   int    // its hub's deaths in the last FlapWindow
	Flapping bool   // Deaths reached FlapDeaths: the hub keeps dying
}

// Refused is a file a collection would not read, and why.
type Refused = registry.Skipped

// HubProcess is a live hub process with what the registry says of it.
type HubProcess struct {
	procscan.Process
	WorkspaceID  string // the registry entry naming this pid, "" if none
	Orphan       bool   // an orphan hub: process-only, or its entry's workspace is gone
	OrphanReason string // why it is an orphan; "" unless Orphan
}

// Snapshot is immutable once published: the collector never modifies a
// published snapshot, and no slice or pointer in it is shared with another
// snapshot's mutable state. Readers must treat it as read-only; its slices
// have no spare capacity, so an append by one reader never writes into
// memory another reader sees.
type Snapshot struct {
	Seq         uint64        // increases with every published snapshot; 0 before the first collection
	Taken       time.Time     // when this collection started
	Took        time.Duration // how long it took
	RegistryDir string        // the registry directory the collector lists
	Workspaces  []Workspace   // sorted problems first, then name, cwd
	Orphans     []Orphan      // process-only orphans, sorted by pid
	// Processes is every live hub process, sorted by pid, marked with its
	// registry entry and orphan verdict under the same definition as the
	// workspaces' orphan status.
	Processes []HubProcess
	Err       error // errors of this collection's parts, if any (the other parts are still filled)
	ListErr   error // the registry listing failed: Workspaces and Orphans are empty for want of it (also in Err)
	ScanErr   error // the process scan failed: Processes and Orphans are incomplete (also in Err)

	// Refused is every file the listing would not read (a symlink, a FIFO,
	// a device, too large, corrupt, another user's entry) and why; nothing
	// in it was acted on. Warnings are the registry's own problems, e.g. a
	// directory other users may write.
	Refused  []Refused
	Warnings []string
	// OtherUsersHubs counts the hub processes of other local users: they
	// are left out of Processes and Orphans (neither shown nor reapable).
	OtherUsersHubs int

	// Down is the workspaces boneyard remembers that are down (Status
	// down), sorted like Workspaces; empty without a journal or a listing.
	Down []Workspace
	// Notices are the latest events worth a desktop notification, oldest
	// first; NoticeRun tells this boneyard run's apart from another's.
	Notices   []Notice
	NoticeRun string

	journal    journal.View // the journal as of this snapshot
	remembers  bool         // there is a journal
	history    *history.Set // the hubs' resource samples; read up to Taken
	historyCap int          // samples kept a hub
}

// Counts are the per-status totals a page header shows.
type Counts struct {
	byStatus       [len(statuses)]int // workspaces per status, in display order
	ProcessOrphans int                // process-only orphan hubs
	Deaths         int                // workspaces shown whose hub death is not acknowledged
}

// Of returns the number of workspaces with status s.
func (c Counts) Of(s Status) int {
	if r := s.Rank(); r < len(c.byStatus) {
		return c.byStatus[r]
	}
	return 0
}

// Workspaces returns the number of workspaces of any status.
func (c Counts) Workspaces() int {
	n := 0
	for _, k := range c.byStatus {
		n += k
	}
	return n
}

// Problems returns what needs the user's attention: orphan and stopped
// workspaces plus process-only orphan hubs (the page title's count).
func (c Counts) Problems() int {
	n := c.ProcessOrphans
	for i, st := range statuses {
		if st.Problem() {
			n += c.byStatus[i]
		}
	}
	return n
}

// Attention is what the page title counts: the problems plus the hub
// deaths not acknowledged yet.
func (c Counts) Attention() int { return c.Problems() + c.Deaths }

// Counts tallies the snapshot's workspaces, down ones included, per
// status, its process-only orphans and its unacknowledged deaths.
func (s *Snapshot) Counts() Counts {
	c := Counts{ProcessOrphans: len(s.Orphans)}
	for _, list := range [][]Workspace{s.Workspaces, s.Down} {
		for _, w := range list {
			if r := w.Status.Rank(); r < len(c.byStatus) {
				c.byStatus[r]++
			}
			if w.Death != nil {
				c.Deaths++
			}
		}
	}
	return c
}

// Problems is shorthand for s.Counts().Problems().
func (s *Snapshot) Problems() int { return s.Counts().Problems() }

// Attention is shorthand for s.Counts().Attention(): the title's count.
func (s *Snapshot) Attention() int { return s.Counts().Attention() }

// Listed reports whether the snapshot speaks for the registry: collected,
// and the listing succeeded. Otherwise a missing workspace proves nothing.
func (s *Snapshot) Listed() bool { return s.Seq > 0 && s.ListErr == nil }

// Workspace returns the workspace with registry id, if the snapshot has it.
func (s *Snapshot) Workspace(id string) (Workspace, bool) {
	i := slices.IndexFunc(s.Workspaces, func(w Workspace) bool { return w.ID == id })
	if i < 0 {
		return Workspace{}, false
	}
	return s.Workspaces[i], true
}

// Process returns the live hub process pid, if the snapshot has it.
func (s *Snapshot) Process(pid int) (HubProcess, bool) {
	i := slices.IndexFunc(s.Processes, func(p HubProcess) bool { return p.PID == pid })
	if i < 0 {
		return HubProcess{}, false
	}
	return s.Processes[i], true
}

// Orphan returns the process-only orphan hub pid, if the snapshot has it.
func (s *Snapshot) Orphan(pid int) (Orphan, bool) {
	i := slices.IndexFunc(s.Orphans, func(o Orphan) bool { return o.PID == pid })
	if i < 0 {
		return Orphan{}, false
	}
	return s.Orphans[i], true
}
