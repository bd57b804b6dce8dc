package collector

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/internal/journal"
	"boneyard/procscan"
	"boneyard/registry"
)

// planSnapshot is a collected snapshot with one workspace or process of
// each kind a plan tells apart, as of now.
func planSnapshot(now time.Time) *Snapshot {
	created := now.Add(-20 * time.Hour)
	ws := func(cwd string, pid int) registry.Info {
		return registry.Info{ID: registry.WorkspaceID(cwd), Entry: registry.Entry{Cwd: cwd, HubPID: pid, StartedAt: created}}
	}
	return &Snapshot{
		Seq:     7,
		Orphans: []Orphan{{PID: 4001, Cwd: "/w/loose", Reason: "cwd missing from registry", CreateTime: created, ProcessOnly: true}},
		Workspaces: []Workspace{
			{Info: ws("/w/orphan", 4002), Status: StatusOrphan, OrphanReason: "workspace marker .bones/agent.id is missing", CanReap: true, HubStarted: created},
			{Info: ws("/w/stuck", 4003), Status: StatusStopped, StoppedReason: "pid 4003 alive, hub not answering at http://127.0.0.1:9", CanReap: true, CanStop: true, HubStarted: created},
			{Info: ws("/w/idle", 4004), Status: StatusRunning, CanStop: true, CanReap: true, LogModified: now.Add(-9 * time.Hour), HubStarted: created},
			{Info: ws("/w/busy", 4005), Status: StatusRunning, CanStop: true, CanReap: true, LogModified: now.Add(-2 * time.Hour), HubStarted: created},
			{Info: ws("/w/nolog", 4006), Status: StatusRunning, CanStop: true, CanReap: true, HubStarted: now.Add(-30 * time.Minute)},
			{Info: ws("/w/quiet", 0), Status: StatusIdle, CanStart: true},
			{Info: ws("/w/gone-marker", 4007), Status: StatusOrphan, OrphanReason: "cwd is in Trash"}, // not reapable: its pid is no hub
		},
		Down: []Workspace{{
			Info:   registry.Info{ID: registry.WorkspaceID("/w/was"), Entry: registry.Entry{Cwd: "/w/was", Name: "was"}},
			Status: StatusDown, CanStart: true,
			Down: &Down{Known: journal.Known{ID: registry.WorkspaceID("/w/was"), Name: "was", Cwd: "/w/was", PID: 4008, DirExists: true, AgentIDExists: true},
				What: "stopped from boneyard", Since: now.Add(-time.Hour)},
		}},
	}
}

