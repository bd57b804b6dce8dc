package journal

import (
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// open opens a journal in dir whose action clock reads sec(900).
func open(t *testing.T, dir string) *Journal {
	t.Helper()
	j, err := Open(dir, Options{Now: func() time.Time { return sec(900) }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func observe(t *testing.T, j *Journal, at time.Time, o Observation) []Event {
	t.Helper()
	o.Time = at
	evs, err := j.Observe(o)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func kinds(evs []Event) []Kind {
	var ks []Kind
	for _, e := range evs {
		ks = append(ks, e.Kind)
	}
	return ks
}

func sameKinds(a, b []Kind) bool {
	return strings.Join(kindStrings(a), ",") == strings.Join(kindStrings(b), ",")
}

func kindStrings(ks []Kind) []string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return s
}

// TestJournalStopAndRestart follows one workspace through a clean stop,
// a boneyard restart, a kill while boneyard was not running, and the
// acknowledgement of that death.
func TestJournalStopAndRestart(t *testing.T) {
	c1, c2 := sec(-30), sec(1000)
	wsDir := workspace(t, []string{started(c1, 100), stopping(sec(100)), stopped(sec(101))}, 0)
	dir := filepath.Join(t.TempDir(), "boneyard")
	j := open(t, dir)

	got := observe(t, j, sec(0), obs(ws(wsDir, StatusRunning, 100, c1)))
	if want := []Kind{KindHubStarted}; !sameKinds(kinds(got), want) {
		t.Fatalf("first observation: %v, want %v", kinds(got), want)
	}
	got = observe(t, j, sec(120), Observation{})
	if want := []Kind{KindHubStopped}; !sameKinds(kinds(got), want) {
		t.Fatalf("after the stop: %v, want %v", kinds(got), want)
	}
	down := j.Down()
	if len(down) != 1 || down[0].ID != "a1" || down[0].Summary(sec(600)) != "hub stopped cleanly 14:04" {
		t.Fatalf("Down = %+v, want a1 \"hub stopped cleanly 14:04\"", down)
	}
	if k, ok := j.Workspace("a1"); !ok || k.Present || !k.LastRunning.Equal(sec(0)) || k.Status != StatusRunning {
		t.Errorf("known a1 = %+v, %v; want absent, last running at %v", k, ok, sec(0))
	}
	must(t, j.Close())

	// Restarted: the hub was started again, then killed, while boneyard
	// was not running.
	must(t, os.WriteFile(filepath.Join(wsDir, ".bones", "hub.log"),
		[]byte(strings.Join([]string{started(c2, 200), rpcLine(sec(1001))}, "\n")+"\n"), 0o644))
	j = open(t, dir)
	if got := j.Query(Filter{}); !sameKinds(kinds(got), []Kind{KindHubStopped, KindHubStarted}) {
		t.Fatalf("reloaded events %v, want hub-stopped, hub-started (newest first)", kinds(got))
	}
	got = observe(t, j, sec(1200), obs(ws(wsDir, StatusRunning, 200, c2)))
	if want := []Kind{KindHubStarted}; !sameKinds(kinds(got), want) || got[0].Detail != "while boneyard was not running; pid 200" {
		t.Fatalf("reconciled: %+v, want hub-started while away", got)
	}
	must(t, j.Close())
	j = open(t, dir)
	got = observe(t, j, sec(1500), Observation{})
	want := "gone while boneyard was not running; last seen running at 14:22; killed: no clean stop in hub.log; last line: rpc agent=system rpc=tasks.create"
	if len(got) != 1 || got[0].Kind != KindHubDied || got[0].Detail != want {
		t.Fatalf("reconciled: %+v, want hub-died %q", got, want)
	}
	if d := j.Deaths(); len(d) != 1 || d[0].ID != "a1" {
		t.Fatalf("Deaths = %+v, want a1", d)
	}
	if s := j.Down()[0].Summary(sec(1500)); s != "hub died 14:27 ("+want+")" {
		t.Errorf("Summary = %q", s)
	}
	must(t, j.Acknowledge("a1"))
	if d := j.Deaths(); len(d) != 0 {
		t.Fatalf("Deaths after Acknowledge = %+v", d)
	}
	if e := j.Query(Filter{Limit: 1}); len(e) != 1 || e[0].Kind != KindAcknowledged || e[0].Detail != "hub death at 14:27 seen" {
		t.Errorf("newest event %+v, want the acknowledgement", e)
	}
	must(t, j.Close())
	j = open(t, dir)
	if d := j.Deaths(); len(d) != 0 {
		t.Errorf("Deaths after reopening = %+v, want none", d)
	}
	// The acknowledged death is still how the workspace went down.
	observe(t, j, sec(1600), Observation{})
	if d := j.Down(); len(d) != 1 || !d[0].Died() || d[0].Summary(sec(1600)) != "hub died 14:27 ("+want+")" {
		t.Errorf("Down after the acknowledgement = %+v, want the death still", d)
	}
}

func TestForget(t *testing.T) {
	wsDir := workspace(t, nil, 0)
	j := open(t, t.TempDir())
	observe(t, j, sec(0), obs(ws(wsDir, StatusIdle, 0, time.Time{})))
	if err := j.Forget("a1"); err == nil || !strings.Contains(err.Error(), "still in the registry") {
		t.Errorf("Forget of a listed workspace: %v", err)
	}
	if err := j.Forget("nope"); !errors.Is(err, ErrUnknownWorkspace) {
		t.Errorf("Forget of an unknown id: %v, want ErrUnknownWorkspace", err)
	}
	observe(t, j, sec(10), Observation{})
	if len(j.Down()) != 1 {
		t.Fatalf("Down = %+v, want the removed workspace", j.Down())
	}
	must(t, j.Forget("a1"))
	if len(j.Known()) != 0 || len(j.Down()) != 0 {
		t.Errorf("after Forget: known %+v, down %+v", j.Known(), j.Down())
	}
	if e := j.Query(Filter{Kind: KindForgotten}); len(e) != 1 || e[0].Cwd != wsDir || !e[0].Time.Equal(sec(900)) {
		t.Errorf("forgotten events %+v", e)
	}
}

// TestDownNeedsTheWorkspace: a known workspace is down only while its
// directory and agent.id exist.
func TestDownNeedsTheWorkspace(t *testing.T) {
	wsDir := workspace(t, nil, 0)
	j := open(t, t.TempDir())
	observe(t, j, sec(0), obs(ws(wsDir, StatusIdle, 0, time.Time{})))
	observe(t, j, sec(10), Observation{})
	if len(j.Down()) != 1 {
		t.Fatalf("Down = %+v, want one", j.Down())
	}
	must(t, os.Remove(filepath.Join(wsDir, ".bones", "agent.id")))
	observe(t, j, sec(20), Observation{})
	if len(j.Down()) != 0 {
		t.Errorf("Down without agent.id = %+v, want none", j.Down())
	}
	if k, _ := j.Workspace("a1"); !k.DirExists || k.AgentIDExists {
		t.Errorf("known markers dir %v agent.id %v, want true false", k.DirExists, k.AgentIDExists)
	}
}

// TestRecordedActionNotDerivedAgain: after boneyard removes an entry or
// reaps an orphan itself, the next observation does not report it again.
func TestRecordedActionNotDerivedAgain(t *testing.T) {
	wsDir := workspace(t, nil, 0)
	orphan := OrphanProc{PID: 500, PIDCreate: sec(-60), Cwd: "/w/gone", Reason: "cwd no longer exists"}
	j := open(t, t.TempDir())
	observe(t, j, sec(0), Observation{Workspaces: []WorkspaceState{ws(wsDir, StatusIdle, 0, time.Time{})}, Orphans: []OrphanProc{orphan}})
	must(t, j.Record(Event{Kind: KindRemoved, WorkspaceID: "a1", Name: "ws", Cwd: wsDir, Detail: "removed by boneyard"}))
	must(t, j.Record(Event{Kind: KindReaped, PID: 500, Cwd: "/w/gone", Detail: "SIGTERM"}))
	if got := observe(t, j, sec(10), Observation{}); len(got) != 0 {
		t.Errorf("derived %+v after the recorded actions, want nothing", got)
	}
	if d := j.Down(); len(d) != 1 || d[0].Summary(sec(10)) != "registry entry removed 14:17" {
		t.Errorf("Down = %+v", d)
	}
	want := map[Kind]uint64{KindRegistered: 1, KindOrphanAppeared: 1, KindRemoved: 1, KindReaped: 1}
	if got := j.Appended(); !maps.Equal(got, want) {
		t.Errorf("Appended = %v, want %v", got, want)
	}
}

func TestQuery(t *testing.T) {
	j, err := Open(t.TempDir(), fixedClock(Options{Memory: 8}))
	must(t, err)
	for i := range 12 {
		id := "a"
		if i%2 == 1 {
			id = "b"
		}
		kind := KindHubStarted
		if i%3 == 0 {
			kind = KindHubDied
		}
		must(t, j.Record(Event{Time: sec(i), Kind: kind, WorkspaceID: id, PID: i}))
	}
	pids := func(evs []Event) []int {
		var p []int
		for _, e := range evs {
			p = append(p, e.PID)
		}
		return p
	}
	tests := []struct {
		name string
		f    Filter
		want []int
	}{
		{"newest first, the 8 in memory", Filter{Limit: 50}, []int{11, 10, 9, 8, 7, 6, 5, 4}},
		{"limit", Filter{Limit: 2}, []int{11, 10}},
		{"workspace", Filter{WorkspaceID: "a", Limit: 3}, []int{10, 8, 6}},
		{"kind", Filter{Kind: KindHubDied, Limit: 3}, []int{9, 6}},
		{"since", Filter{Since: sec(9)}, []int{11, 10, 9}},
		{"all three", Filter{WorkspaceID: "b", Kind: KindHubDied, Since: sec(2)}, []int{9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pids(j.Query(tt.f)); !equalInts(got, tt.want) {
				t.Errorf("Query(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestUnreadableKnownSetAside(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, KnownFileName), []byte("{not json"), 0o600))
	j := open(t, dir)
	if len(j.Known()) != 0 {
		t.Errorf("known %+v, want none", j.Known())
	}
	matches, _ := filepath.Glob(filepath.Join(dir, KnownFileName+".bad-*"))
	if len(matches) != 1 {
		t.Fatalf("set-aside files %v, want one", matches)
	}
	if b, _ := os.ReadFile(matches[0]); string(b) != "{not json" {
		t.Errorf("set-aside content %q", b)
	}
}

// TestStoppedFromBoneyard: a hub boneyard stopped itself is told once, by
// the event boneyard records, and its workspace is down "stopped from
// boneyard".
func TestStoppedFromBoneyard(t *testing.T) {
	c1 := sec(-30)
	wsDir := workspace(t, []string{started(c1, 100), stopping(sec(100)), stopped(sec(101))}, 0)
	j := open(t, t.TempDir())
	observe(t, j, sec(0), obs(ws(wsDir, StatusRunning, 100, c1)))
	done := j.Expect("a1", 100)
	// The hub removed its entry on its way out while boneyard stopped it.
	if got := observe(t, j, sec(102), Observation{}); len(got) != 0 {
		t.Errorf("derived %+v during boneyard's stop, want nothing", got)
	}
	must(t, j.Record(Event{Time: sec(103), Kind: KindHubStopped, WorkspaceID: "a1", Name: "ws", Cwd: wsDir, PID: 100, Detail: FromBoneyard + ": bones hub stop"}))
	done()
	if got := observe(t, j, sec(110), Observation{}); len(got) != 0 {
		t.Errorf("derived %+v after boneyard's stop, want nothing", got)
	}
	if got := j.Query(Filter{Kind: KindHubStopped}); len(got) != 1 || got[0].Detail != "from boneyard: bones hub stop" {
		t.Errorf("hub-stopped events %+v, want boneyard's only", got)
	}
	if d := j.Down(); len(d) != 1 || d[0].Summary(sec(110)) != "stopped from boneyard 14:03" {
		t.Errorf("Down = %+v, want \"stopped from boneyard 14:03\"", d)
	}
}
