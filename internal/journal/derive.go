package journal

import (
	"fmt"
	"os"
	"time"
)

// The workspace statuses an observation carries, as the dashboard shows
// them.
const (
	StatusRunning = "running" // hub pid alive and answering
	StatusStopped = "stopped" // hub pid alive, not answering
	StatusIdle    = "idle"    // no hub (pid 0): registered by `bones up`
	StatusUnknown = "unknown" // hub pid alive, nothing to probe
	StatusOrphan  = "orphan"  // hub pid alive, workspace gone
)

// WorkspaceState is one registry entry as observed.
type WorkspaceState struct {
	ID            string
	Name          string
	Cwd           string
	Status        string    // one of the Status constants
	PID           int       // the entry's hub pid, 0 when idle
	PIDCreate     time.Time // that process's start; zero when unknown
	DirExists     bool      // the cwd exists
	AgentIDExists bool      // its .bones/agent.id exists
	OrphanReason  string    // why the hub is an orphan, when Status is orphan
}

// OrphanProc is a live hub process that no registry entry names.
type OrphanProc struct {
	PID       int       `json:"pid"`
	PIDCreate time.Time `json:"pid_create,omitzero"`
	Cwd       string    `json:"cwd"`
	Reason    string    `json:"reason"`
}

// Observation is one complete look at the registry and the hub processes:
// every entry, and every process-only orphan hub. An observation whose
// registry listing or process scan failed must not be passed on, as its
// missing entries would read as hubs gone.
type Observation struct {
	Time       time.Time
	Workspaces []WorkspaceState
	Orphans    []OrphanProc
}

// Hub names one hub process for an EndingFunc.
type Hub struct {
	WorkspaceID string
	Cwd         string
	PID         int
	Created     time.Time // zero when unknown
}

// Ending is how a hub ended, as its workspace's files tell.
type Ending struct {
	Clean  bool   // it stopped cleanly (it logged its stop, or removed hub.pid)
	Logged bool   // Clean because its log shows the stop, which it writes before it exits
	Detail string // one line for a person: why it counts as clean, or how it died
}

// EndingFunc tells how a hub that is gone ended. LogEndings reads the
// hub's log.
type EndingFunc func(Hub) Ending

// createSlack is how far two create times of one process may differ: the
// boot time they derive from is known to a second, and is derived afresh
// by every boneyard process.
const createSlack = 2 * time.Second

// sameProcess reports whether two observations of a pid name one process;
// an unknown create time matches any.
func sameProcess(pidA int, createA time.Time, pidB int, createB time.Time) bool {
	if pidA != pidB {
		return false
	}
	if createA.IsZero() || createB.IsZero() {
		return true
	}
	d := createA.Sub(createB)
	return d < createSlack && d > -createSlack
}

// Derive returns the lifecycle events between two successive observations,
// in order: for each entry of cur, what changed since prev, then the
// entries gone since prev, then the orphan hubs that appeared. ending is
// asked about each hub that is gone, and only then.
//
//   - a new idle entry: registered;
//   - a hub pid appearing or changing (a recycled pid is a change: another
//     create time): first the old hub's end, then hub-started, and
//     hub-stuck when it does not answer;
//   - an entry gone, back to idle or naming another pid while its hub is
//     dead: hub-stopped after a clean stop, else hub-died;
//   - an entry gone while its hub lives on: pruned; an idle entry gone:
//     removed, or pruned when its directory was already gone;
//   - running to stopped: hub-stuck; stopped to running, or an orphan's
//     workspace back: hub-recovered; to orphan: orphaned;
//   - a new process-only orphan hub: orphan-appeared.
func Derive(prev, cur Observation, ending EndingFunc) []Event {
	d := deriver{cur: cur, ending: ending}
	return d.run(prev)
}

