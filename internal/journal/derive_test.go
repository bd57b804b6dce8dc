package journal

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// t0 is 14:02 local time; the tests' clocks print it as "14:02".
var t0 = time.Date(2026, 3, 4, 14, 2, 0, 0, time.Local)

// sec is t0 plus s seconds.
func sec(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// logLine is one hub.log JSON line at t.
func logLine(t time.Time, level, event, msg string) string {
	obj := map[string]string{"ts": t.UTC().Format(time.RFC3339), "level": level, "event": event}
	if msg != "" {
		obj["msg"] = msg
	} else {
		obj["rpc"], obj["agent"] = "tasks.create", "system"
	}
	b, _ := json.Marshal(obj)
	return string(b)
}

func started(t time.Time, pid int) string {
	return logLine(t, "INFO", "lifecycle", "hub: starting (pid="+strconv.Itoa(pid)+", repo-port=1, coord-port=2)")
}

func stopping(t time.Time) string { return logLine(t, "INFO", "lifecycle", "hub: stopping") }
func stopped(t time.Time) string  { return logLine(t, "INFO", "lifecycle", "hub: stopped") }
func rpcLine(t time.Time) string  { return logLine(t, "INFO", "rpc", "") }

// workspace makes a workspace directory with .bones/agent.id and, when
// given, hub.log lines and a hub.pid.
func workspace(t *testing.T, log []string, hubPID int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ws")
	bd := filepath.Join(dir, ".bones")
	if err := os.MkdirAll(bd, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(bd, "agent.id"), []byte("agent-1\n"), 0o644))
	if log != nil {
		must(t, os.WriteFile(filepath.Join(bd, "hub.log"), []byte(strings.Join(log, "\n")+"\n"), 0o644))
	}
	if hubPID > 0 {
		must(t, os.WriteFile(filepath.Join(bd, "hub.pid"), []byte(strconv.Itoa(hubPID)+"\n"), 0o644))
	}
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ws is workspace "ws" at dir with a hub in the given status.
func ws(dir, status string, pid int, created time.Time) WorkspaceState {
	return WorkspaceState{ID: "a1", Name: "ws", Cwd: dir, Status: status, PID: pid, PIDCreate: created, DirExists: true, AgentIDExists: true}
}

// ev is an expected event: kind, pid and detail (the rest is checked once
// per case).
type ev struct {
	kind   Kind
	pid    int
	detail string
}

func checkEvents(t *testing.T, got []Event, want []ev, at time.Time) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.PID != w.pid || g.Detail != w.detail || !g.Time.Equal(at) {
			t.Errorf("event %d = {%s pid %d %q at %v}, want {%s pid %d %q at %v}", i, g.Kind, g.PID, g.Detail, g.Time, w.kind, w.pid, w.detail, at)
		}
	}
}

