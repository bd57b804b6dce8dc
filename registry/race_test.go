package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"boneyard/internal/atomicfile"
	"boneyard/internal/hubtest"
)

// racing returns a registry in a fresh home for tests that race live
// goroutines: without fsync, since atomicity between them comes from rename
// and link and fsync would only slow the races down, and with every entry
// the package deletes while pruning or settling routed to onDiscard (if
// not nil).
func racing(t testing.TB, onDiscard func(Entry)) (Registry, string) {
	t.Helper()
	r, home := testRegistry(t)
	r.tune = &tuning{noSync: true, onDiscard: onDiscard}
	return r, home
}

// TestPruneSparesReplacedFile replays the prune race step by step: an entry
// is read and judged stale, a writer replaces it, then the prune acts.
func TestPruneSparesReplacedFile(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	dead := deadPID(t)

	mustWrite(t, r, Entry{Cwd: cwd, Name: "stale", HubPID: dead})
	judged, err := readEntryFile(r.EntryPath(cwd))
	if err != nil {
		t.Fatal(err)
	}
	if !stale(judged.entry) {
		t.Fatal("entry of a dead pid is not stale")
	}
	mustWrite(t, r, Entry{Cwd: cwd, Name: "fresh", HubPID: os.Getpid()})
	if err := r.prune(judged); err != nil {
		t.Fatal(err)
	}
	if got, ok := readRaw(t, r, cwd); !ok || got.Name != "fresh" {
		t.Fatalf("after prune: %+v (present %v), want the fresh entry", got, ok)
	}

	// The judged file itself is deleted.
	mustWrite(t, r, Entry{Cwd: cwd, Name: "stale", HubPID: dead})
	judged, err = readEntryFile(r.EntryPath(cwd))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.prune(judged); err != nil {
		t.Fatal(err)
	}
	if exists(r.EntryPath(cwd)) {
		t.Fatal("the judged stale file survived")
	}
	if tmps := tempFiles(t, r); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestSettle covers the contest between a file parked aside by a pruner
// and a file that arrived at the name meanwhile.
func TestSettle(t *testing.T) {
	t.Parallel()
	live, dead := os.Getpid(), deadPID(t)
	older := time.Now().Add(-time.Hour)
	tests := []struct {
		name            string
		parked, inPlace Entry // Name says which is which; inPlace.Cwd "" means none
		parkedOlder     bool  // the parked file has the older mtime
		sameMtime       bool  // both files have the same mtime
		want            string
	}{
		{"name free: parked file returns", Entry{Name: "parked", HubPID: live}, Entry{}, false, false, "parked"},
		{"live hub beats an idle row", Entry{Name: "parked", HubPID: live}, Entry{Name: "idle"}, true, false, "parked"},
		{"newer write wins", Entry{Name: "parked", HubPID: dead}, Entry{Name: "newer", HubPID: dead}, true, false, "newer"},
		{"newer live write wins", Entry{Name: "parked", HubPID: live}, Entry{Name: "newer", HubPID: live}, true, false, "newer"},
		{"newer parked write wins", Entry{Name: "parked", HubPID: live}, Entry{Name: "older", HubPID: live}, false, false, "parked"},
		{"idle row does not beat a live hub", Entry{Name: "parked"}, Entry{Name: "hub", HubPID: live}, false, false, "hub"},
		{"dead hub ranks as no hub: newer file wins", Entry{Name: "parked", HubPID: dead}, Entry{Name: "idle"}, false, false, "parked"},
		{"same mtime: later start wins", Entry{Name: "parked", StartedAt: older.Add(time.Second)}, Entry{Name: "in place", StartedAt: older}, false, true, "parked"},
		{"same mtime and start: file in place stays", Entry{Name: "parked", StartedAt: older}, Entry{Name: "in place", StartedAt: older}, false, true, "in place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, home := testRegistry(t)
			cwd := hubtest.Workspace(t, home, "ws", true)
			path := r.EntryPath(cwd)
			tt.parked.Cwd = cwd
			mustWrite(t, r, tt.parked)
			aside := atomicfile.TempName(path, asidePurpose)
			if err := os.Rename(path, aside); err != nil {
				t.Fatal(err)
			}
			if tt.inPlace.Name != "" {
				tt.inPlace.Cwd = cwd
				mustWrite(t, r, tt.inPlace)
				aged := []string{path}
				switch {
				case tt.sameMtime:
					aged = append(aged, aside)
				case tt.parkedOlder:
					aged = []string{aside}
				}
				for _, p := range aged {
					if err := os.Chtimes(p, older, older); err != nil {
						t.Fatal(err)
					}
				}
			}
			unlock := lockEntry(path)
			err := r.settleLocked(path, aside)
			unlock()
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := readRaw(t, r, cwd); !ok || got.Name != tt.want {
				t.Errorf("kept %+v (present %v), want %q", got, ok, tt.want)
			}
			if tmps := tempFiles(t, r); len(tmps) != 0 {
				t.Errorf("temporary files left: %v", tmps)
			}
		})
	}
}