// Reconcile returns what changed between the workspaces boneyard knew when
// it last ran and its first observation since: the same events as Derive,
// their detail saying that they happened while boneyard was not running.
// Workspaces known as gone already are left alone; orphans are the
// process-only orphans last observed.
func Reconcile(known []Known, orphans []OrphanProc, cur Observation, ending EndingFunc) []Event {
	prev := Observation{Orphans: orphans}
	lastRunning := make(map[string]time.Time)
	for _, k := range known {
		if !k.Present {
			continue
		}
		prev.Workspaces = append(prev.Workspaces, k.state())
		lastRunning[k.ID] = k.LastRunning
	}
	d := deriver{cur: cur, ending: ending, away: true, lastRunning: lastRunning}
	return d.run(prev)
}

// deriver holds what one derivation needs.
type deriver struct {
	cur         Observation
	ending      EndingFunc
	away        bool                 // reconciling a time boneyard did not see
	lastRunning map[string]time.Time // when away: each workspace's last sighting running
	leaving     []OrphanProc         // hubs that removed their entry on their way out
	events      []Event
}

func (d *deriver) run(prev Observation) []Event {
	before := make(map[string]WorkspaceState, len(prev.Workspaces))
	for _, w := range prev.Workspaces {
		before[w.ID] = w
	}
	now := make(map[string]bool, len(d.cur.Workspaces))
	for _, c := range d.cur.Workspaces {
		now[c.ID] = true
		p, seen := before[c.ID]
		if !seen {
			d.appeared(c)
			continue
		}
		d.changed(p, c)
	}
	for _, p := range prev.Workspaces {
		if !now[p.ID] {
			d.gone(p)
		}
	}
	for _, o := range d.cur.Orphans {
		if !hasOrphan(prev.Orphans, o) && !hasOrphan(d.leaving, o) {
			d.add(Event{Kind: KindOrphanAppeared, PID: o.PID, Cwd: o.Cwd, Detail: o.Reason})
		}
	}
	return d.events
}

func hasOrphan(list []OrphanProc, o OrphanProc) bool {
	for _, x := range list {
		if sameProcess(x.PID, x.PIDCreate, o.PID, o.PIDCreate) {
			return true
		}
	}
	return false
}

