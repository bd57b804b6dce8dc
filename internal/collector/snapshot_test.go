package collector

import (
	"errors"
	"strings"
	"testing"

	"boneyard/procscan"
	"boneyard/registry"
)

func ws(id string, st Status, res *procscan.Resources) Workspace {
	w := Workspace{Status: st, Resources: res}
	w.ID, w.Cwd, w.Name = id, "/ws/"+id, id
	return w
}

func snap(orphans []Orphan, rows ...Workspace) *Snapshot {
	return &Snapshot{Workspaces: rows, Orphans: orphans}
}

func TestCountsAndLookups(t *testing.T) {
	t.Parallel()
	s := snap([]Orphan{{PID: 9, ProcessOnly: true}},
		ws("o", StatusOrphan, nil), ws("s", StatusStopped, nil), ws("u", StatusUnknown, nil),
		ws("i", StatusIdle, nil), ws("r1", StatusRunning, nil), ws("r2", StatusRunning, nil),
		ws("x", Status("bogus"), nil))
	s.Processes = []HubProcess{{Process: procscan.Process{PID: 9}}, {Process: procscan.Process{PID: 10}}}

	c := s.Counts()
	for _, tt := range []struct {
		st   Status
		want int
	}{
		{StatusRunning, 2}, {StatusStopped, 1}, {StatusIdle, 1}, {StatusUnknown, 1}, {StatusOrphan, 1}, {"bogus", 0},
	} {
		if got := c.Of(tt.st); got != tt.want {
			t.Errorf("Of(%s) = %d, want %d", tt.st, got, tt.want)
		}
	}
	if c.ProcessOrphans != 1 {
		t.Errorf("ProcessOrphans = %d, want 1", c.ProcessOrphans)
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
	t.Parallel()
	for _, st := range Statuses() {
		want := st == StatusOrphan || st == StatusStopped
		if st.Problem() != want {
			t.Errorf("%s.Problem() = %v", st, st.Problem())
		}
	}
}

func TestMarkProcesses(t *testing.T) {
	t.Parallel()
	orphaned := ws("o", StatusOrphan, nil)
	orphaned.HubPID, orphaned.OrphanReason = 20, "workspace directory is gone"
	healthy := ws("r", StatusRunning, nil)
	healthy.HubPID = 30
	twin := ws("t", StatusRunning, nil)
	twin.HubPID = 20
	got := []HubProcess{{Process: procscan.Process{PID: 10}}, {Process: procscan.Process{PID: 20}}, {Process: procscan.Process{PID: 30}}, {Process: procscan.Process{PID: 40}}}
	markProcesses([]Workspace{orphaned, healthy, twin}, []Orphan{{PID: 10, Reason: "cwd missing from registry", ProcessOnly: true}}, got)

	want := []HubProcess{
		{Process: procscan.Process{PID: 10}, Orphan: true, OrphanReason: "cwd missing from registry"},
		{Process: procscan.Process{PID: 20}, WorkspaceID: "o", Orphan: true, OrphanReason: "workspace directory is gone"},
		{Process: procscan.Process{PID: 30}, WorkspaceID: "r"},
		{Process: procscan.Process{PID: 40}},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("process %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestWorkspaceRules(t *testing.T) {
	t.Parallel()
	live := &Resources{}
	tests := []struct {
		name    string
		w       Workspace
		scanned bool // the scan lists the hub pid
		stopped string
		canReap bool
	}{
		{"dead hub", Workspace{Info: info(4242, "http://127.0.0.1:1"), Status: StatusStopped}, false, "pid 4242 is dead", true},
		{"hung hub", Workspace{Info: info(4242, "http://127.0.0.1:1"), Status: StatusStopped, Resources: live}, true, "pid 4242 alive, hub not answering at http://127.0.0.1:1", true},
		{"scanned without resources", Workspace{Info: info(4242, "http://127.0.0.1:1"), Status: StatusStopped}, true, "pid 4242 alive, hub not answering at http://127.0.0.1:1", true},
		{"no URL", Workspace{Info: info(4242, ""), Status: StatusStopped, Resources: live}, true, "pid 4242 alive, no hub URL to ask", true},
		{"running", Workspace{Info: info(4242, "http://127.0.0.1:1"), Status: StatusRunning}, true, "", true},
		{"orphan", Workspace{Info: info(4242, ""), Status: StatusOrphan}, true, "", true},
		{"unknown, alive", Workspace{Info: info(4242, ""), Status: StatusUnknown, Resources: live}, true, "", true},
		{"unknown, dead", Workspace{Info: info(4242, ""), Status: StatusUnknown}, false, "", false},
		{"idle", Workspace{Info: info(0, ""), Status: StatusIdle}, false, "", false},
		{"pid 1", Workspace{Info: info(1, "http://127.0.0.1:1"), Status: StatusRunning, Resources: live}, true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.stopped != "" {
				if got := stoppedReason(&tt.w, tt.scanned); got != tt.stopped {
					t.Errorf("stoppedReason = %q, want %q", got, tt.stopped)
				}
			}
			if got := canReap(&tt.w); got != tt.canReap {
				t.Errorf("canReap = %v, want %v", got, tt.canReap)
			}
		})
	}
}

func info(pid int, url string) registry.Info {
	return registry.Info{Entry: registry.Entry{Cwd: "/ws/a", HubPID: pid, HubURL: url}, ID: "0123456789abcdef"}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pid    int
		hub    registry.HubStatus
		orphan bool
		want   Status
	}{
		{0, registry.HubUnknown, false, StatusIdle},
		{0, registry.HubUnknown, true, StatusIdle},
		{7, registry.HubRunning, true, StatusOrphan},
		{7, registry.HubRunning, false, StatusRunning},
		{7, registry.HubStopped, false, StatusStopped},
		{7, registry.HubUnknown, false, StatusUnknown},
	}
	for _, tt := range tests {
		w := Workspace{Info: info(tt.pid, "")}
		w.HubStatus = tt.hub
		if got := statusOf(&w, tt.orphan); got != tt.want {
			t.Errorf("pid %d, %s, orphan %v: %s, want %s", tt.pid, tt.hub, tt.orphan, got, tt.want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, cwd, want string }{
		{"api", "/src/x", "api"},
		{"  ", "/src/x", "x"},
		{"", "/", "0123456789abcdef"},
	}
	for _, tt := range tests {
		w := Workspace{Info: registry.Info{Entry: registry.Entry{Name: tt.name, Cwd: tt.cwd}, ID: "0123456789abcdef"}}
		if got := w.DisplayName(); got != tt.want {
			t.Errorf("DisplayName(%q, %q) = %q, want %q", tt.name, tt.cwd, got, tt.want)
		}
	}
}

func TestProcessReapable(t *testing.T) {
	t.Parallel()
	registered := ws("r", StatusRunning, nil)
	registered.HubPID = 20
	s := snap([]Orphan{{PID: 10, ProcessOnly: true}}, registered)
	s.Processes = []HubProcess{{Process: procscan.Process{PID: 10}}, {Process: procscan.Process{PID: 20}}, {Process: procscan.Process{PID: 30, Cwd: "/ws/r/sub"}}}
	tests := []struct {
		pid    int
		reason Reason // 0: reapable
		msg    string
	}{
		{10, 0, ""},
		{20, Conflict, "hub process 20 is the registered hub of r (/ws/r), so nothing was signalled: use Reap on that workspace, which also removes its entry"},
		{30, Conflict, "hub process 30 runs in /ws/r/sub, a registered workspace, so it is not a process-only orphan and nothing was signalled: use Reap on that workspace, or Remove its entry first"},
		{40, Invalid, "pid 40 is not a live bones hub (it may have exited already); nothing was signalled: reload the page to see the current processes"},
	}
	for _, tt := range tests {
		err := s.ProcessReapable(tt.pid)
		var r *Refusal
		switch {
		case tt.reason == 0 && err != nil:
			t.Errorf("pid %d: %v, want reapable", tt.pid, err)
		case tt.reason != 0 && (!errors.As(err, &r) || r.Reason != tt.reason || r.Msg != tt.msg):
			t.Errorf("pid %d: %#v, want a refusal (%d) %q", tt.pid, err, tt.reason, tt.msg)
		}
	}
}

func TestStatusRank(t *testing.T) {
	t.Parallel()
	for i, st := range Statuses() {
		if st.Rank() != i {
			t.Errorf("%s.Rank() = %d, want %d", st, st.Rank(), i)
		}
	}
	if r := Status("bogus").Rank(); r != len(Statuses()) {
		t.Errorf("unknown status ranks %d, want last (%d)", r, len(Statuses()))
	}
}

// TestHubLink covers the rule behind Workspace.HubLink: only an http(s) URL
// on loopback, without credentials, may be a link.
func TestHubLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:4000", true},
		{"https://localhost:4000/x", true},
		{"http://[::1]:4000", true},
		{"http://127.1.2.3:80", true},
		{"javascript:alert(1)", false},
		{"http://example.com", false},
		{"http://user@127.0.0.1:4000", false},
		{"ftp://127.0.0.1", false},
		{"//127.0.0.1:4000", false},
		{"", false},
		{"http://127.0.0.1.evil.example", false},
	}
	for _, tt := range tests {
		if ok := registry.IsLoopbackHTTP(tt.url); ok != tt.ok {
			t.Errorf("registry.IsLoopbackHTTP(%q) = %v", tt.url, ok)
		}
	}
}

// TestTableAndAttention: down rows join the table, a death not
// acknowledged sorts with the problems and counts in the title.
func TestTableAndAttention(t *testing.T) {
	t.Parallel()
	death := &Event{Kind: KindHubDied}
	down := func(id string, died bool) Workspace {
		w := ws(id, StatusDown, nil)
		w.Down = &Down{What: "hub stopped cleanly"}
		if died {
			w.Death = death
		}
		return w
	}
	revived := ws("r-revived", StatusRunning, nil)
	revived.Death = death // its hub died, then started again
	s := snap([]Orphan{{PID: 9, ProcessOnly: true}},
		ws("s-stopped", StatusStopped, nil), ws("i-idle", StatusIdle, nil), revived, ws("r-run", StatusRunning, nil))
	s.Down = []Workspace{down("d-died", true), down("d-clean", false)}
	var got []string
	for _, w := range s.Table() {
		got = append(got, w.ID)
	}
	want := []string{"s-stopped", "d-died", "d-clean", "i-idle", "r-revived", "r-run"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Table = %v, want %v", got, want)
	}
	n := s.Counts()
	if n.Of(StatusDown) != 2 || n.Deaths != 2 || n.Problems() != 2 || n.Attention() != 4 || n.Workspaces() != 6 {
		t.Errorf("down %d, deaths %d, problems %d, attention %d, workspaces %d; want 2, 2, 2, 4, 6",
			n.Of(StatusDown), n.Deaths, n.Problems(), n.Attention(), n.Workspaces())
	}
	if w, ok := s.DownWorkspace("d-clean"); !ok || w.Status != StatusDown {
		t.Errorf("DownWorkspace(d-clean) = %+v, %v", w, ok)
	}
	if _, ok := s.Workspace("d-clean"); ok {
		t.Error("a down workspace is listed as a registry workspace")
	}
	if len(snap(nil).Table()) != 0 {
		t.Error("an empty snapshot has a table")
	}
}