// listConstantly runs n goroutines that call r.List (and so prune) until
// the returned func is called; it stops them and returns how many calls
// they made.
func listConstantly(t *testing.T, r Registry, n int) (stop func() int64) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var lists atomic.Int64
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := r.List(); err != nil {
					t.Error(err)
					return
				}
				lists.Add(1)
			}
		})
	}
	return func() int64 {
		close(done)
		wg.Wait()
		return lists.Load()
	}
}

// stressTime bounds each stress test; stressRounds and maxRaces bound
// their loops.
const (
	stressTime   = 10 * time.Second
	stressRounds = 20000
	maxRaces     = 3000
)

// TestPruneRaceStress has 8 writers flip their own entries between a dead
// and a live hub pid while 4 goroutines List (and so prune) continuously.
// A live entry may only be deleted once its writer has written a newer one,
// and must be visible from its write on. Three counts must stay 0: stats
// that find no file right after a live write or 2 ms later; reads there
// that find another entry than the one just written; and deletions (seen
// through the package's discard hook) of a writer's latest live entry.
func TestPruneRaceStress(t *testing.T) {
	t.Parallel()
	const writers, listers = 8, 4
	live, dead := os.Getpid(), deadPID(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	cwds := make(map[string]int, writers)
	latest := make([]atomic.Int64, writers)
	var lost, liveDiscards, missing, unseen atomic.Int64
	r, home := racing(t, func(e Entry) {
		if e.HubPID != live {
			return
		}
		liveDiscards.Add(1)
		if seq := e.StartedAt.Sub(base).Nanoseconds(); seq == latest[cwds[e.Cwd]].Load() {
			lost.Add(1)
		}
	})
	for w := range writers {
		cwds[hubtest.Workspace(t, home, fmt.Sprint("w", w), true)] = w
	}
	// looks checks the live entry just written as seq, right after the
	// write and 2 ms later: a stat of its name must find a file each time,
	// and the file must be that write.
	looks := func(cwd string, seq int64) {
		path := r.EntryPath(cwd)
		for _, wait := range []time.Duration{0, 2 * time.Millisecond} {
			time.Sleep(wait)
			if _, err := os.Stat(path); err != nil {
				unseen.Add(1)
				continue
			}
			if f, err := readEntryFile(path); err != nil || f.entry.StartedAt.Sub(base).Nanoseconds() != seq {
				missing.Add(1)
			}
		}
	}

	deadline := time.Now().Add(stressTime)
	var liveWrites atomic.Int64
	var writersWG sync.WaitGroup
	for cwd, w := range cwds {
		writersWG.Go(func() {
			for seq := int64(1); seq <= stressRounds; seq++ {
				last := seq == stressRounds || time.Now().After(deadline)
				pid := dead
				if seq%2 == 0 || last {
					pid = live
					liveWrites.Add(1)
				}
				// Published before the write: from here on, an older entry
				// of this writer may rightly be discarded.
				latest[w].Store(seq)
				if err := r.Write(Entry{Cwd: cwd, Name: "w", HubPID: pid, StartedAt: base.Add(time.Duration(seq))}); err != nil {
					t.Error(err)
					return
				}
				if pid == live {
					looks(cwd, seq)
				}
				if last {
					return
				}
			}
		})
	}
	stopListing := listConstantly(t, r, listers)
	writersWG.Wait()
	lists := stopListing()

	t.Logf("%d live writes, %d List calls: %d failed stats and %d other entries read right after a live write, %d latest live entries discarded (%d superseded ones)",
		liveWrites.Load(), lists, unseen.Load(), missing.Load(), lost.Load(), liveDiscards.Load())
	if n := unseen.Load(); n != 0 {
		t.Errorf("a stat found no entry %d times right after a live write", n)
	}
	if n := missing.Load(); n != 0 {
		t.Errorf("another entry than the live one just written was read %d times", n)
	}
	if n := lost.Load(); n != 0 {
		t.Errorf("prune deleted %d freshly written live entries", n)
	}
	entries, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != writers {
		t.Errorf("%d entries at the end, want %d", len(entries), writers)
	}
	for _, e := range entries {
		if w := cwds[e.Cwd]; e.HubPID != live || e.StartedAt.Sub(base).Nanoseconds() != latest[w].Load() {
			t.Errorf("writer %d ended with %+v, want its last (live) write %d", w, e, latest[w].Load())
		}
	}
	if tmps := tempFiles(t, r); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestPruneRaceCrossProcess is TestPruneRaceStress with the writers in
// other processes, as bones hubs are: 4 children flip their entries
// between a dead and a live pid, and look at them after each live write,
// while 4 goroutines here List. No lock is shared with the writers, so
// a write landing between a pruner's identity check and its rename, two
// system calls apart, is taken aside and put back at once; the test
// reports how often a stat then failed, and requires that every writer
// ends with its last, live entry.
func TestPruneRaceCrossProcess(t *testing.T) {
	t.Parallel()
	const writers, listers = 4, 4
	dead := deadPID(t)
	var pruned atomic.Int64
	r, home := racing(t, func(e Entry) {
		if e.HubPID == dead {
			pruned.Add(1)
		}
	})
	var procs []*child
	for w := range writers {
		cwd := hubtest.Workspace(t, home, fmt.Sprint("w", w), true)
		procs = append(procs, hubtest.Start(t, hubtest.Options{
			Mode: "flipper", Dir: cwd, Args: []string{itoa(dead)},
			Env: hubtest.HomeEnv(home), Lifetime: 5 * time.Second,
		}))
	}
	stopListing := listConstantly(t, r, listers)
	writes, failed := 0, 0
	for _, p := range procs {
		var data []byte
		for deadline := time.Now().Add(time.Minute); len(data) == 0 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			data, _ = os.ReadFile(filepath.Join(p.Dir, "flips"))
		}
		var w, f int
		if _, err := fmt.Sscan(string(data), &w, &f); err != nil {
			t.Fatalf("writer %d reported %q: %v", p.PID, data, err)
		}
		writes, failed = writes+w, failed+f
	}
	lists := stopListing()
	t.Logf("%d live writes by %d processes, %d List calls, %d dead entries pruned: %d failed stats right after a live write",
		writes, writers, lists, pruned.Load(), failed)
	entries, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	pids := make(map[int]bool)
	for _, e := range entries {
		pids[e.HubPID] = true
	}
	for _, p := range procs {
		if !pids[p.PID] {
			t.Errorf("writer %d's last, live entry is missing: %+v", p.PID, entries)
		}
	}
	if tmps := tempFiles(t, r); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestRegisterRaceStress races Register against a hub's Write of a live
// entry, starting from no entry and from an idle row in turns. The hub's
// entry must always survive.
func TestRegisterRaceStress(t *testing.T) {
	t.Parallel()
	r, home := racing(t, nil)
	cwd := hubtest.Workspace(t, home, "ws", true)
	hub := Entry{Cwd: cwd, Name: "hub", HubURL: "http://127.0.0.1:9", HubPID: os.Getpid(), StartedAt: time.Now()}
	deadline := time.Now().Add(stressTime)
	races, clobbered := 0, 0
	for ; races < maxRaces && time.Now().Before(deadline); races++ {
		if err := r.Remove(cwd); err != nil {
			t.Fatal(err)
		}
		if races%2 == 1 {
			mustWrite(t, r, Entry{Cwd: cwd, Name: "idle"})
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var writeErr, registerErr error
		wg.Go(func() { <-start; writeErr = r.Write(hub) })
		wg.Go(func() { <-start; registerErr = r.Register(cwd, "registered") })
		close(start)
		wg.Wait()
		if err := errors.Join(writeErr, registerErr); err != nil {
			t.Fatal(err)
		}
		if got, ok := readRaw(t, r, cwd); !ok || got.HubPID != hub.HubPID {
			clobbered++
		}
	}
	t.Logf("%d races, %d ended with the hub's entry overwritten", races, clobbered)
	if clobbered != 0 {
		t.Errorf("%d of %d races lost the hub's live entry", clobbered, races)
	}
	if tmps := tempFiles(t, r); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	if races < 100 {
		t.Errorf("only %d races ran; the test proves little", races)
	}
}