func TestDerive(t *testing.T) {
	c1, c2 := sec(-30), sec(100) // two processes' start times
	type setup struct {
		log    []string
		hubPID int
		gone   bool // the workspace directory is deleted
	}
	tests := []struct {
		name  string
		setup setup
		prev  func(dir string) Observation
		cur   func(dir string) Observation
		want  []ev
	}{
		{
			name: "new idle entry",
			prev: func(string) Observation { return Observation{} },
			cur:  func(d string) Observation { return obs(ws(d, StatusIdle, 0, time.Time{})) },
			want: []ev{{KindRegistered, 0, "idle: no hub yet"}},
		},
		{
			name: "idle entry gets a hub",
			prev: func(d string) Observation { return obs(ws(d, StatusIdle, 0, time.Time{})) },
			cur:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			want: []ev{{KindHubStarted, 100, "pid 100"}},
		},
		{
			name: "new entry that does not answer",
			prev: func(string) Observation { return Observation{} },
			cur:  func(d string) Observation { return obs(ws(d, StatusStopped, 100, c1)) },
			want: []ev{{KindHubStarted, 100, "pid 100"}, {KindHubStuck, 100, "its pid is alive but the hub does not answer"}},
		},
		{
			name: "running to stopped",
			prev: func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:  func(d string) Observation { return obs(ws(d, StatusStopped, 100, c1)) },
			want: []ev{{KindHubStuck, 100, "its pid is alive but the hub does not answer"}},
		},
		{
			name: "stopped to running",
			prev: func(d string) Observation { return obs(ws(d, StatusStopped, 100, c1)) },
			cur:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			want: []ev{{KindHubRecovered, 100, "answering again"}},
		},
		{
			name: "running to orphan",
			prev: func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur: func(d string) Observation {
				w := ws(d, StatusOrphan, 100, c1)
				w.OrphanReason = "workspace marker .bones/agent.id is missing"
				return obs(w)
			},
			want: []ev{{KindOrphaned, 100, "workspace marker .bones/agent.id is missing"}},
		},
		{
			name: "orphan to running",
			prev: func(d string) Observation { return obs(ws(d, StatusOrphan, 100, c1)) },
			cur:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			want: []ev{{KindHubRecovered, 100, "its workspace is back: no longer an orphan"}},
		},
		{
			name:  "clean stop: the hub deleted its entry",
			setup: setup{log: []string{started(c1, 100), rpcLine(sec(1)), stopping(sec(184)), stopped(sec(185))}},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(string) Observation { return Observation{} },
			want:  []ev{{KindHubStopped, 100, "clean stop in hub.log at 14:05:05"}},
		},
		{
			name:  "killed: bones pruned the entry before boneyard saw it dead",
			setup: setup{log: []string{started(c1, 100), logLine(sec(1), "INFO", "lifecycle", "hub: ready"), rpcLine(sec(2))}, hubPID: 100},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(string) Observation { return Observation{} },
			want:  []ev{{KindHubDied, 100, "killed: no clean stop in hub.log; last line: rpc agent=system rpc=tasks.create"}},
		},
		{
			name:  "panicked",
			setup: setup{log: []string{started(c1, 100), "panic: assignment to entry in nil map", "", "goroutine 7 [running]:"}},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(string) Observation { return Observation{} },
			want:  []ev{{KindHubDied, 100, "crashed: no clean stop in hub.log; panic: assignment to entry in nil map"}},
		},
		{
			name:  "recycled pid: the old hub died, a new one started",
			setup: setup{log: []string{started(c1, 100), rpcLine(sec(2)), started(c2, 100)}},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(d string) Observation { return obs(ws(d, StatusRunning, 100, c2)) },
			want: []ev{
				{KindHubDied, 100, "killed: no clean stop in hub.log; last line: rpc agent=system rpc=tasks.create"},
				{KindHubStarted, 100, "pid 100"},
			},
		},
		{
			name:  "restarted under another pid",
			setup: setup{log: []string{started(c1, 100), stopping(sec(50)), stopped(sec(51)), started(c2, 200)}},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(d string) Observation { return obs(ws(d, StatusRunning, 200, c2)) },
			want:  []ev{{KindHubStopped, 100, "clean stop in hub.log at 14:02:51"}, {KindHubStarted, 200, "pid 200"}},
		},
		{
			name:  "entry back to idle after a kill",
			setup: setup{log: []string{started(c1, 100), rpcLine(sec(3))}},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(d string) Observation { return obs(ws(d, StatusIdle, 0, time.Time{})) },
			want:  []ev{{KindHubDied, 100, "killed: no clean stop in hub.log; last line: rpc agent=system rpc=tasks.create"}},
		},
		{
			name: "entry gone while its hub runs on",
			prev: func(d string) Observation { return obs(ws(d, StatusStopped, 100, c1)) },
			cur: func(d string) Observation {
				return Observation{Time: sec(600), Orphans: []OrphanProc{{PID: 100, PIDCreate: c1, Cwd: d, Reason: "cwd missing from registry"}}}
			},
			want: []ev{
				{KindPruned, 100, "registry entry removed while its hub (pid 100) kept running"},
				{KindOrphanAppeared, 100, "cwd missing from registry"},
			},
		},
		{
			name:  "entry removed by its hub on its way out",
			setup: setup{log: []string{started(c1, 100), stopping(sec(590))}, hubPID: 0},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur: func(d string) Observation {
				return Observation{Orphans: []OrphanProc{{PID: 100, PIDCreate: c1, Cwd: d, Reason: "cwd missing from registry"}}}
			},
			want: []ev{{KindHubStopped, 100, "its entry removed by the hub on its way out; clean stop in hub.log at 14:11:50"}},
		},
		{
			name: "idle entry removed",
			prev: func(d string) Observation { return obs(ws(d, StatusIdle, 0, time.Time{})) },
			cur:  func(string) Observation { return Observation{} },
			want: []ev{{KindRemoved, 0, "registry entry removed"}},
		},
		{
			name: "idle entry pruned with its directory",
			prev: func(d string) Observation {
				w := ws(d, StatusIdle, 0, time.Time{})
				w.DirExists = false
				return obs(w)
			},
			cur:  func(string) Observation { return Observation{} },
			want: []ev{{KindPruned, 0, "registry entry removed: the workspace directory is gone"}},
		},
		{
			name:  "idle entry pruned after its directory was deleted",
			setup: setup{gone: true},
			prev:  func(d string) Observation { return obs(ws(d, StatusIdle, 0, time.Time{})) },
			cur:   func(string) Observation { return Observation{} },
			want:  []ev{{KindPruned, 0, "registry entry removed: the workspace directory is gone"}},
		},
		{
			name:  "no hub.log, hub.pid removed",
			setup: setup{},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(string) Observation { return Observation{} },
			want:  []ev{{KindHubStopped, 100, "hub.pid removed, as a clean exit does (no hub.log)"}},
		},
		{
			name:  "no hub.log, hub.pid left behind",
			setup: setup{hubPID: 100},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(string) Observation { return Observation{} },
			want:  []ev{{KindHubDied, 100, "killed: hub.pid left behind (no hub.log)"}},
		},
		{
			name:  "log of other hubs only, hub.pid names another",
			setup: setup{log: []string{started(sec(-900), 50), stopped(sec(-800))}, hubPID: 300},
			prev:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:   func(string) Observation { return Observation{} },
			want:  []ev{{KindHubDied, 100, "no clean stop known (nothing of it in hub.log)"}},
		},
		{
			name:  "workspace deleted with its hub",
			setup: setup{gone: true},
			prev:  func(d string) Observation { return obs(ws(d, StatusOrphan, 100, c1)) },
			cur:   func(string) Observation { return Observation{} },
			want:  []ev{{KindHubDied, 100, "no clean stop known (the workspace's state directory is gone)"}},
		},
		{
			name: "nothing changed; an unknown create time matches",
			prev: func(d string) Observation { return obs(ws(d, StatusRunning, 100, time.Time{})) },
			cur:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
		},
		{
			name: "create times a second apart are one process",
			prev: func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
			cur:  func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1.Add(time.Second))) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := workspace(t, tt.setup.log, tt.setup.hubPID)
			if tt.setup.gone {
				must(t, os.RemoveAll(dir))
			}
			cur := tt.cur(dir)
			cur.Time = sec(600)
			got := Derive(tt.prev(dir), cur, LogEndings(DefaultStateDir))
			checkEvents(t, got, tt.want, sec(600))
			for _, e := range got {
				if e.Kind != KindOrphanAppeared && (e.WorkspaceID != "a1" || e.Name != "ws" || e.Cwd != dir) {
					t.Errorf("%s names %q %q %q, want a1 ws %s", e.Kind, e.WorkspaceID, e.Name, e.Cwd, dir)
				}
			}
		})
	}
}

