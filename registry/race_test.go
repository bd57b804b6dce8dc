package registry

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// noSync turns off fsync for tests that race live goroutines: atomicity
// between them comes from rename and link, and fsync would only slow the
// races down.
func noSync(t testing.TB) {
	t.Helper()
	syncWrites = false
	t.Cleanup(func() { syncWrites = true })
}

// hookDiscards routes every entry the package deletes while pruning to fn.
func hookDiscards(t testing.TB, fn func(Entry)) {
	t.Helper()
	discardHook = fn
	t.Cleanup(func() { discardHook = nil })
}

// TestPruneSparesReplacedFile replays the prune race step by step: an entry
// is read and judged stale, a writer replaces it, then the prune acts.
func TestPruneSparesReplacedFile(t *testing.T) {
	home := hubtest.SetHome(t)
	cwd := workspace(t, home, "ws", true)
	dead := deadPID(t)

	mustWrite(t, Entry{Cwd: cwd, Name: "stale", HubPID: dead})
	judged, err := readEntryFile(EntryPath(cwd))
	if err != nil {
		t.Fatal(err)
	}
	if !stale(judged.entry) {
		t.Fatal("entry of a dead pid is not stale")
	}
	mustWrite(t, Entry{Cwd: cwd, Name: "fresh", HubPID: os.Getpid()})
	if err := pruneFile(judged); err != nil {
		t.Fatal(err)
	}
	if got, ok := readRaw(t, cwd); !ok || got.Name != "fresh" {
		t.Fatalf("after prune: %+v (present %v), want the fresh entry", got, ok)
	}

	// The judged file itself is deleted.
	mustWrite(t, Entry{Cwd: cwd, Name: "stale", HubPID: dead})
	judged, err = readEntryFile(EntryPath(cwd))
	if err != nil {
		t.Fatal(err)
	}
	if err := pruneFile(judged); err != nil {
		t.Fatal(err)
	}
	if exists(EntryPath(cwd)) {
		t.Fatal("the judged stale file survived")
	}
	if tmps := tempFiles(t); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestSettle covers the contest between a file parked aside by a pruner
// and a file that arrived at the name meanwhile.
func TestSettle(t *testing.T) {
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
			home := hubtest.SetHome(t)
			cwd := workspace(t, home, "ws", true)
			path := EntryPath(cwd)
			tt.parked.Cwd = cwd
			mustWrite(t, tt.parked)
			aside, err := moveAside(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.inPlace.Name != "" {
				tt.inPlace.Cwd = cwd
				mustWrite(t, tt.inPlace)
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
			if err := settle(path, aside); err != nil {
				t.Fatal(err)
			}
			if got, ok := readRaw(t, cwd); !ok || got.Name != tt.want {
				t.Errorf("kept %+v (present %v), want %q", got, ok, tt.want)
			}
			if tmps := tempFiles(t); len(tmps) != 0 {
				t.Errorf("temporary files left: %v", tmps)
			}
		})
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
// A live entry may only be deleted once its writer has written a newer one.
// Two counts must stay 0: live entries that a writer, looking again right
// after writing, finds gone or replaced; and deletions (seen through the
// package's discard hook) of a writer's latest live entry.
func TestPruneRaceStress(t *testing.T) {
	const writers, listers = 8, 4
	home := hubtest.SetHome(t)
	noSync(t)
	live, dead := os.Getpid(), deadPID(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	cwds := make(map[string]int, writers)
	latest := make([]atomic.Int64, writers)
	for w := range writers {
		cwds[workspace(t, home, fmt.Sprint("w", w), true)] = w
	}
	var lost, liveDiscards, missing atomic.Int64
	// survives reports whether the live entry just written as seq is still
	// there a moment later. A pruner may hold it aside for an instant before
	// putting it back; and while it does, another pruner may put back an
	// older live entry it had parked, which the newer one then displaces.
	// So neither absence nor an older entry is final until the looks run
	// out (a descheduled pruner can take a while on a loaded host).
	survives := func(cwd string, seq int64) bool {
		end := time.Now().Add(2 * time.Second)
		for range 2000 {
			time.Sleep(time.Millisecond)
			f, err := readEntryFile(EntryPath(cwd))
			if err == nil && f.entry.StartedAt.Sub(base).Nanoseconds() == seq {
				return true
			}
			if time.Now().After(end) {
				break
			}
		}
		return false
	}
	hookDiscards(t, func(e Entry) {
		if e.HubPID != live {
			return
		}
		liveDiscards.Add(1)
		if seq := e.StartedAt.Sub(base).Nanoseconds(); seq == latest[cwds[e.Cwd]].Load() {
			lost.Add(1)
		}
	})

	deadline := time.Now().Add(stressTime)
	var liveWrites, lists atomic.Int64
	var writersWG, listersWG sync.WaitGroup
	stop := make(chan struct{})
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
				if err := Write(Entry{Cwd: cwd, Name: "w", HubPID: pid, StartedAt: base.Add(time.Duration(seq))}); err != nil {
					t.Error(err)
					return
				}
				if pid == live && !survives(cwd, seq) {
					missing.Add(1)
				}
				if last {
					return
				}
			}
		})
	}
	for range listers {
		listersWG.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := List(); err != nil {
					t.Error(err)
					return
				}
				lists.Add(1)
			}
		})
	}
	writersWG.Wait()
	close(stop)
	listersWG.Wait()

	t.Logf("%d live writes, %d List calls: %d fresh live entries gone or replaced after a write, %d latest live entries discarded (%d superseded ones)",
		liveWrites.Load(), lists.Load(), missing.Load(), lost.Load(), liveDiscards.Load())
	if n := missing.Load(); n != 0 {
		t.Errorf("%d freshly written live entries did not survive concurrent List calls", n)
	}
	if n := lost.Load(); n != 0 {
		t.Errorf("prune deleted %d freshly written live entries", n)
	}
	entries, err := List()
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
	if tmps := tempFiles(t); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestRegisterRaceStress races Register against a hub's Write of a live
// entry, starting from no entry and from an idle row in turns. The hub's
// entry must always survive.
func TestRegisterRaceStress(t *testing.T) {
	home := hubtest.SetHome(t)
	noSync(t)
	cwd := workspace(t, home, "ws", true)
	hub := Entry{Cwd: cwd, Name: "hub", HubURL: "http://127.0.0.1:9", HubPID: os.Getpid(), StartedAt: time.Now()}
	deadline := time.Now().Add(stressTime)
	races, clobbered := 0, 0
	for ; races < maxRaces && time.Now().Before(deadline); races++ {
		if err := Remove(cwd); err != nil {
			t.Fatal(err)
		}
		if races%2 == 1 {
			mustWrite(t, Entry{Cwd: cwd, Name: "idle"})
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var writeErr, registerErr error
		wg.Go(func() { <-start; writeErr = Write(hub) })
		wg.Go(func() { <-start; registerErr = Register(cwd, "registered") })
		close(start)
		wg.Wait()
		if err := errors.Join(writeErr, registerErr); err != nil {
			t.Fatal(err)
		}
		if got, ok := readRaw(t, cwd); !ok || got.HubPID != hub.HubPID {
			clobbered++
		}
	}
	t.Logf("%d races, %d ended with the hub's entry overwritten", races, clobbered)
	if clobbered != 0 {
		t.Errorf("%d of %d races lost the hub's live entry", clobbered, races)
	}
	if tmps := tempFiles(t); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	if races < 100 {
		t.Errorf("only %d races ran; the test proves little", races)
	}
}
