package journal

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestView checks that a view keeps the journal as it was when taken,
// while the journal goes on recording.
func TestView(t *testing.T) {
	c1 := sec(-30)
	wsDir := workspace(t, []string{started(c1, 100), rpcLine(sec(5))}, 100)
	j := open(t, filepath.Join(t.TempDir(), "boneyard"))
	observe(t, j, sec(0), obs(ws(wsDir, StatusRunning, 100, c1)))
	before := j.View()

	observe(t, j, sec(60), Observation{})
	must(t, j.Record(Event{Kind: KindReaped, PID: 900, Detail: "by hand"}))
	after := j.View()

	if got := kinds(before.Query(Filter{})); !sameKinds(got, []Kind{KindHubStarted}) {
		t.Errorf("the earlier view's events = %v, want [hub-started]", got)
	}
	if got := kinds(after.Query(Filter{})); !sameKinds(got, []Kind{KindReaped, KindHubDied, KindHubStarted}) {
		t.Errorf("the later view's events = %v, want [reaped hub-died hub-started]", got)
	}
	if got := kinds(after.Query(Filter{Kind: KindHubDied, WorkspaceID: "a1"})); !sameKinds(got, []Kind{KindHubDied}) {
		t.Errorf("filtered = %v, want [hub-died]", got)
	}
	if k, ok := before.Workspace("a1"); !ok || !k.Present || k.Death != nil {
		t.Errorf("earlier view's a1 = %+v, %v; want present, no death", k, ok)
	}
	if k, ok := after.Workspace("a1"); !ok || k.Present || k.Death == nil || k.Death.PID != 100 {
		t.Errorf("later view's a1 = %+v, %v; want absent with the death of pid 100", k, ok)
	}
	if _, ok := after.Workspace("zz"); ok {
		t.Error("an unknown id is known")
	}
	if len(before.Down()) != 0 || len(after.Down()) != 1 || after.Down()[0].What != "hub died" {
		t.Errorf("Down: before %+v, after %+v; want none, then one death", before.Down(), after.Down())
	}

	// Forgetting changes the journal's down list, not the view's.
	must(t, j.Forget("a1"))
	if len(after.Down()) != 1 || len(after.Known()) != 1 {
		t.Errorf("after Forget the view holds down %+v, known %+v; want them as they were", after.Down(), after.Known())
	}
	if len(j.View().Down()) != 0 || len(j.View().Known()) != 0 {
		t.Errorf("a new view after Forget: down %+v, known %+v; want none", j.View().Down(), j.View().Known())
	}
}

// TestExpect checks that what boneyard does itself is not also derived:
// a hub it kills is reported by its own event, not as a death.
func TestExpect(t *testing.T) {
	c1 := sec(-30)
	wsDir := workspace(t, []string{started(c1, 100), rpcLine(sec(5))}, 100)
	other := workspace(t, nil, 0)
	j := open(t, filepath.Join(t.TempDir(), "boneyard"))
	w2 := WorkspaceState{ID: "b2", Name: "other", Cwd: other, Status: StatusIdle, DirExists: true, AgentIDExists: true}
	observe(t, j, sec(0), obs(ws(wsDir, StatusRunning, 100, c1), w2))
	orphan := OrphanProc{PID: 300, PIDCreate: sec(-5), Cwd: "/w/x", Reason: "cwd missing from registry"}

	done := j.Expect("a1", 100)
	doneOrphan := j.Expect("", 300)
	// The hub is gone, an orphan with the expected pid appears, and the
	// other workspace's entry goes: only the last is reported.
	got := observe(t, j, sec(10), Observation{Orphans: []OrphanProc{orphan}})
	if want := []Kind{KindRemoved}; !sameKinds(kinds(got), want) || got[0].WorkspaceID != "b2" {
		t.Fatalf("while acting: %+v, want only b2's removal", got)
	}
	must(t, j.Record(Event{Kind: KindReaped, WorkspaceID: "a1", Name: "ws", Cwd: wsDir, PID: 100, Detail: "reaped from the dashboard"}))
	done()
	done()
	doneOrphan()
	if got := observe(t, j, sec(20), Observation{Orphans: []OrphanProc{orphan}}); len(got) != 0 {
		t.Errorf("after the action: %+v, want nothing new", got)
	}
	all := kinds(j.Query(Filter{}))
	if slices.Contains(all, KindHubDied) || !slices.Contains(all, KindReaped) {
		t.Errorf("events %v: want a reap and no death", all)
	}
	if d := j.View().Down(); len(d) != 2 || d[0].ID != "a1" || d[0].What != "hub reaped" {
		t.Errorf("Down = %+v, want a1 reaped first", d)
	}

	// Once done, a death is reported again.
	wsDir3 := workspace(t, []string{started(sec(25), 400)}, 400)
	w3 := WorkspaceState{ID: "c3", Name: "third", Cwd: wsDir3, Status: StatusRunning, PID: 400, PIDCreate: sec(25), DirExists: true, AgentIDExists: true}
	observe(t, j, sec(30), obs(w3))
	if got := observe(t, j, sec(40), Observation{}); !sameKinds(kinds(got), []Kind{KindHubDied}) {
		t.Errorf("an unexpected death: %v, want [hub-died]", kinds(got))
	}
}

func TestKinds(t *testing.T) {
	got := Kinds()
	want := []Kind{"registered", "hub-started", "hub-stopped", "hub-died", "hub-stuck", "hub-recovered",
		"orphaned", "orphan-appeared", "reaped", "removed", "pruned", "forgotten", "acknowledged"}
	if !slices.Equal(got, want) {
		t.Errorf("Kinds() = %v, want %v", got, want)
	}
}

// TestEnding checks that Ending answers as Observe judges a gone hub.
func TestEnding(t *testing.T) {
	dir := workspace(t, []string{started(sec(-30), 100), stopping(sec(1)), stopped(sec(2))}, 0)
	j := open(t, filepath.Join(t.TempDir(), "boneyard"))
	got := j.Ending(Hub{Cwd: dir, PID: 100, Created: sec(-30)})
	if !got.Clean || got.Detail != "clean stop in hub.log at 14:02:02" {
		t.Errorf("Ending = %+v, want a clean stop at 14:02:02", got)
	}
}

// TestExpectCoversTheNextObservation: an action over before any
// observation saw it is still left out of the first observation after.
func TestExpectCoversTheNextObservation(t *testing.T) {
	dir := workspace(t, []string{started(sec(-30), 100)}, 0)
	j := open(t, filepath.Join(t.TempDir(), "boneyard"))
	observe(t, j, sec(0), obs(ws(dir, StatusRunning, 100, sec(-30))))
	orphan := OrphanProc{PID: 100, PIDCreate: sec(-30), Cwd: dir, Reason: "cwd missing from registry"}

	done := j.Expect("a1", 100)
	must(t, j.Record(Event{Kind: KindRemoved, WorkspaceID: "a1", Name: "ws", Cwd: dir, PID: 100, Detail: "registry entry removed from the dashboard"}))
	done()
	if got := observe(t, j, sec(10), Observation{Orphans: []OrphanProc{orphan}}); len(got) != 0 {
		t.Errorf("the observation after the action: %+v, want nothing (the removal told it)", got)
	}
	other := orphan
	other.PID, other.PIDCreate = 101, sec(5)
	if got := observe(t, j, sec(20), Observation{Orphans: []OrphanProc{orphan, other}}); !sameKinds(kinds(got), []Kind{KindOrphanAppeared}) || got[0].PID != 101 {
		t.Errorf("the one after: %+v, want the new orphan 101 only", got)
	}
}