// obs is an observation of workspaces at an unset time.
func obs(w ...WorkspaceState) Observation { return Observation{Workspaces: w} }

func TestDeriveOrphans(t *testing.T) {
	o1 := OrphanProc{PID: 500, PIDCreate: sec(-60), Cwd: "/w/gone", Reason: "cwd no longer exists"}
	o1recycled := o1
	o1recycled.PIDCreate = sec(300)
	tests := []struct {
		name       string
		prev, cur  []OrphanProc
		want       []ev
		wantCwdOf0 string
	}{
		{"new", nil, []OrphanProc{o1}, []ev{{KindOrphanAppeared, 500, "cwd no longer exists"}}, "/w/gone"},
		{"still there", []OrphanProc{o1}, []OrphanProc{o1}, nil, ""},
		{"gone", []OrphanProc{o1}, nil, nil, ""},
		{"recycled pid", []OrphanProc{o1}, []OrphanProc{o1recycled}, []ev{{KindOrphanAppeared, 500, "cwd no longer exists"}}, "/w/gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Derive(Observation{Orphans: tt.prev}, Observation{Time: sec(600), Orphans: tt.cur}, nil)
			checkEvents(t, got, tt.want, sec(600))
			if len(got) > 0 && (got[0].Cwd != tt.wantCwdOf0 || got[0].WorkspaceID != "") {
				t.Errorf("orphan event names %q %q, want cwd %q and no workspace", got[0].WorkspaceID, got[0].Cwd, tt.wantCwdOf0)
			}
		})
	}
}

