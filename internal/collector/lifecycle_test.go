//go:build unix

package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boneyard/internal/bonescli"
	"boneyard/internal/hubtest"
	"boneyard/internal/journal"
	"boneyard/procscan"
	"boneyard/registry"
)

// bonesCollector is a collector over the registry of the test's HOME (set
// with hubtest.SetHome, which the fake bones CLI and its hubs inherit) that
// starts and stops hubs with the fake bones CLI, and sees only the hub
// processes under root; with j, it keeps that journal.
func bonesCollector(t *testing.T, root string, j ...*journal.Journal) *Collector {
	t.Helper()
	cli, err := bonescli.Find(hubtest.FakeBones(t))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Interval: time.Hour, Registry: registry.Default(), Bones: cli, Scan: scanUnder(root)}
	if len(j) > 0 {
		o.Journal = j[0]
	}
	return New(o)
}

// scanUnder is procscan.Scan keeping the processes whose directory is
// under root.
func scanUnder(root string) func() ([]procscan.Process, error) {
	return func() ([]procscan.Process, error) {
		procs, err := procscan.Scan()
		var out []procscan.Process
		for _, p := range procs {
			if strings.HasPrefix(p.Cwd, root+string(filepath.Separator)) {
				out = append(out, p)
			}
		}
		return out, err
	}
}

// workspaceOf returns the snapshot's workspace for cwd.
func workspaceOf(t *testing.T, s *Snapshot, cwd string) Workspace {
	t.Helper()
	w, ok := s.Workspace(registry.WorkspaceID(cwd))
	if !ok {
		t.Fatalf("no workspace for %s in snapshot %d (err %v)", cwd, s.Seq, s.Err)
	}
	return w
}

// refusal fails unless err is a *Refusal with reason whose message holds
// want.
func refusal(t *testing.T, err error, reason Reason, want string) {
	t.Helper()
	var rf *Refusal
	if !errors.As(err, &rf) || rf.Reason != reason || !strings.Contains(rf.Msg, want) {
		t.Fatalf("err = %v, want a refusal (%d) saying %q", err, reason, want)
	}
}

func TestStartAndStopThroughBones(t *testing.T) {
	hubtest.SetHome(t)
	root := t.TempDir()
	ws := newWorkspace(t, root, "ws", true)
	writeEntry(t, registry.Default(), registry.Entry{Cwd: ws, Name: "ws"})
	c := bonesCollector(t, root)
	ctx := context.Background()

	w := workspaceOf(t, c.Refresh(ctx), ws)
	if w.Status != StatusIdle || !w.CanStart || w.CanStop {
		t.Fatalf("idle workspace: status %s, CanStart %v, CanStop %v", w.Status, w.CanStart, w.CanStop)
	}
	did, err := c.StartHub(ctx, w)
	pid := hubtest.HubPID(t, ws)
	if pid > 0 {
		hubtest.KillAtEnd(t, pid)
	}
	if err != nil {
		t.Fatal(err)
	}
	if did.Silent || !strings.HasPrefix(did.Output, "hub: fossil at http://127.0.0.1:") || !strings.HasSuffix(did.Output, fmt.Sprintf("(pid=%d)", pid)) {
		t.Errorf("start: %+v, want bones' ready line for pid %d", did, pid)
	}
	w = workspaceOf(t, c.Refresh(ctx), ws)
	if w.Status != StatusRunning || w.HubPID != pid || w.CanStart || !w.CanStop || w.HubStarted.IsZero() {
		t.Fatalf("after start: status %s, pid %d (hub.pid %d), CanStart %v, CanStop %v, started %v", w.Status, w.HubPID, pid, w.CanStart, w.CanStop, w.HubStarted)
	}

	_, err = c.StartHub(ctx, w)
	refusal(t, err, Conflict, "so Start is not offered")
	_, err = c.StopHub(ctx, w, pid+1, time.Time{}, false)
	refusal(t, err, Conflict, "changed since the page was shown")
	_, err = c.StopHub(ctx, w, pid, w.HubStarted.Add(time.Second), false)
	refusal(t, err, Conflict, "the pid was reused")
	if !procscan.Alive(pid) {
		t.Fatal("a refused stop ended the hub")
	}

	did, err = c.StopHub(ctx, w, pid, w.HubStarted, false)
	if err != nil {
		t.Fatal(err)
	}
	if did.OldPID != pid || procscan.Alive(pid) {
		t.Errorf("stop: %+v; hub %d alive: %v", did, pid, procscan.Alive(pid))
	}
	if _, err := registry.Read(ws); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("entry after the stop: %v, want the hub to have removed it", err)
	}
}

