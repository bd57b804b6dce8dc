package collector

import (
	"testing"
	"time"
)

// TestSampler checks the history the periodic collections leave: one
// sample a step, the CPU share between two samples from the CPU time used,
// and no history for a hub no longer measured.
func TestSampler(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 14, 2, 0, 0, time.UTC)
	started := t0.Add(-time.Hour)
	hub := func(pid int, cpu time.Duration, avg float64, rss uint64) Workspace {
		w := ws("w"+string(rune('0'+pid%10)), StatusRunning, &Resources{CPUTime: cpu, CPUPercent: avg, RSS: rss})
		w.HubPID, w.HubStarted = pid, started
		return w
	}
	at := func(d time.Duration, rows ...Workspace) *Snapshot {
		s := snap(nil, rows...)
		s.Taken = t0.Add(d)
		return s
	}
	sm := newSampler(time.Hour, 2*time.Second)
	if sm.step != 5*time.Second || sm.set.Cap() != 720 {
		t.Fatalf("step %v, %d samples a hub; want 5s and 720", sm.step, sm.set.Cap())
	}
	// Hub 11 uses half a core, then a fifth; hub 12 is measured once. The
	// row without a start time has no history.
	noStart := hub(13, 0, 1, 1<<20)
	noStart.HubStarted = time.Time{}
	steps := []*Snapshot{
		at(0, hub(11, 10*time.Second, 50, 100<<20), hub(12, 0, 3, 1<<20), noStart),
		at(2*time.Second, hub(11, 11*time.Second, 50, 100<<20)),         // too soon: no sample
		at(4500*time.Millisecond, hub(11, 12*time.Second, 50, 110<<20)), // 2 s of CPU in 4.5 s
		at(9500*time.Millisecond, hub(11, 13*time.Second, 50, 120<<20)), // 1 s in 5 s
	}
	for _, s := range steps {
		sm.add(s)
	}
	last := steps[len(steps)-1]
	sm.attach(last)
	w := last.Workspaces[0]
	got := last.Series(&w, 10)
	wantCPU := []float64{50, 2.0 / 4.5 * 100, 20}
	wantMiB := []uint64{100, 110, 120}
	if len(got) != len(wantCPU) {
		t.Fatalf("hub 11: %d samples %+v, want %d", len(got), got, len(wantCPU))
	}
	for i, p := range got {
		// float32 storage: within a millionth.
		if d := p.CPUPercent - wantCPU[i]; d > 1e-4 || d < -1e-4 || p.RSS != wantMiB[i]<<20 {
			t.Errorf("sample %d = cpu %v rss %d, want cpu %v rss %d MiB", i, p.CPUPercent, p.RSS, wantCPU[i], wantMiB[i])
		}
	}
	// Hub 12 was not measured since the first collection: its history went.
	first := steps[0]
	sm.attach(first)
	for _, i := range []int{1, 2} {
		if got := first.Series(&first.Workspaces[i], 10); got != nil {
			t.Errorf("%s: %+v, want no history", first.Workspaces[i].ID, got)
		}
	}
	// An earlier snapshot reads the samples up to its own time.
	mid := steps[2]
	sm.attach(mid)
	if got := mid.Series(&w, 10); len(got) != 2 {
		t.Errorf("the snapshot at 4.5 s reads %d samples, want 2", len(got))
	}
}
