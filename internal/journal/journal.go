// Package journal remembers what happened to the hubs: a durable,
// append-only log of lifecycle events (events.jsonl), and the set of
// workspaces ever seen (known.json), so that a workspace whose hub stopped,
// which bones then deletes from the registry, stays on the page as down,
// and a death is still there to see after boneyard restarts.
//
// Events are derived by comparing each observation of the registry and the
// hub processes with the one before (Derive), reading a gone hub's log to
// tell a clean stop from a death; at start, by comparing the first
// observation with what was known when boneyard last ran (Reconcile). The
// actions boneyard takes are recorded as they happen (Record).
//
// Several boneyard processes of one user may share the directory: each
// event is one write(2) of one bounded line to a file opened with O_APPEND,
// under a shared lock that rotation takes exclusively, so lines never
// interleave or land in a file being rotated. A line torn by a crash is
// skipped on read. The newest events are kept in memory: a page never
// reads the file.
package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"boneyard/internal/hublog"
)

// Kind is what an event reports.
type Kind string

// The event kinds.
const (
	KindRegistered     Kind = "registered"      // a new idle entry (bones up)
	KindHubStarted     Kind = "hub-started"     // a hub appeared under an entry
	KindHubStopped     Kind = "hub-stopped"     // a hub ended with a clean stop
	KindHubDied        Kind = "hub-died"        // a hub ended without one
	KindHubStuck       Kind = "hub-stuck"       // its pid lives, it does not answer
	KindHubRecovered   Kind = "hub-recovered"   // answering again, or no longer an orphan
	KindOrphaned       Kind = "orphaned"        // its workspace is gone while it runs
	KindOrphanAppeared Kind = "orphan-appeared" // a hub process no entry names
	KindReaped         Kind = "reaped"          // boneyard signalled an orphan hub
	KindRemoved        Kind = "removed"         // an entry was removed
	KindPruned         Kind = "pruned"          // an entry vanished with its hub alive or its directory gone
	KindForgotten      Kind = "forgotten"       // boneyard was told to forget a workspace
	KindAcknowledged   Kind = "acknowledged"    // a death was seen: it leaves the title count
)

// FromBoneyard begins the detail of a hub-started or hub-stopped event that
// boneyard's own Start, Stop or Restart caused (it records those itself):
// a workspace it stopped is down "stopped from boneyard".
const FromBoneyard = "from boneyard"