func TestStartRefusals(t *testing.T) {
	hubtest.SetHome(t)
	root := t.TempDir()
	tests := []struct {
		name   string
		noCLI  bool
		before func(ws string, w *Workspace)
		want   string
	}{
		{name: "no bones CLI", noCLI: true, want: "boneyard cannot start hubs: bones CLI not found: no bones on PATH"},
		{name: "marker gone", before: func(ws string, _ *Workspace) { os.Remove(filepath.Join(ws, ".bones", "agent.id")) }, want: "has no workspace marker"},
		{name: "directory gone", before: func(ws string, _ *Workspace) { os.RemoveAll(ws) }, want: "is gone, so no hub can start there"},
		{name: "not offered", before: func(_ string, w *Workspace) { w.Status, w.CanStart = StatusRunning, false }, want: "is running, so Start is not offered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := newWorkspace(t, root, strings.ReplaceAll(tt.name, " ", "-"), true)
			writeEntry(t, registry.Default(), registry.Entry{Cwd: ws, Name: tt.name})
			c := bonesCollector(t, root)
			if tt.noCLI {
				c = New(Options{Interval: time.Hour, Registry: registry.Default(), Scan: scanUnder(root), NoBones: fmt.Errorf("%w: no bones on PATH", bonescli.ErrNotFound)})
			}
			w := workspaceOf(t, c.Refresh(context.Background()), ws)
			if tt.before != nil {
				tt.before(ws, &w)
			}
			_, err := c.StartHub(context.Background(), w)
			refusal(t, err, Conflict, tt.want)
			if pid := hubtest.HubPID(t, ws); pid != 0 {
				hubtest.KillAtEnd(t, pid)
				t.Errorf("a refused start started hub %d", pid)
			}
		})
	}
}

func TestStartFailureQuotesHubLog(t *testing.T) {
	hubtest.SetHome(t)
	root := t.TempDir()
	ws := newWorkspace(t, root, "taken", true)
	writeEntry(t, registry.Default(), registry.Entry{Cwd: ws, Name: "taken"})
	// The recorded hub port is taken by something that is not a hub.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.WriteFile(filepath.Join(ws, ".bones", "hub-fossil-url"), []byte("http://"+l.Addr().String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := bonesCollector(t, root)
	_, err = c.StartHub(context.Background(), workspaceOf(t, c.Refresh(context.Background()), ws))
	var ce *CLIError
	if !errors.As(err, &ce) || ce.SlotsActive {
		t.Fatalf("err = %v, want a *CLIError", err)
	}
	// The message is bones' first line, without the log it quotes.
	if want := "bones hub start failed in " + ws + " (exit 1): hub: child "; !strings.HasPrefix(ce.Msg, want) || !strings.Contains(ce.Msg, "exited before ready") || strings.Contains(ce.Msg, "(tail)") {
		t.Errorf("message %q, want it to start %q and say the child exited", ce.Msg, want)
	}
	if want := "--- " + filepath.Join(ws, ".bones", "hub.log") + " (tail) ---\n"; !strings.Contains(ce.Output, want) || !strings.Contains(ce.Output, "address already in use") {
		t.Errorf("output %q, want the hub log's tail", ce.Output)
	}
}

