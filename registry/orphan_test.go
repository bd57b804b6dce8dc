package registry

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/procscan"
)

func TestIsOrphan(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	live, dead := os.Getpid(), deadPID(t)
	marked := hubtest.Workspace(t, home, "marked", true)
	unmarked := hubtest.Workspace(t, home, "unmarked", false)
	trash := hubtest.Workspace(t, filepath.Join(home, ".Trash"), "ws", true)
	xdgTrash := hubtest.Workspace(t, filepath.Join(home, ".local", "share", "Trash", "files"), "ws", true)
	linkToTrash := filepath.Join(home, "link")
	if err := os.Symlink(trash, linkToTrash); err != nil {
		t.Fatal(err)
	}
	lookalike := hubtest.Workspace(t, home, ".Trashcan", true)

	tests := []struct {
		name string
		pid  int
		cwd  string
		want bool
	}{
		{"workspace intact", live, marked, false},
		{"cwd missing", live, filepath.Join(home, "gone"), true},
		{"marker missing", live, unmarked, true},
		{"in ~/.Trash", live, trash, true},
		{"in the XDG trash", live, xdgTrash, true},
		{"symlink into the trash", live, linkToTrash, true},
		{"name merely starts like the trash", live, lookalike, false},
		{"dead pid, cwd missing", dead, filepath.Join(home, "gone"), false},
		{"idle row, marker missing", 0, unmarked, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.IsOrphan(Entry{Cwd: tt.cwd, HubPID: tt.pid}); got != tt.want {
				t.Errorf("IsOrphan = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOrphans(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	live := os.Getpid()
	mustWrite(t, r, Entry{Cwd: hubtest.Workspace(t, home, "intact", true), Name: "intact", HubPID: live})
	mustWrite(t, r, Entry{Cwd: hubtest.Workspace(t, home, "unmarked", false), Name: "unmarked", HubPID: live})
	mustWrite(t, r, Entry{Cwd: hubtest.Workspace(t, home, "idle", false), Name: "idle"})
	mustWrite(t, r, Entry{Cwd: hubtest.Workspace(t, home, "dead", false), Name: "dead", HubPID: deadPID(t)})
	orphans, err := r.Orphans()
	if err != nil {
		t.Fatal(err)
	}
	if len(orphans) != 1 || orphans[0].Name != "unmarked" {
		t.Errorf("Orphans = %+v, want only the unmarked workspace", orphans)
	}
}

func TestProcessReason(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	registered := hubtest.Workspace(t, home, "registered", true)
	other := hubtest.Workspace(t, home, "other", true)
	tests := []struct {
		name string
		p    procscan.Process
		want string
	}{
		{"cwd unreadable", procscan.Process{Cwd: ""}, "cwd unknown"},
		{"cwd deleted", procscan.Process{Cwd: registered, CwdDeleted: true}, "cwd no longer exists"},
		{"cwd missing", procscan.Process{Cwd: filepath.Join(home, "gone")}, "cwd no longer exists"},
		{"cwd not registered", procscan.Process{Cwd: other}, "cwd missing from registry"},
		{"cwd registered", procscan.Process{Cwd: registered}, ""},
	}
	cwds := map[string]bool{resolve(registered): true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := processReason(tt.p, cwds); got != tt.want {
				t.Errorf("reason = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAllOrphanHubs runs real hub processes (the test binary as
// `bones hub start`) in workspaces in every state and checks which of them
// come back as orphans, and why.
func TestAllOrphanHubs(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	intact := startHub(t, r, "serve", hubtest.Workspace(t, home, "intact", true))
	unmarked := startHub(t, r, "serve", hubtest.Workspace(t, home, "unmarked", false))

	idleDir := hubtest.Workspace(t, home, "idle", true)
	if err := r.Register(idleDir, "idle"); err != nil {
		t.Fatal(err)
	}
	detached := startHub(t, r, "sleep", idleDir)

	// The entry names the workspace through a symlink; the process reports
	// the resolved directory.
	realDir := hubtest.Workspace(t, home, "real", true)
	viaLink := filepath.Join(home, "via-link")
	if err := os.Symlink(realDir, viaLink); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(viaLink, "linked"); err != nil {
		t.Fatal(err)
	}
	linked := startHub(t, r, "sleep", realDir)

	// An entry whose pid was recycled by an unrelated, younger process.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	recycledDir := hubtest.Workspace(t, home, "recycled", false)
	stranger := startChild(t, "sleep", recycledDir, exe, "stranger")
	mustWrite(t, r, Entry{Cwd: recycledDir, Name: "recycled", HubPID: stranger.PID, StartedAt: createTime(t, stranger.PID).Add(-time.Hour)})

	unregistered := startHub(t, r, "sleep", hubtest.Workspace(t, home, "unregistered", true))
	deletedDir := hubtest.Workspace(t, home, "deleted", true)
	deleted := startHub(t, r, "sleep", deletedDir)
	if err := os.RemoveAll(deletedDir); err != nil {
		t.Fatal(err)
	}

	orphans, err := r.AllOrphanHubs()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[int]OrphanHub)
	for _, o := range orphans {
		got[o.PID] = o
	}
	if !slices.IsSortedFunc(orphans, func(a, b OrphanHub) int { return a.PID - b.PID }) {
		t.Error("orphans are not sorted by pid")
	}
	tests := []struct {
		name        string
		c           *child
		wantReason  string // "" means not an orphan
		processOnly bool
	}{
		{"registered intact workspace", intact, "", false},
		{"registered workspace without marker", unmarked, reasonNoMarker, false},
		{"hub in a workspace with an idle row", detached, "", false},
		{"hub in a workspace registered through a symlink", linked, "", false},
		{"recycled pid in an entry without marker", stranger, "", false},
		{"hub in an unregistered workspace", unregistered, "cwd missing from registry", true},
		{"hub whose cwd was deleted", deleted, "cwd no longer exists", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := got[tt.c.PID]
			if tt.wantReason == "" {
				if ok {
					t.Errorf("reported as an orphan: %+v", o)
				}
				return
			}
			if !ok {
				t.Fatalf("pid %d not reported as an orphan", tt.c.PID)
			}
			if o.Reason != tt.wantReason || o.ProcessOnly != tt.processOnly {
				t.Errorf("reason %q, process-only %v; want %q, %v", o.Reason, o.ProcessOnly, tt.wantReason, tt.processOnly)
			}
			if !strings.Contains(o.Cmd, "hub start") || o.CreateTime.IsZero() || o.ETime == "" {
				t.Errorf("process details missing: %+v", o)
			}
			if tt.processOnly != (o.Entry == nil) || (o.Entry != nil && o.ID != WorkspaceID(o.Entry.Cwd)) {
				t.Errorf("entry %+v with id %q for process-only %v", o.Entry, o.ID, tt.processOnly)
			}
			if created, err := procscan.CreateTime(tt.c.PID); err != nil || created.Sub(o.CreateTime).Abs() > time.Second {
				t.Errorf("create time %v, process says %v (%v)", o.CreateTime, created, err)
			}
		})
	}

	hubs, err := LiveHubProcesses()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*child{intact, unmarked, detached, linked, unregistered, deleted} {
		if !slices.ContainsFunc(hubs, func(h HubProcess) bool { return h.PID == c.PID && strings.Contains(h.Cmd, "bones hub start") }) {
			t.Errorf("LiveHubProcesses misses pid %d", c.PID)
		}
	}
}

// TestLiveHubProcessesIgnoresDecoys runs processes that merely look like
// hubs; none of them may be listed.
func TestLiveHubProcessesIgnoresDecoys(t *testing.T) {
	t.Parallel()
	r, dir := testRegistry(t)
	link := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(hubtest.Bin("bones"), p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	decoys := []*child{
		startChild(t, "sleep", dir, link("vim"), "bones", "hub", "start.md"),
		startChild(t, "sleep", dir, link("grep"), "bones", "hub", "start"),
		startChild(t, "sleep", dir, hubtest.Bin("bones"), "hub", "status"),
		startChild(t, "sleep", dir, link("notbones"), "hub", "start"),
	}
	hub := startHub(t, r, "sleep", dir)
	hubs, err := LiveHubProcesses()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range decoys {
		if slices.ContainsFunc(hubs, func(h HubProcess) bool { return h.PID == c.PID }) {
			t.Errorf("decoy %v listed as a hub", c.Cmd.Args)
		}
	}
	if !slices.ContainsFunc(hubs, func(h HubProcess) bool { return h.PID == hub.PID && h.Cwd == resolve(dir) }) {
		t.Errorf("the real hub is missing from %+v", hubs)
	}
}