func TestReconcile(t *testing.T) {
	c1 := sec(-30)
	lastRunning := sec(0) // 14:02
	known := func(dir string, present bool, pid int) Known {
		return Known{ID: "a1", Name: "ws", Cwd: dir, Status: StatusRunning, Present: present, PID: pid, PIDCreate: c1,
			DirExists: true, AgentIDExists: true, LastSeen: lastRunning, LastRunning: lastRunning}
	}
	orphan := OrphanProc{PID: 700, PIDCreate: sec(-5), Cwd: "/w/x", Reason: "cwd missing from registry"}
	tests := []struct {
		name    string
		log     []string
		known   func(dir string) []Known
		orphans []OrphanProc
		cur     func(dir string) Observation
		want    []ev
	}{
		{
			name:  "stopped cleanly while away",
			log:   []string{started(c1, 100), stopping(sec(300)), stopped(sec(301))},
			known: func(d string) []Known { return []Known{known(d, true, 100)} },
			cur:   func(string) Observation { return Observation{} },
			want: []ev{{KindHubStopped, 100,
				"gone while boneyard was not running; last seen running at 14:02; clean stop in hub.log at 14:07:01"}},
		},
		{
			name:  "killed while away",
			log:   []string{started(c1, 100), rpcLine(sec(5))},
			known: func(d string) []Known { return []Known{known(d, true, 100)} },
			cur:   func(string) Observation { return Observation{} },
			want: []ev{{KindHubDied, 100,
				"gone while boneyard was not running; last seen running at 14:02; killed: no clean stop in hub.log; last line: rpc agent=system rpc=tasks.create"}},
		},
		{
			name:  "restarted while away",
			log:   []string{started(c1, 100), rpcLine(sec(5)), started(sec(400), 200)},
			known: func(d string) []Known { return []Known{known(d, true, 100)} },
			cur:   func(d string) Observation { return obs(ws(d, StatusRunning, 200, sec(400))) },
			want: []ev{
				{KindHubDied, 100, "gone while boneyard was not running; last seen running at 14:02; killed: no clean stop in hub.log; last line: rpc agent=system rpc=tasks.create"},
				{KindHubStarted, 200, "while boneyard was not running; pid 200"},
			},
		},
		{
			name:  "still running",
			known: func(d string) []Known { return []Known{known(d, true, 100)} },
			cur:   func(d string) Observation { return obs(ws(d, StatusRunning, 100, c1)) },
		},
		{
			name:  "already down when boneyard stopped",
			known: func(d string) []Known { return []Known{known(d, false, 100)} },
			cur:   func(string) Observation { return Observation{} },
		},
		{
			name:  "down, then started while away",
			known: func(d string) []Known { return []Known{known(d, false, 100)} },
			cur:   func(d string) Observation { return obs(ws(d, StatusRunning, 300, sec(500))) },
			want:  []ev{{KindHubStarted, 300, "while boneyard was not running; pid 300"}},
		},
		{
			name:    "orphans: the known one stays quiet, a new one is reported",
			known:   func(string) []Known { return nil },
			orphans: []OrphanProc{orphan},
			cur: func(string) Observation {
				return Observation{Orphans: []OrphanProc{orphan, {PID: 701, Cwd: "/w/y", Reason: "cwd no longer exists"}}}
			},
			want: []ev{{KindOrphanAppeared, 701, "while boneyard was not running; cwd no longer exists"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := workspace(t, tt.log, 0)
			cur := tt.cur(dir)
			cur.Time = sec(600)
			got := Reconcile(tt.known(dir), tt.orphans, cur, LogEndings(DefaultStateDir))
			checkEvents(t, got, tt.want, sec(600))
		})
	}
}

func TestClock(t *testing.T) {
	ref := time.Date(2026, 3, 4, 20, 0, 0, 0, time.Local)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 3, 4, 14, 2, 0, 0, time.Local), "14:02"},
		{time.Date(2026, 3, 3, 14, 2, 0, 0, time.Local), "Mar 3 14:02"},
		{time.Date(2025, 3, 4, 14, 2, 0, 0, time.Local), "Mar 4 2025 14:02"},
	}
	for _, tt := range tests {
		if got := clock(tt.t, ref); got != tt.want {
			t.Errorf("clock(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