func TestStopSlotGuardThenForce(t *testing.T) {
	hubtest.SetHome(t)
	root := t.TempDir()
	ws := newWorkspace(t, root, "slots", true)
	pid := hubtest.Detach(t, ws)
	slot := filepath.Join(ws, ".bones", "swarm", "fake-slot")
	if err := os.MkdirAll(slot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(slot, "leaf.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := bonesCollector(t, root)
	ctx := context.Background()
	w := workspaceOf(t, c.Refresh(ctx), ws)

	for _, restart := range []bool{false, true} {
		act := c.StopHub
		if restart {
			act = c.RestartHub
		}
		_, err := act(ctx, w, pid, time.Time{}, false)
		var ce *CLIError
		if !SlotsActive(err) || !errors.As(err, &ce) {
			t.Fatalf("restart %v: err = %v, want the slot guard's refusal", restart, err)
		}
		if want := "hub: active swarm slots present: fake-slot — close them first or pass --force"; ce.Output != want {
			t.Errorf("output %q, want %q", ce.Output, want)
		}
		if !procscan.Alive(pid) {
			t.Fatal("a refused stop ended the hub")
		}
	}
	if _, err := c.StopHub(ctx, w, pid, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if procscan.Alive(pid) {
		t.Error("a forced stop left the hub running")
	}
}

func TestRestartWedgedHub(t *testing.T) {
	hubtest.SetHome(t)
	root := t.TempDir()
	tests := []struct {
		name        string
		dropPIDFile bool // hub.pid is gone: bones hub stop cannot find the hub
		reaped      bool
	}{
		{name: "bones kills it", reaped: false},
		{name: "boneyard reaps it", dropPIDFile: true, reaped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := newWorkspace(t, root, strings.ReplaceAll(tt.name, " ", "-"), true)
			old := hubtest.Detach(t, ws, "--mode", "hang-term")
			if tt.dropPIDFile {
				os.Remove(filepath.Join(ws, ".bones", "hub.pid"))
			}
			c := bonesCollector(t, root)
			ctx := context.Background()
			w := workspaceOf(t, c.Refresh(ctx), ws)
			if w.Status != StatusStopped || !w.CanStop {
				t.Fatalf("wedged hub: status %s, CanStop %v", w.Status, w.CanStop)
			}
			did, err := c.RestartHub(ctx, w, old, w.HubStarted, false)
			pid := hubtest.HubPID(t, ws)
			if pid > 0 {
				hubtest.KillAtEnd(t, pid)
			}
			if err != nil {
				t.Fatal(err)
			}
			if did.OldPID != old || did.Reaped != tt.reaped || did.Silent {
				t.Errorf("restart: %+v, want old pid %d, reaped %v", did, old, tt.reaped)
			}
			if procscan.Alive(old) {
				t.Error("the wedged hub survived the restart")
			}
			w = workspaceOf(t, c.Refresh(ctx), ws)
			if pid == old || w.HubPID != pid || w.Status != StatusRunning {
				t.Errorf("after restart: entry pid %d (%s), hub.pid %d, old %d", w.HubPID, w.Status, pid, old)
			}
		})
	}
}

func TestCleanupStopsIdleHub(t *testing.T) {
	hubtest.SetHome(t)
	root := t.TempDir()
	idle := newWorkspace(t, root, "idle", true)
	busy := newWorkspace(t, root, "busy", true)
	idlePID, busyPID := hubtest.Detach(t, idle), hubtest.Detach(t, busy)
	then := time.Now().Add(-10 * time.Hour)
	if err := os.Chtimes(filepath.Join(idle, ".bones", "hub.log"), then, then); err != nil {
		t.Fatal(err)
	}
	c := bonesCollector(t, root)
	ctx := context.Background()
	plan := c.Refresh(ctx).CleanupPlan(8*time.Hour, time.Now())
	if len(plan.Items) != 1 || plan.Items[0].Kind != CleanStopIdle || plan.Items[0].PID != idlePID {
		t.Fatalf("plan %+v, want the idle hub's stop only", plan.Items)
	}
	res := c.Cleanup(ctx, []string{plan.Items[0].ID}, 8*time.Hour)
	if len(res) != 1 || res[0].Outcome != CleanupDone || res[0].Message != fmt.Sprintf("stopped its hub (pid %d)", idlePID) {
		t.Fatalf("results %+v", res)
	}
	if procscan.Alive(idlePID) || !procscan.Alive(busyPID) {
		t.Errorf("idle hub alive %v (want false), busy hub alive %v (want true)", procscan.Alive(idlePID), procscan.Alive(busyPID))
	}
}

func TestClaimOneActionAtATime(t *testing.T) {
	h := newHubs(nil, nil)
	w := &Workspace{Info: registry.Info{ID: "0123456789abcdef", Entry: registry.Entry{Name: "ws"}}}
	release, err := h.claim(w, "start")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.claim(w, "stop")
	refusal(t, err, Conflict, "a start of the hub of ws is under way")
	release()
	release, err = h.claim(w, "stop")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	release()
	if got := (&Collector{hubs: h}).Bones(); got.Path != "" || got.Problem != "no bones CLI is configured: install bones on PATH, or start boneyard with --bones PATH" {
		t.Errorf("Bones() = %+v", got)
	}
}

// events are the journal's events about workspace id as of s, oldest
// first, as "kind: detail".
func eventsOf(s *Snapshot, id string) []string {
	var out []string
	evs := s.Events(EventFilter{WorkspaceID: id, Limit: 100})
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, string(evs[i].Kind)+": "+evs[i].Detail)
	}
	return out
}

