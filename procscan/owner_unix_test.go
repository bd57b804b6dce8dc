//go:build unix

package procscan

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"boneyard/internal/hubtest"
)

// nobody is the conventional unprivileged uid and gid.
const nobody = 65534

// TestOwnerOfHubs runs one hub as this user and, as root, one as nobody:
// Scan, UIDs and RunsAsSelf tell them apart.
func TestOwnerOfHubs(t *testing.T) {
	t.Parallel()
	self := os.Geteuid()
	mine := startHelper(t, "bones", t.TempDir(), "sleep", "hub", "start")
	type want struct {
		uid   int
		other bool
		cwd   string
	}
	hubs := map[int]want{mine.pid(): {self, false, resolved(t, mine.Dir)}}
	if self == 0 {
		dir := hubtest.OpenDir(t)
		theirs := hubtest.Start(t, hubtest.Options{
			Mode: "sleep", Dir: dir, Path: hubtest.SharedBin(t), Args: []string{"hub", "start"},
			SysProcAttr: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}},
		})
		// Root reads every cwd.
		hubs[theirs.PID] = want{nobody, true, resolved(t, dir)}
	}
	for pid := range hubs {
		waitScanned(t, pid)
	}
	procs, err := Scan()
	if err != nil {
		t.Fatal(err)
	}
	for pid, w := range hubs {
		i := slices.IndexFunc(procs, func(p Process) bool { return p.PID == pid })
		if i < 0 {
			t.Fatalf("hub %d missing from Scan", pid)
		}
		if got := procs[i]; got.UID != w.uid || got.OtherUser != w.other || got.Cwd != w.cwd {
			t.Errorf("pid %d: UID, OtherUser, Cwd = %d, %v, %q; want %d, %v, %q", pid, got.UID, got.OtherUser, got.Cwd, w.uid, w.other, w.cwd)
		}
		if real, eff, err := UIDs(pid); err != nil || real != w.uid || eff != w.uid {
			t.Errorf("UIDs(%d) = %d, %d, %v; want %d, %d", pid, real, eff, err, w.uid, w.uid)
		}
		if ok, err := RunsAsSelf(pid); err != nil || ok == w.other {
			t.Errorf("RunsAsSelf(%d) = %v, %v; want %v", pid, ok, err, !w.other)
		}
	}
	if self != 0 {
		t.Log("not root: no hub of another user was started")
	}
}

func TestUIDsOfDeadProcess(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("gopsutil's errors for a dead pid differ by platform")
	}
	if _, _, err := UIDs(hubtest.DeadPID(t)); !errors.Is(err, ErrGone) {
		t.Errorf("UIDs of a dead pid: %v, want ErrGone", err)
	}
	if _, _, err := UIDs(0); err == nil {
		t.Error("UIDs(0) succeeded")
	}
}
