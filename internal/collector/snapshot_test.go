package collector

import (
	"testing"

	"boneyard/procscan"
	"boneyard/registry"
)

func ws(id string, st Status, res *procscan.Resources) Workspace {
	w := Workspace{Status: st, Resources: res}
	w.ID, w.Cwd, w.Name = id, "/ws/"+id, id
	return w
}

func snap(orphans []registry.OrphanHub, rows ...Workspace) *Snapshot {
	return &Snapshot{Workspaces: rows, Orphans: orphans}
}

func TestCountsAndLookups(t *testing.T) {
	s := snap([]registry.OrphanHub{{PID: 9, ProcessOnly: true}},
		ws("o", StatusOrphan, nil), ws("s", StatusStopped, nil), ws("u", StatusUnknown, nil),
		ws("i", StatusIdle, nil), ws("r1", StatusRunning, nil), ws("r2", StatusRunning, nil))
	s.Processes = []procscan.Process{{PID: 9}, {PID: 10}}

	c := s.Counts()
	want := Counts{Running: 2, Stopped: 1, Idle: 1, Unknown: 1, Orphan: 1, ProcessOrphans: 1}
	if c != want {
		t.Errorf("Counts = %+v, want %+v", c, want)
	}
	for _, st := range Statuses() {
		if c.Of(st) < 1 {
			t.Errorf("Of(%s) = %d", st, c.Of(st))
		}
	}
	if c.Workspaces() != 6 || c.Problems() != 3 || s.Problems() != 3 {
		t.Errorf("Workspaces %d, Problems %d, want 6, 3", c.Workspaces(), c.Problems())
	}

	lookups := []struct {
		name string
		ok   bool
	}{
		{"workspace r2", func() bool { w, ok := s.Workspace("r2"); return ok && w.Name == "r2" }()},
		{"workspace missing", func() bool { _, ok := s.Workspace("zz"); return !ok }()},
		{"process 10", func() bool { p, ok := s.Process(10); return ok && p.PID == 10 }()},
		{"process missing", func() bool { _, ok := s.Process(11); return !ok }()},
		{"orphan 9", func() bool { o, ok := s.Orphan(9); return ok && o.PID == 9 }()},
		{"orphan missing", func() bool { _, ok := s.Orphan(10); return !ok }()},
	}
	for _, l := range lookups {
		if !l.ok {
			t.Errorf("%s: wrong result", l.name)
		}
	}
}

func TestStatusProblem(t *testing.T) {
	for _, st := range Statuses() {
		want := st == StatusOrphan || st == StatusStopped
		if st.Problem() != want {
			t.Errorf("%s.Problem() = %v", st, st.Problem())
		}
	}
}

func TestHubProcesses(t *testing.T) {
	orphaned := ws("o", StatusOrphan, nil)
	orphaned.HubPID, orphaned.OrphanReason = 20, "workspace directory is gone"
	healthy := ws("r", StatusRunning, nil)
	healthy.HubPID = 30
	twin := ws("t", StatusRunning, nil)
	twin.HubPID = 20
	s := snap([]registry.OrphanHub{{PID: 10, Reason: "cwd missing from registry", ProcessOnly: true}}, orphaned, healthy, twin)
	s.Processes = []procscan.Process{{PID: 10}, {PID: 20}, {PID: 30}, {PID: 40}}

	want := []HubProcess{
		{Process: procscan.Process{PID: 10}, Orphan: true, OrphanReason: "cwd missing from registry"},
		{Process: procscan.Process{PID: 20}, WorkspaceID: "o", Orphan: true, OrphanReason: "workspace directory is gone"},
		{Process: procscan.Process{PID: 30}, WorkspaceID: "r"},
		{Process: procscan.Process{PID: 40}},
	}
	got := s.HubProcesses()
	if len(got) != len(want) {
		t.Fatalf("HubProcesses = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("HubProcesses[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestStatusRank(t *testing.T) {
	for i, st := range Statuses() {
		if st.Rank() != i {
			t.Errorf("%s.Rank() = %d, want %d", st, st.Rank(), i)
		}
	}
	if r := Status("bogus").Rank(); r != len(Statuses()) {
		t.Errorf("unknown status ranks %d, want last (%d)", r, len(Statuses()))
	}
}