// Event is one line of events.jsonl.
type Event struct {
	Time        time.Time `json:"time"`
	Kind        Kind      `json:"kind"`
	WorkspaceID string    `json:"workspace_id,omitempty"`
	Name        string    `json:"name,omitempty"`
	Cwd         string    `json:"cwd,omitempty"`
	PID         int       `json:"pid,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

// Field bounds, which keep every line under MaxLine.
const (
	maxID     = 64
	maxName   = 256
	maxCwd    = 4096
	maxDetail = 1024
)

// Defaults of Options.
const (
	DefaultMaxSize = 10 << 20
	DefaultMaxAge  = 30 * 24 * time.Hour
	DefaultKeep    = 2
	DefaultMemory  = 2000
	DefaultLimit   = 100
)

// Options configure a Journal; the zero value takes every default.
type Options struct {
	MaxSize  int64                   // rotate events.jsonl past this size; 0: DefaultMaxSize
	MaxAge   time.Duration           // rotate once its oldest event is older; 0: DefaultMaxAge
	Keep     int                     // rotated files kept (events.jsonl.1 …); 0: DefaultKeep
	Memory   int                     // newest events kept in memory; 0: DefaultMemory
	StateDir func(cwd string) string // a workspace's bones state directory; nil: DefaultStateDir
	Endings  EndingFunc              // how a gone hub ended; nil: LogEndings(StateDir)
	Logger   *slog.Logger            // nil: slog.Default()
	Now      func() time.Time        // the clock for actions and rotation; nil: time.Now
}

func (o Options) withDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.Memory <= 0 {
		o.Memory = DefaultMemory
	}
	if o.StateDir == nil {
		o.StateDir = DefaultStateDir
	}
	if o.Endings == nil {
		o.Endings = LogEndings(o.StateDir)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// ErrUnknownWorkspace is returned by Forget and Acknowledge for an id
// boneyard has never seen.
var ErrUnknownWorkspace = errors.New("journal: workspace not known")

// Journal is the event log and the known workspaces of one directory.
type Journal struct {
	dir   string
	opts  Options
	store *store

	// act serializes the changes: observations, actions, the files.
	act       sync.Mutex
	prev      *Observation // nil until the first Observe
	orphans   []OrphanProc // the process-only orphans last observed
	lastSaved time.Time

	// expMu guards expected: the actions under way (see Expect).
	expMu    sync.Mutex
	expected map[*expectation]struct{}

	// appended counts the events this process wrote, by kind, for metrics.
	appendedMu sync.Mutex
	appended   map[Kind]uint64

	// mu guards what readers see.
	mu     sync.RWMutex
	events []Event // the newest, oldest first
	known  map[string]*Known
	down   []Down
}

// Open opens (creating it, mode 0700) the journal in dir, loads the newest
// events and the known workspaces, and rotates the log if it is due. A
// known.json that cannot be read is set aside (renamed known.json.bad-…)
// with a warning, and the set starts empty.
func Open(dir string, o Options) (*Journal, error) {
	o = o.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal directory %s: %w", dir, err)
	}
	j := &Journal{dir: dir, opts: o, store: newStore(dir, o), known: make(map[string]*Known)}
	if err := j.store.maybeRotate(); err != nil {
		return nil, err
	}
	evs, err := j.store.load(o.Memory)
	if err != nil {
		return nil, err
	}
	j.events = dedupe(evs)
	kf, err := loadKnown(j.knownPath())
	if err != nil {
		aside, aerr := setAside(j.knownPath(), o.Now())
		if aerr != nil {
			return nil, fmt.Errorf("%w (and %w)", err, aerr)
		}
		o.Logger.Warn("journal: known workspaces unreadable, starting afresh", "err", err, "kept", aside)
		kf = knownFile{}
	}
	for _, k := range kf.Workspaces {
		j.known[k.ID] = &k
	}
	j.orphans = kf.Orphans
	return j, nil
}

func (j *Journal) knownPath() string { return filepath.Join(j.dir, KnownFileName) }

// Path returns the event log's path.
func (j *Journal) Path() string { return j.store.path }

// dedupe drops an event that repeats one of the few before it within ten
// seconds: two boneyard processes watching the same registry both record
// what they see.
func dedupe(evs []Event) []Event {
	out := evs[:0]
	for _, e := range evs {
		dup := false
		for i := len(out) - 1; i >= 0 && i >= len(out)-16; i-- {
			o := out[i]
			if d := e.Time.Sub(o.Time); d < 10*time.Second && d > -10*time.Second &&
				o.Kind == e.Kind && o.WorkspaceID == e.WorkspaceID && o.PID == e.PID && o.Detail == e.Detail {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

// Observe takes one complete observation (see Observation), records the
// events since the previous one (the first is reconciled with the known
// set), updates the known set and returns the new events. Events already
// derived are kept in memory even when writing them fails; the error
// says what failed.
func (j *Journal) Observe(cur Observation) ([]Event, error) {
	cur = cloneObservation(cur)
	j.act.Lock()
	defer j.act.Unlock()
	first := j.prev == nil
	var evs []Event
	if first {
		evs = Reconcile(j.knownList(), j.orphans, cur, j.opts.Endings)
	} else {
		evs = Derive(*j.prev, cur, j.opts.Endings)
	}
	evs = j.unexpected(evs)
	var errs []error
	for i := range evs {
		evs[i] = bounded(evs[i])
		errs = append(errs, j.write(evs[i]))
	}
	j.mu.Lock()
	absent := j.update(cur)
	for _, e := range evs {
		j.remember(e)
	}
	j.mu.Unlock()
	j.markDown(absent)
	j.prev, j.orphans = &cur, cur.Orphans
	// known.json follows the events, and otherwise the sightings once a
	// minute: "last seen running" needs no finer grain.
	if first || len(evs) > 0 || cur.Time.Sub(j.lastSaved) >= time.Minute {
		errs = append(errs, j.save(cur.Time))
	}
	return evs, errors.Join(errs...)
}

func cloneObservation(o Observation) Observation {
	o.Workspaces = slices.Clone(o.Workspaces)
	o.Orphans = slices.Clone(o.Orphans)
	return o
}

// knownList returns the known set, sorted by id.
func (j *Journal) knownList() []Known {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.sortedKnown()
}

// sortedKnown is knownList with j.mu held.
func (j *Journal) sortedKnown() []Known {
	list := make([]Known, 0, len(j.known))
	for _, k := range j.known {
		list = append(list, *k)
	}
	slices.SortFunc(list, func(a, b Known) int { return strings.Compare(a.ID, b.ID) })
	return list
}

// update folds an observation into the known set and returns the ids of
// the known workspaces it does not list; j.mu is held.
func (j *Journal) update(cur Observation) []string {
	listed := make(map[string]bool, len(cur.Workspaces))
	for _, w := range cur.Workspaces {
		listed[w.ID] = true
		k := j.known[w.ID]
		if k == nil {
			k = &Known{ID: w.ID, FirstSeen: cur.Time}
			j.known[w.ID] = k
		}
		k.Name, k.Cwd, k.Status, k.Present = w.Name, w.Cwd, w.Status, true
		k.PID, k.PIDCreate = w.PID, w.PIDCreate
		k.DirExists, k.AgentIDExists = w.DirExists, w.AgentIDExists
		k.LastSeen = cur.Time
		if w.Status == StatusRunning {
			k.LastRunning = cur.Time
		}
	}
	var absent []string
	for id, k := range j.known {
		if !listed[id] {
			k.Present = false
			absent = append(absent, id)
		}
	}
	return absent
}

// markDown looks at the absent workspaces' directories, without holding
// j.mu, and recomputes which are down; j.act is held.
func (j *Journal) markDown(absent []string) {
	type mark struct{ dir, agentID bool }
	j.mu.RLock()
	cwds := make(map[string]string, len(absent))
	for _, id := range absent {
		cwds[id] = j.known[id].Cwd
	}
	j.mu.RUnlock()
	marks := make(map[string]mark, len(absent))
	for id, cwd := range cwds {
		dir, agentID := markers(cwd, j.opts.StateDir)
		marks[id] = mark{dir, agentID}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.down = j.down[:0:0]
	for id, m := range marks {
		k := j.known[id]
		k.DirExists, k.AgentIDExists = m.dir, m.agentID
		if m.dir && m.agentID {
			j.down = append(j.down, downOf(*k))
		}
	}
	slices.SortFunc(j.down, func(a, b Down) int {
		if c := b.Since.Compare(a.Since); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// remember adds e to memory and to its workspace's record; j.mu is held.
func (j *Journal) remember(e Event) {
	j.events = append(j.events, e)
	if n := j.opts.Memory; len(j.events) > 2*n {
		j.events = slices.Clone(j.events[len(j.events)-n:])
	}
	k := j.known[e.WorkspaceID]
	if e.WorkspaceID == "" || k == nil {
		return
	}
	ev := e
	k.LastEvent = &ev
	switch e.Kind {
	case KindHubDied:
		k.Death, k.Ending = &ev, &ev
	case KindHubStopped, KindRemoved, KindPruned, KindReaped:
		k.Ending = &ev
	case KindHubStarted, KindRegistered:
		k.Ending = nil
	case KindAcknowledged:
		k.Death = nil
	}
}

// write appends e to the log.
func (j *Journal) write(e Event) error {
	line, err := encode(e)
	if err != nil {
		return err
	}
	if err := j.store.append(line); err != nil {
		return err
	}
	j.appendedMu.Lock()
	if j.appended == nil {
		j.appended = make(map[Kind]uint64)
	}
	j.appended[e.Kind]++
	j.appendedMu.Unlock()
	return nil
}

// Appended returns how many events of each kind this process has written
// since Open: a counter for metrics, which restarts with boneyard.
func (j *Journal) Appended() map[Kind]uint64 {
	j.appendedMu.Lock()
	defer j.appendedMu.Unlock()
	out := make(map[Kind]uint64, len(j.appended))
	for k, n := range j.appended {
		out[k] = n
	}
	return out
}

// save writes known.json; j.act is held.
func (j *Journal) save(now time.Time) error {
	kf := knownFile{Saved: now, Workspaces: j.knownList(), Orphans: j.orphans}
	if err := saveKnown(j.knownPath(), kf); err != nil {
		return err
	}
	j.lastSaved = now
	return nil
}

// Record records an action boneyard took: reaped, removed, acknowledged,
// forgotten (or any event the caller saw). A zero Time is now. So that the
// next observation does not report the same change again, a removed or
// reaped workspace leaves the previous observation, as does a reaped
// orphan's pid.
func (j *Journal) Record(e Event) error {
	j.act.Lock()
	defer j.act.Unlock()
	return j.record(e)
}

// record is Record with j.act held.
func (j *Journal) record(e Event) error {
	if e.Time.IsZero() {
		e.Time = j.opts.Now()
	}
	if e.Kind == "" {
		return errors.New("journal record: an event needs a kind")
	}
	e = bounded(e)
	err := j.write(e)
	j.mu.Lock()
	j.remember(e)
	switch e.Kind {
	case KindForgotten:
		delete(j.known, e.WorkspaceID)
		j.down = slices.DeleteFunc(slices.Clone(j.down), func(d Down) bool { return d.ID == e.WorkspaceID })
	case KindRemoved, KindReaped:
		j.forgetPrev(e)
	}
	j.mu.Unlock()
	return errors.Join(err, j.save(e.Time))
}

// forgetPrev drops what e's action ended from the previous observation;
// j.act is held.
func (j *Journal) forgetPrev(e Event) {
	if j.prev == nil {
		return
	}
	p := j.prev
	p.Workspaces = slices.DeleteFunc(p.Workspaces, func(w WorkspaceState) bool {
		return e.WorkspaceID != "" && w.ID == e.WorkspaceID
	})
	p.Orphans = slices.DeleteFunc(p.Orphans, func(o OrphanProc) bool {
		return e.WorkspaceID == "" && e.PID > 0 && o.PID == e.PID
	})
	j.orphans = p.Orphans
}

// Forget removes a down workspace from the known set, recording it. A
// workspace still in the registry cannot be forgotten: it would be known
// again at the next observation.
func (j *Journal) Forget(id string) error {
	j.act.Lock()
	defer j.act.Unlock()
	k, ok := j.knownCopy(id)
	if !ok {
		return fmt.Errorf("forget %s: %w", id, ErrUnknownWorkspace)
	}
	if k.Present {
		return fmt.Errorf("forget %s: the workspace is still in the registry; remove its entry first", k.Name)
	}
	return j.record(Event{Kind: KindForgotten, WorkspaceID: id, Name: k.Name, Cwd: k.Cwd})
}

// Acknowledge marks a workspace's last death as seen, recording it, so
// that it leaves the title count. It does nothing when there is no death
// to acknowledge.
func (j *Journal) Acknowledge(id string) error {
	j.act.Lock()
	defer j.act.Unlock()
	k, ok := j.knownCopy(id)
	if !ok {
		return fmt.Errorf("acknowledge %s: %w", id, ErrUnknownWorkspace)
	}
	if k.Death == nil {
		return nil
	}
	return j.record(Event{Kind: KindAcknowledged, WorkspaceID: id, Name: k.Name, Cwd: k.Cwd, PID: k.Death.PID,
		Detail: "hub death at " + clock(k.Death.Time, j.opts.Now()) + " seen"})
}

func (j *Journal) knownCopy(id string) (Known, bool) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	k := j.known[id]
	if k == nil {
		return Known{}, false
	}
	return *k, true
}

// Filter selects events for Query; zero fields select everything.
type Filter struct {
	WorkspaceID string
	Kind        Kind
	Since       time.Time // events at or after
	Limit       int       // at most; 0: DefaultLimit, never more than the memory holds
}

// Query returns the events matching f among the newest in memory
// (Options.Memory), newest first.
func (j *Journal) Query(f Filter) []Event {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return query(j.events, j.opts.Memory, f)
}

// query returns the events matching f among the newest memory of events
// (oldest first), newest first.
func query(events []Event, memory int, f Filter) []Event {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, memory)
	var out []Event
	oldest := max(len(events)-memory, 0)
	for i := len(events) - 1; i >= oldest && len(out) < limit; i-- {
		e := events[i]
		if (f.WorkspaceID == "" || e.WorkspaceID == f.WorkspaceID) && (f.Kind == "" || e.Kind == f.Kind) &&
			!e.Time.Before(f.Since) {
			out = append(out, e)
		}
	}
	return out
}

// Known returns every known workspace, sorted by id.
func (j *Journal) Known() []Known { return j.knownList() }

// Workspace returns the known workspace id.
func (j *Journal) Workspace(id string) (Known, bool) { return j.knownCopy(id) }

// Down returns the known workspaces that are down, as of the last
// observation, most recent first.
func (j *Journal) Down() []Down {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return slices.Clone(j.down)
}

// Deaths returns the known workspaces whose last hub death has not been
// acknowledged, sorted by id: the title's count.
func (j *Journal) Deaths() []Known {
	return slices.DeleteFunc(j.knownList(), func(k Known) bool { return k.Death == nil })
}

// Close writes the known set a last time.
func (j *Journal) Close() error {
	j.act.Lock()
	defer j.act.Unlock()
	if j.prev == nil {
		return nil
	}
	return j.save(j.prev.Time)
}

// encode returns e's line, newline included, shortening its cwd and
// detail until the line is under MaxLine (JSON escapes a control byte in
// six).
func encode(e Event) ([]byte, error) {
	for {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e); err != nil {
			return nil, fmt.Errorf("journal encode: %w", err)
		}
		if buf.Len() <= MaxLine {
			return buf.Bytes(), nil
		}
		e.Cwd = hublog.Clip(e.Cwd, len(e.Cwd)/2)
		e.Detail = hublog.Clip(e.Detail, len(e.Detail)/2)
		e.Name = hublog.Clip(e.Name, len(e.Name)/2)
	}
}

// bounded clips e's text fields so that its line stays under MaxLine,
// turning control characters in them into spaces; a cwd is left as it is
// unless it is longer than a path can be.
func bounded(e Event) Event {
	e.WorkspaceID = hublog.Clip(e.WorkspaceID, maxID)
	e.Name = hublog.Clip(e.Name, maxName)
	e.Detail = hublog.Clip(e.Detail, maxDetail)
	e.Cwd = strings.ToValidUTF8(e.Cwd, "\uFFFD")
	if len(e.Cwd) > maxCwd {
		e.Cwd = hublog.Clip(e.Cwd, maxCwd)
	}
	return e
}
