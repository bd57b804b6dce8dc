//go:build unix

package registry

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/procscan"
)

// TestReapChecksWorkspace runs a hub and reaps it through an entry whose
// cwd is, or is not, the hub's working directory: only the hub of the
// entry's own workspace is signalled, and a refusal changes nothing.
func TestReapChecksWorkspace(t *testing.T) {
	t.Parallel()
	type reaper struct {
		name string
		reap func(r Registry, e Entry, c *child) (ReapOutcome, error)
	}
	reapers := []reaper{
		{"ReapEntry", func(r Registry, e Entry, c *child) (ReapOutcome, error) {
			return r.ReapEntry(e, createTime(t, c.PID))
		}},
		{"ReapSeen", func(r Registry, e Entry, c *child) (ReapOutcome, error) {
			outcome, _, err := r.ReapSeen(e, c.PID, createTime(t, c.PID))
			return outcome, err
		}},
	}
	tests := []struct {
		name string
		// setup starts a hub and returns the entry to reap it by.
		setup   func(t *testing.T, r Registry, home string) (Entry, *child)
		wantErr error
	}{
		{"entry of another workspace", func(t *testing.T, r Registry, home string) (Entry, *child) {
			a := hubtest.Workspace(t, home, "a", true)
			hub := startHub(t, r, "sleep", hubtest.Workspace(t, home, "b", true))
			return Entry{Cwd: a, Name: "a", HubPID: hub.PID, StartedAt: time.Now()}, hub
		}, ErrWrongWorkspace},
		{"entry of a workspace inside the hub's", func(t *testing.T, r Registry, home string) (Entry, *child) {
			b := hubtest.Workspace(t, home, "b", true)
			hub := startHub(t, r, "sleep", b)
			return Entry{Cwd: hubtest.Workspace(t, b, "inner", true), HubPID: hub.PID, StartedAt: time.Now()}, hub
		}, ErrWrongWorkspace},
		{"workspace renamed away", func(t *testing.T, r Registry, home string) (Entry, *child) {
			old := hubtest.Workspace(t, home, "old", true)
			hub := startHub(t, r, "sleep", old)
			if err := os.Rename(old, filepath.Join(home, "new")); err != nil {
				t.Fatal(err)
			}
			return Entry{Cwd: old, HubPID: hub.PID, StartedAt: time.Now()}, hub
		}, ErrWrongWorkspace},
		{"own workspace", func(t *testing.T, r Registry, home string) (Entry, *child) {
			ws := hubtest.Workspace(t, home, "ws", true)
			hub := startHub(t, r, "sleep", ws)
			return Entry{Cwd: ws, HubPID: hub.PID, StartedAt: time.Now()}, hub
		}, nil},
		{"own workspace through a symlink", func(t *testing.T, r Registry, home string) (Entry, *child) {
			ws := hubtest.Workspace(t, home, "ws", true)
			link := filepath.Join(home, "link")
			if err := os.Symlink(ws, link); err != nil {
				t.Fatal(err)
			}
			hub := startHub(t, r, "sleep", ws)
			return Entry{Cwd: link, HubPID: hub.PID, StartedAt: time.Now()}, hub
		}, nil},
		{"own workspace, removed", func(t *testing.T, r Registry, home string) (Entry, *child) {
			ws := hubtest.Workspace(t, home, "ws", true)
			hub := startHub(t, r, "sleep", ws)
			if err := os.RemoveAll(ws); err != nil {
				t.Fatal(err)
			}
			return Entry{Cwd: ws, HubPID: hub.PID, StartedAt: time.Now()}, hub
		}, nil},
		{"own workspace, moved to the trash", func(t *testing.T, r Registry, home string) (Entry, *child) {
			ws := hubtest.Workspace(t, home, "ws", true)
			hub := startHub(t, r, "sleep", ws)
			trash := filepath.Join(home, ".local", "share", "Trash", "files")
			if err := os.MkdirAll(trash, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(ws, filepath.Join(trash, "ws")); err != nil {
				t.Fatal(err)
			}
			return Entry{Cwd: ws, HubPID: hub.PID, StartedAt: time.Now()}, hub
		}, nil},
	}
	for _, rp := range reapers {
		for _, tt := range tests {
			t.Run(rp.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				r, home := testRegistry(t)
				r.tune = &tuning{reapGrace: shortGrace}
				e, hub := tt.setup(t, r, home)
				mustWrite(t, r, e)
				before, err := readEntryFile(r.EntryPath(e.Cwd))
				if err != nil {
					t.Fatal(err)
				}
				outcome, err := rp.reap(r, e, hub)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("reap = %v, %v; want %v", outcome, err, tt.wantErr)
				}
				checkExited(t, hub, tt.wantErr == nil)
				after, err := readEntryFile(r.EntryPath(e.Cwd))
				if tt.wantErr == nil {
					if outcome != ReapStopped || !errors.Is(err, os.ErrNotExist) {
						t.Errorf("outcome %v, entry after the reap: %v; want ReapStopped, entry removed", outcome, err)
					}
					return
				}
				if rp.name == "ReapSeen" && cwdGone(e.Cwd) {
					return // its Read pruned the entry of a workspace that is gone, as any listing would
				}
				if err != nil || !before.is(after) {
					t.Errorf("entry changed by a refused reap: %+v, %v", after.entry, err)
				}
			})
		}
	}
}