func TestLifecycleInTheJournal(t *testing.T) {
	hubtest.SetHome(t)
	root := t.TempDir()
	ws := newWorkspace(t, root, "ws", true)
	writeEntry(t, registry.Default(), registry.Entry{Cwd: ws, Name: "ws"})
	j := openJournal(t, filepath.Join(t.TempDir(), "boneyard"))
	t.Cleanup(func() { j.Close() })
	c := bonesCollector(t, root, j)
	ctx := context.Background()
	id := registry.WorkspaceID(ws)

	start := func(w Workspace) int {
		t.Helper()
		if _, err := c.StartHub(ctx, w); err != nil {
			t.Fatal(err)
		}
		pid := hubtest.HubPID(t, ws)
		hubtest.KillAtEnd(t, pid)
		return pid
	}
	first := start(workspaceOf(t, c.Refresh(ctx), ws))
	w := workspaceOf(t, c.Refresh(ctx), ws)
	if _, err := c.StopHub(ctx, w, first, w.HubStarted, false); err != nil {
		t.Fatal(err)
	}
	s := c.Refresh(ctx)
	down, ok := s.DownWorkspace(id)
	if !ok || down.Down.What != "stopped from boneyard" || !down.CanStart {
		t.Fatalf("after the stop: down %v, %+v", ok, down.Down)
	}

	// Start offered on the down workspace.
	second := start(down)
	s = c.Refresh(ctx)
	if w := workspaceOf(t, s, ws); w.Status != StatusRunning || w.HubPID != second {
		t.Fatalf("started from down: %s pid %d, want running %d", w.Status, w.HubPID, second)
	}
	if _, ok := s.DownWorkspace(id); ok {
		t.Error("still down after the start")
	}
	want := []string{
		"registered: while boneyard was not running; idle: no hub yet",
		fmt.Sprintf("hub-started: from boneyard: pid %d", first),
		"hub-stopped: from boneyard: bones hub stop; ",
		fmt.Sprintf("hub-started: from boneyard: pid %d", second),
	}
	got := eventsOf(s, id)
	if len(got) != len(want) {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("event %d: %q, want %q…", i, got[i], want[i])
		}
	}

	// A down workspace is one cleanup item: forget it.
	w = workspaceOf(t, s, ws)
	if _, err := c.StopHub(ctx, w, second, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	plan := c.Refresh(ctx).CleanupPlan(0, time.Now())
	if len(plan.Items) != 1 || plan.Items[0].Kind != CleanForgetDown || !strings.HasPrefix(plan.Items[0].Reason, "down: stopped from boneyard ") {
		t.Fatalf("plan %+v, want the down workspace to forget", plan.Items)
	}
	res := c.Cleanup(ctx, []string{plan.Items[0].ID}, 0)
	if len(res) != 1 || res[0].Outcome != CleanupDone {
		t.Fatalf("results %+v", res)
	}
	if _, ok := c.Refresh(ctx).DownWorkspace(id); ok {
		t.Error("forgotten, yet still down")
	}
}
