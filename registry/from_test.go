package registry

import (
	"maps"
	"os"
	"slices"
	"sync"
	"testing"

	"boneyard/internal/hubtest"
	"boneyard/procscan"
)

// TestListInfoFunc checks that the caller's check decides the status of
// every probeable entry and is never asked about anything else.
func TestListInfoFunc(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	self := os.Getpid()
	tests := []struct {
		name   string
		entry  Entry // Cwd and Name filled in below
		answer bool  // what the check says, if asked
		asked  bool
		want   HubStatus
	}{
		{name: "a-answering", entry: Entry{HubPID: self, HubURL: "http://127.0.0.1:1/a"}, answer: true, asked: true, want: HubRunning},
		{name: "b-silent", entry: Entry{HubPID: self, HubURL: "http://localhost:1/b"}, asked: true, want: HubStopped},
		{name: "c-idle", entry: Entry{HubURL: "http://127.0.0.1:1/c"}, answer: true, want: HubUnknown},
		{name: "d-remote", entry: Entry{HubPID: self, HubURL: "http://192.0.2.1:1/d"}, answer: true, want: HubUnknown},
		{name: "e-no-url", entry: Entry{HubPID: self}, answer: true, want: HubUnknown},
	}
	answers := make(map[string]bool)
	for _, tt := range tests {
		e := tt.entry
		e.Cwd, e.Name = hubtest.Workspace(t, home, tt.name, true), tt.name
		mustWrite(t, r, e)
		answers[tt.name] = tt.answer
	}
	staleCwd := hubtest.Workspace(t, home, "stale", true)
	mustWrite(t, r, Entry{Cwd: staleCwd, Name: "stale", HubPID: deadPID(t), HubURL: "http://127.0.0.1:1/stale"})

	var (
		mu    sync.Mutex
		asked []string
	)
	infos, err := r.ListInfoFunc(func(e Entry) bool {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, e.Name)
		return answers[e.Name]
	})
	if err != nil {
		t.Fatal(err)
	}
	if exists(r.EntryPath(staleCwd)) {
		t.Error("the entry of a dead hub was not pruned")
	}
	if len(infos) != len(tests) {
		t.Fatalf("%d infos, want %d: %+v", len(infos), len(tests), infos)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := infos[i] // sorted by name, as the table is
			if in.Name != tt.name {
				t.Fatalf("info %d is %q, want %q: not sorted by name", i, in.Name, tt.name)
			}
			if in.HubStatus != tt.want {
				t.Errorf("status %s, want %s", in.HubStatus, tt.want)
			}
			if in.ID != WorkspaceID(in.Cwd) || in.AgentID != "agent-"+tt.name || in.LastTouched.IsZero() {
				t.Errorf("id %q, agent id %q, last touched %v", in.ID, in.AgentID, in.LastTouched)
			}
			if got := slices.Contains(asked, tt.name); got != tt.asked {
				t.Errorf("check asked: %v, want %v", got, tt.asked)
			}
		})
	}
	if len(asked) != 2 {
		t.Errorf("check asked %d times (%v), want once per probeable entry", len(asked), asked)
	}
}

// TestOrphanHubsFrom checks that orphans computed from rows and processes
// the caller already has match AllOrphanHubs, and what is found without a
// process list.
func TestOrphanHubsFrom(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	intact := startHub(t, r, "serve", hubtest.Workspace(t, home, "intact", true))
	unmarkedDir := hubtest.Workspace(t, home, "unmarked", false)
	unmarked := startHub(t, r, "serve", unmarkedDir)
	unregistered := startHub(t, r, "sleep", hubtest.Workspace(t, home, "unregistered", true))
	mustWrite(t, r, Entry{Cwd: hubtest.Workspace(t, home, "intact", true), Name: "intact", HubPID: intact.PID, HubURL: intact.URL})
	mustWrite(t, r, Entry{Cwd: unmarkedDir, Name: "unmarked", HubPID: unmarked.PID, HubURL: unmarked.URL})
	mine := func(orphans []OrphanHub) map[int]OrphanHub {
		m := make(map[int]OrphanHub)
		for _, o := range orphans {
			if o.PID == intact.PID || o.PID == unmarked.PID || o.PID == unregistered.PID {
				m[o.PID] = o
			}
		}
		return m
	}

	infos, err := r.ListInfo()
	if err != nil {
		t.Fatal(err)
	}
	procs, err := procscan.Scan()
	if err != nil {
		t.Fatal(err)
	}
	noIDs := slices.Clone(infos)
	for i := range noIDs {
		noIDs[i].ID = ""
	}
	all, err := r.AllOrphanHubs()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		infos []Info
		procs []procscan.Process
		want  map[int]bool // orphan pid -> process-only
	}{
		{"rows and processes", infos, procs, map[int]bool{unmarked.PID: false, unregistered.PID: true}},
		{"rows without ids", noIDs, procs, map[int]bool{unmarked.PID: false, unregistered.PID: true}},
		{"no process list", infos, nil, map[int]bool{unmarked.PID: false}},
		{"no rows", nil, procs, map[int]bool{intact.PID: true, unmarked.PID: true, unregistered.PID: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.OrphanHubsFrom(tt.infos, tt.procs)
			kinds := make(map[int]bool)
			for pid, o := range mine(got) {
				kinds[pid] = o.ProcessOnly
				if !o.ProcessOnly && (o.Entry == nil || o.ID != WorkspaceID(o.Entry.Cwd) || o.CreateTime.IsZero()) {
					t.Errorf("registry-side orphan without entry, id or create time: %+v", o)
				}
			}
			if !maps.Equal(kinds, tt.want) {
				t.Errorf("orphans (pid -> process-only) %v, want %v", kinds, tt.want)
			}
			if !slices.IsSortedFunc(got, func(a, b OrphanHub) int { return a.PID - b.PID }) {
				t.Error("orphans are not sorted by pid")
			}
		})
	}
	// Other hub processes on the host may come and go between the calls,
	// so only this test's are compared.
	got, want := mine(r.OrphanHubsFrom(infos, procs)), mine(all)
	if !maps.EqualFunc(got, want, func(a, b OrphanHub) bool {
		return a.Reason == b.Reason && a.ProcessOnly == b.ProcessOnly && a.ID == b.ID && a.CreateTime.Equal(b.CreateTime)
	}) {
		t.Errorf("OrphanHubsFrom = %+v\nAllOrphanHubs = %+v", got, want)
	}
}
