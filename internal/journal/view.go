package journal

import (
	"slices"
	"strings"
)

// View is the journal as it stood at one moment: the newest events, the
// known workspaces and the down ones. It is immutable and needs no lock, so
// a collector takes one with each snapshot and every page renders the
// journal as of the snapshot it shows.
type View struct {
	events []Event // oldest first; shares the journal's array, read only
	memory int
	known  []Known // sorted by id
	down   []Down  // most recent first
}

// View returns the journal as it stands now. The events are not copied:
// the journal only ever appends beyond the part a View holds, or moves to
// a new array.
func (j *Journal) View() View {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return View{
		events: j.events[:len(j.events):len(j.events)],
		memory: j.opts.Memory,
		known:  j.sortedKnown(),
		down:   slices.Clone(j.down),
	}
}

// Query is Journal.Query as of the view.
func (v View) Query(f Filter) []Event { return query(v.events, v.memory, f) }

// Known returns every known workspace, sorted by id; callers must not
// modify it.
func (v View) Known() []Known { return v.known }

// Workspace returns the known workspace id.
func (v View) Workspace(id string) (Known, bool) {
	i, ok := slices.BinarySearchFunc(v.known, id, func(k Known, id string) int { return strings.Compare(k.ID, id) })
	if !ok {
		return Known{}, false
	}
	return v.known[i], true
}

// Down returns the known workspaces that were down, most recent first;
// callers must not modify it.
func (v View) Down() []Down { return v.down }

// Kinds returns every event kind, in the order of a workspace's life.
func Kinds() []Kind {
	return []Kind{
		KindRegistered, KindHubStarted, KindHubStopped, KindHubDied, KindHubStuck, KindHubRecovered,
		KindOrphaned, KindOrphanAppeared, KindReaped, KindRemoved, KindPruned, KindForgotten, KindAcknowledged,
	}
}

// expectation is an action under way, see Expect.
type expectation struct {
	id   string
	pid  int
	done bool // the action is over: one more observation, and it goes
}

// Expect tells the journal that boneyard is about to act on workspace id
// (unless "") and the hub process pid (unless 0): until done is called, the
// events Observe would derive about that workspace or pid are left out, and
// in the first observation after: it is the first to compare the state
// the action left with the state before it. What the action causes (the
// hub it signals exits, the entry it removes goes, the hub it leaves
// running is an orphan) is then told once, by the event the action
// Records, and a hub that boneyard itself killed is never reported as a
// death. Call done once that event is recorded, or when the action failed;
// calling it again is harmless.
func (j *Journal) Expect(id string, pid int) (done func()) {
	x := &expectation{id: id, pid: pid}
	j.expMu.Lock()
	if j.expected == nil {
		j.expected = make(map[*expectation]struct{})
	}
	j.expected[x] = struct{}{}
	j.expMu.Unlock()
	return func() {
		j.expMu.Lock()
		x.done = true
		j.expMu.Unlock()
	}
}

// unexpected drops the events about the actions under way, and forgets
// the actions that are over; Observe calls it once per observation.
func (j *Journal) unexpected(evs []Event) []Event {
	j.expMu.Lock()
	defer j.expMu.Unlock()
	if len(j.expected) == 0 {
		return evs
	}
	defer func() {
		for x := range j.expected {
			if x.done {
				delete(j.expected, x)
			}
		}
	}()
	return slices.DeleteFunc(evs, func(e Event) bool {
		for x := range j.expected {
			if (x.id != "" && e.WorkspaceID == x.id) || (x.pid > 0 && e.PID == x.pid) {
				return true
			}
		}
		return false
	})
}

// Ending tells how the hub h ended, as Observe would: a caller that ended
// it itself says so in the event it records.
func (j *Journal) Ending(h Hub) Ending { return j.opts.Endings(h) }