// add appends e, stamped with the observation's time and, when away, the
// note that boneyard did not see it happen.
func (d *deriver) add(e Event) {
	e.Time = d.cur.Time
	if d.away {
		note := "while boneyard was not running"
		switch e.Kind {
		case KindHubStopped, KindHubDied, KindRemoved, KindPruned:
			note = "gone " + note
			if t := d.lastRunning[e.WorkspaceID]; !t.IsZero() {
				note += "; last seen running at " + clock(t, d.cur.Time)
			}
		}
		e.Detail = joinDetail(note, e.Detail)
	}
	d.events = append(d.events, e)
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// about returns an event of kind for workspace w.
func about(kind Kind, w WorkspaceState, pid int, detail string) Event {
	return Event{Kind: kind, WorkspaceID: w.ID, Name: w.Name, Cwd: w.Cwd, PID: pid, Detail: detail}
}

// appeared handles an entry not in the previous observation.
func (d *deriver) appeared(c WorkspaceState) {
	if c.PID == 0 {
		d.add(about(KindRegistered, c, 0, "idle: no hub yet"))
		return
	}
	d.started(c)
}

// started handles a hub new to its entry.
func (d *deriver) started(c WorkspaceState) {
	if c.Status == StatusOrphan {
		d.add(about(KindOrphaned, c, c.PID, c.OrphanReason))
		return
	}
	d.add(about(KindHubStarted, c, c.PID, fmt.Sprintf("pid %d", c.PID)))
	if c.Status == StatusStopped {
		d.add(about(KindHubStuck, c, c.PID, "its pid is alive but the hub does not answer"))
	}
}

// changed handles an entry in both observations.
func (d *deriver) changed(p, c WorkspaceState) {
	same := p.PID > 0 && c.PID > 0 && sameProcess(p.PID, p.PIDCreate, c.PID, c.PIDCreate)
	if p.PID > 0 && !same {
		if !d.alive(p) {
			d.ended(p)
		}
	}
	switch {
	case c.PID == 0:
	case !same:
		d.started(c)
	default:
		d.transition(p, c)
	}
}

// transition handles a status change of one hub.
func (d *deriver) transition(p, c WorkspaceState) {
	if p.Status == StatusOrphan && c.Status != StatusOrphan {
		d.add(about(KindHubRecovered, c, c.PID, "its workspace is back: no longer an orphan"))
	}
	if c.Status == StatusOrphan && p.Status != StatusOrphan {
		d.add(about(KindOrphaned, c, c.PID, c.OrphanReason))
	}
	if c.Status == StatusStopped && p.Status != StatusStopped {
		d.add(about(KindHubStuck, c, c.PID, "its pid is alive but the hub does not answer"))
	}
	if p.Status == StatusStopped && c.Status == StatusRunning {
		d.add(about(KindHubRecovered, c, c.PID, "answering again"))
	}
}

// gone handles an entry no longer in the registry.
func (d *deriver) gone(p WorkspaceState) {
	switch {
	case p.PID > 0 && d.alive(p):
		// bones removes its entry as it stops: a hub whose log shows its
		// stop is on its way out, not an orphan.
		if end := d.end(p); end.Clean && end.Logged {
			d.add(about(KindHubStopped, p, p.PID, "its entry removed by the hub on its way out; "+end.Detail))
			d.leaving = append(d.leaving, OrphanProc{PID: p.PID, PIDCreate: p.PIDCreate})
			return
		}
		d.add(about(KindPruned, p, p.PID, fmt.Sprintf("registry entry removed while its hub (pid %d) kept running", p.PID)))
	case p.PID > 0:
		d.ended(p)
	case !p.DirExists || !dirExists(p.Cwd):
		d.add(about(KindPruned, p, 0, "registry entry removed: the workspace directory is gone"))
	default:
		d.add(about(KindRemoved, p, 0, "registry entry removed"))
	}
}

// dirExists reports whether the directory cwd is there now: bones prunes
// an entry once its directory is gone, so the entry seen last still had one.
func dirExists(cwd string) bool {
	fi, err := os.Stat(cwd)
	return err == nil && fi.IsDir()
}

// alive reports whether p's hub process is still in the current
// observation, under any entry or as an orphan.
func (d *deriver) alive(p WorkspaceState) bool {
	for _, c := range d.cur.Workspaces {
		if c.PID > 0 && sameProcess(p.PID, p.PIDCreate, c.PID, c.PIDCreate) {
			return true
		}
	}
	return hasOrphan(d.cur.Orphans, OrphanProc{PID: p.PID, PIDCreate: p.PIDCreate})
}

// end asks how p's hub ended.
func (d *deriver) end(p WorkspaceState) Ending {
	if d.ending == nil {
		return Ending{Detail: "no way to tell how it ended"}
	}
	return d.ending(Hub{WorkspaceID: p.ID, Cwd: p.Cwd, PID: p.PID, Created: p.PIDCreate})
}

// ended records the end of p's hub: a clean stop or a death.
func (d *deriver) ended(p WorkspaceState) {
	end := d.end(p)
	kind := KindHubDied
	if end.Clean {
		kind = KindHubStopped
	}
	d.add(about(kind, p, p.PID, end.Detail))
}

// clock formats t for a detail: its time of day when on ref's day, with
// the date otherwise, in local time.
func clock(t, ref time.Time) string {
	t, ref = t.Local(), ref.Local()
	switch {
	case t.YearDay() == ref.YearDay() && t.Year() == ref.Year():
		return t.Format("15:04")
	case t.Year() == ref.Year():
		return t.Format("Jan 2 15:04")
	}
	return t.Format("Jan 2 2006 15:04")
}
