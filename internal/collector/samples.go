package collector

import (
	"time"

	"boneyard/internal/history"
)

// Resource history: each live hub's CPU share and resident memory, sampled
// by the periodic collections into a fixed ring per hub process, so that
// pages can draw the last hour without the memory growing with uptime.

const (
	defaultHistory = time.Hour
	// maxSamples bounds a hub's ring, so that a short interval does not
	// make it large: 100 hubs' hour at 5 s is about 1.2 MB.
	maxSamples = 720
)

// sampler adds the periodic collections' measurements to the rings.
type sampler struct {
	set   *history.Set
	step  time.Duration
	marks map[history.Key]cpuMark // each hub's previous sample, for its CPU share since
}

// cpuMark is the CPU time a hub had used when it was last sampled.
type cpuMark struct {
	cpu time.Duration
	at  time.Time
}

func newSampler(window, interval time.Duration) *sampler {
	if window <= 0 {
		window = defaultHistory
	}
	step := max(interval, window/maxSamples)
	return &sampler{set: history.NewSet(window, step), step: step, marks: make(map[history.Key]cpuMark)}
}

// historyKey is the history key of w's hub, false when its process is not
// known (not measured, or its start time unknown).
func historyKey(w *Workspace) (history.Key, bool) {
	if w.Resources == nil || w.HubStarted.IsZero() {
		return history.Key{}, false
	}
	return history.KeyOf(w.HubPID, w.HubStarted), true
}

// add samples every measured hub of s at most once a step: its CPU share
// since its previous sample (the first: its average since start) and its
// memory. Hubs no longer measured lose their history.
func (sm *sampler) add(s *Snapshot) {
	live := make([]history.Key, 0, len(s.Workspaces))
	seen := make(map[history.Key]bool, len(s.Workspaces))
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		k, ok := historyKey(w)
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		live = append(live, k)
		r := w.Resources
		prev, had := sm.marks[k]
		// A collection may run a little early: a tenth of a step is slack.
		if had && s.Taken.Sub(prev.at) < sm.step*9/10 {
			continue
		}
		cpu := r.CPUPercent
		if had && s.Taken.After(prev.at) {
			cpu = max(float64(r.CPUTime-prev.cpu), 0) / float64(s.Taken.Sub(prev.at)) * 100
		}
		sm.set.Add(k, history.Sample{Time: s.Taken, CPUPercent: cpu, RSS: r.RSS})
		sm.marks[k] = cpuMark{cpu: r.CPUTime, at: s.Taken}
	}
	sm.set.Retain(live)
	for k := range sm.marks {
		if !seen[k] {
			delete(sm.marks, k)
		}
	}
}

// attach lets s read the rings.
func (sm *sampler) attach(s *Snapshot) {
	s.history, s.historyCap = sm.set, sm.set.Cap()
}

// Series returns w's hub's CPU and memory samples up to the snapshot,
// oldest first, averaged into at most n points; nil when there are none.
func (s *Snapshot) Series(w *Workspace, n int) []Sample {
	k, ok := historyKey(w)
	if !ok || s.history == nil {
		return nil
	}
	return s.history.Series(k, n, s.Taken)
}