// asNobody returns what runs a child as uid and gid nobody.
func asNobody() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
}

// TestReapRefusesOtherUsersHub runs, as root, a hub as nobody: no reap
// function signals it, whatever entry or pid it is given, and it is never
// reported as an orphan.
func TestReapRefusesOtherUsersHub(t *testing.T) {
	t.Parallel()
	needRoot(t)
	r, home := testRegistry(t)
	r.tune = &tuning{reapGrace: shortGrace}
	dir := hubtest.OpenDir(t)
	hub := hubtest.Start(t, hubtest.Options{
		Mode: "sleep", Dir: dir, Path: hubtest.SharedBin(t), Args: hubtest.HubArgs(), SysProcAttr: asNobody(),
	})
	created := createTime(t, hub.PID)
	// An entry of this user names the other user's hub, in the hub's own
	// directory and in a directory that is gone (a registry-side orphan).
	e := Entry{Cwd: dir, Name: "theirs", HubPID: hub.PID, StartedAt: time.Now()}
	gone := Entry{Cwd: filepath.Join(home, "gone"), Name: "gone", HubPID: hub.PID, StartedAt: time.Now()}
	mustWrite(t, r, e)

	reaps := []struct {
		name string
		reap func() error
	}{
		{"ReapProcess", func() error { return reapProcess(hub.PID, created, shortGrace) }},
		{"ReapPID", func() error { return reapPID(hub.PID, shortGrace) }},
		{"ReapEntry", func() error { _, err := r.ReapEntry(e, created); return err }},
		{"ReapEntry without a seen time", func() error { _, err := r.ReapEntry(e, time.Time{}); return err }},
		{"ReapSeen", func() error { _, _, err := r.ReapSeen(e, hub.PID, created); return err }},
		{"ReapEntry of a gone workspace", func() error { _, err := r.ReapEntry(gone, created); return err }},
	}
	for _, rp := range reaps {
		if err := rp.reap(); !errors.Is(err, ErrNotYours) {
			t.Errorf("%s: %v, want ErrNotYours", rp.name, err)
		}
	}
	if hub.Exited(200 * time.Millisecond) {
		t.Fatal("another user's hub was stopped")
	}
	if _, ok := readRaw(t, r, e.Cwd); !ok {
		t.Error("the entry was removed")
	}

	procs, err := procscan.Scan()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(procs, func(p procscan.Process) bool { return p.PID == hub.PID })
	if i < 0 || !procs[i].OtherUser {
		t.Fatalf("Scan row of the other user's hub: %+v (found %v), want OtherUser", procs, i >= 0)
	}
	others := []struct {
		name  string
		infos []Info
	}{
		{"process-only", nil},
		{"registry-side, workspace gone", []Info{{Entry: gone}}},
		{"registry-side, not in the scan", []Info{{Entry: gone}}},
	}
	for k, tt := range others {
		ps := procs
		if k == 2 {
			ps = slices.Delete(slices.Clone(procs), i, i+1)
		}
		for _, o := range r.OrphanHubsFrom(tt.infos, ps) {
			if o.PID == hub.PID {
				t.Errorf("%s: another user's hub reported as an orphan: %+v", tt.name, o)
			}
		}
	}
}

// TestReapOwnOrphan checks that the owner check lets this user's
// process-only orphan through: ReapProcess stops it.
func TestReapOwnOrphan(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	hub := startHub(t, r, "sleep", hubtest.Workspace(t, home, "unregistered", true))
	procs, err := procscan.Scan()
	if err != nil {
		t.Fatal(err)
	}
	orphans := r.OrphanHubsFrom(nil, procs)
	i := slices.IndexFunc(orphans, func(o OrphanHub) bool { return o.PID == hub.PID })
	if i < 0 || !orphans[i].ProcessOnly {
		t.Fatalf("own unregistered hub not a process-only orphan: %+v", orphans)
	}
	if err := reapProcess(hub.PID, orphans[i].CreateTime, shortGrace); err != nil {
		t.Fatal(err)
	}
	checkExited(t, hub, true)
}