func TestCleanupPlan(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 18, 0, 0, 0, time.Local)
	tests := []struct {
		name  string
		idle  time.Duration
		want  []string // kind:cwd-or-pid of each item, in order
		snap  func(*Snapshot)
		empty bool
	}{
		{name: "no idle limit", want: []string{"reap-process:4001", "reap-orphan:/w/orphan", "remove-entry:/w/stuck", "forget-down:/w/was"}},
		{name: "idle for 8 h", idle: 8 * time.Hour, want: []string{"reap-process:4001", "reap-orphan:/w/orphan", "remove-entry:/w/stuck", "forget-down:/w/was", "stop-idle:/w/idle"}},
		{name: "idle for 1 h", idle: time.Hour, want: []string{"reap-process:4001", "reap-orphan:/w/orphan", "remove-entry:/w/stuck", "forget-down:/w/was", "stop-idle:/w/idle", "stop-idle:/w/busy"}},
		{name: "not collected", snap: func(s *Snapshot) { s.Seq = 0 }, empty: true},
		{name: "registry unreadable", snap: func(s *Snapshot) { s.ListErr = errors.New("boom") }, empty: true},
		{name: "processes unreadable", snap: func(s *Snapshot) { s.ScanErr = errors.New("boom") }, empty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := planSnapshot(now)
			if tt.snap != nil {
				tt.snap(s)
			}
			p := s.CleanupPlan(tt.idle, now)
			var got []string
			for _, it := range p.Items {
				target := it.Cwd
				if it.Kind == CleanReapProcess {
					target = "4001"
				}
				got = append(got, string(it.Kind)+":"+target)
				if !ValidCleanupID(it.ID) || !strings.HasPrefix(it.ID, it.target()+":") {
					t.Errorf("item id %q is not <kind>:<target>:<hash>", it.ID)
				}
			}
			if tt.empty {
				if len(p.Items) != 0 || p.Items == nil {
					t.Errorf("items %v, want an empty plan", got)
				}
				return
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("items\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestCleanupItemsSayWhy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 18, 0, 0, 0, time.Local)
	p := planSnapshot(now).CleanupPlan(8*time.Hour, now)
	want := map[CleanupKind][2]string{
		CleanReapProcess: {"cwd missing from registry", "reap hub process 4001: SIGTERM, then SIGKILL after 2 s"},
		CleanReapOrphan:  {"workspace marker .bones/agent.id is missing", "reap its hub (pid 4002): SIGTERM, then SIGKILL after 2 s; its entry is removed"},
		CleanRemoveEntry: {"its hub does not answer: pid 4003 alive, hub not answering at http://127.0.0.1:9", "remove its entry, reaping its hub (pid 4003) first if it still runs: SIGTERM, then SIGKILL after 2 s"},
		CleanForgetDown:  {"down: stopped from boneyard 17:00", "forget it: it leaves the table; its history stays"},
		CleanStopIdle:    {"no log activity for 9h0m0s (more than 8h0m0s)", "stop its hub with bones hub stop: SIGTERM, then SIGKILL after 2 s"},
	}
	for _, it := range p.Items {
		if w := want[it.Kind]; it.Reason != w[0] || it.Action != w[1] {
			t.Errorf("%s: reason %q, action %q; want %q, %q", it.Kind, it.Reason, it.Action, w[0], w[1])
		}
	}
	if idle := p.Items[len(p.Items)-1]; !idle.IdleSince.Equal(now.Add(-9 * time.Hour)) {
		t.Errorf("idle since %v", idle.IdleSince)
	}
}

func TestCleanupIDsFollowTheState(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 18, 0, 0, 0, time.Local)
	first := planSnapshot(now).CleanupPlan(0, now)
	again := planSnapshot(now).CleanupPlan(0, now)
	for i := range first.Items {
		if first.Items[i].ID != again.Items[i].ID {
			t.Errorf("the same state planned twice: %q, then %q", first.Items[i].ID, again.Items[i].ID)
		}
	}
	changed := planSnapshot(now)
	changed.Workspaces[1].HubPID = 5003 // the stuck workspace has another hub now
	later := changed.CleanupPlan(0, now)
	before, after := first.Items[2], later.Items[2]
	if before.ID == after.ID || before.target() != after.target() {
		t.Errorf("another hub for the same entry: %q then %q; want the same target, another id", before.ID, after.ID)
	}
	if it, ok := later.Item(before.ID); ok {
		t.Errorf("the new plan still holds the old item: %+v", it)
	}
	again2 := planSnapshot(now)
	again2.Down[0].Down.Since = now // it came back up and went down again
	if a, b := first.Items[3], again2.CleanupPlan(0, now).Items[3]; a.Kind != CleanForgetDown || a.ID == b.ID || a.target() != b.target() {
		t.Errorf("down again: %q then %q; want the same target, another id", a.ID, b.ID)
	}
}

func TestValidCleanupID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"reap-process:4001:0123456789ab":             true,
		"remove-entry:933bfa0eae2006ab:0123456789ab": true,
		"stop-idle:933bfa0eae2006ab:0123456789ab":    true,
		"reap-process:4001:0123456789aB":             false,
		"reap-process:4001:0123456789a":              false,
		"reap:4001:0123456789ab":                     false,
		"reap-process::0123456789ab":                 false,
		"reap-process:../x:0123456789ab":             false,
		"reap-process:4001":                          false,
		"":                                           false,
		"remove-entry:" + strings.Repeat("a", 60) + ":0123456789ab": false,
	} {
		if got := ValidCleanupID(id); got != want {
			t.Errorf("ValidCleanupID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestCleanupRunsOnlyWhatIsStillPlanned(t *testing.T) {
	t.Parallel()
	o := newOwn(t)
	root := t.TempDir()
	loose := newWorkspace(t, root, "loose", true)
	loosePID, _ := startHub(t, o, loose, false)
	stuck := newWorkspace(t, root, "stuck", true)
	stuckPID, _ := startHub(t, o, stuck, false)
	writeEntry(t, o.reg, registry.Entry{Cwd: stuck, Name: "stuck", HubPID: stuckPID, HubURL: hubtest.ClosedURL(t)})
	c := New(Options{Interval: time.Hour, Registry: o.reg, Scan: o.scan})
	ctx := context.Background()

	plan := c.Refresh(ctx).CleanupPlan(0, time.Now())
	if len(plan.Items) != 2 || plan.Items[0].Kind != CleanReapProcess || plan.Items[0].PID != loosePID || plan.Items[1].Kind != CleanRemoveEntry {
		t.Fatalf("plan %+v, want the loose hub's reap, then the stuck entry's removal", plan.Items)
	}
	looseItem, stuckItem := plan.Items[0], plan.Items[1]
	stale := stuckItem.ID[:len(stuckItem.ID)-12] + "000000000000"
	gone := "reap-process:1:000000000000"

	res := c.Cleanup(ctx, []string{stale, looseItem.ID, gone, looseItem.ID}, 0)
	type got struct {
		id      string
		outcome CleanupOutcome
	}
	want := []got{{looseItem.ID, CleanupDone}, {stale, CleanupRefused}, {gone, CleanupGone}}
	if len(res) != len(want) {
		t.Fatalf("results %+v, want %v", res, want)
	}
	for i, w := range want {
		if res[i].ID != w.id || res[i].Outcome != w.outcome {
			t.Errorf("result %d: %s %s (%s), want %s %s", i, res[i].ID, res[i].Outcome, res[i].Message, w.id, w.outcome)
		}
	}
	if !strings.Contains(res[1].Message, "changed since the plan") || res[1].Item.WorkspaceID != stuckItem.WorkspaceID {
		t.Errorf("stale item: %+v", res[1])
	}
	if procscan.Alive(loosePID) {
		t.Error("the ticked orphan still runs")
	}
	if !procscan.Alive(stuckPID) {
		t.Fatal("a stale item was acted on")
	}
	if e, err := o.reg.Read(stuck); err != nil || e.HubPID != stuckPID {
		t.Fatalf("the stale item's entry: %+v, %v", e, err)
	}

	res = c.Cleanup(ctx, []string{stuckItem.ID, looseItem.ID}, 0)
	if len(res) != 2 || res[0].Outcome != CleanupDone || res[0].Message != "reaped its hub (pid "+strconv.Itoa(stuckPID)+") and removed its entry" || res[1].Outcome != CleanupGone {
		t.Fatalf("second run: %+v", res)
	}
	if procscan.Alive(stuckPID) {
		t.Error("the stuck hub still runs")
	}
	if _, err := o.reg.Read(stuck); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("the stuck entry: %v, want it removed", err)
	}
}
