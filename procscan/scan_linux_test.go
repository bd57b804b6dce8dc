package procscan

import (
	"encoding/json"
	"os"
	"slices"
	"syscall"
	"testing"

	"boneyard/internal/hubtest"
)

func TestScanKeepsUnreadableCwd(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to scan as another user")
	}
	hub := startHelper(t, "bones", t.TempDir(), "sleep", "hub", "start")
	waitScanned(t, hub.pid())
	if err := os.Chmod(binDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	// The scan runs as nobody, which may read the root-owned hub's command
	// line and stats but not its cwd.
	scan := hubtest.Command(binaryPath("notbones"), "scan")
	scan.Dir = "/"
	scan.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := scan.Output()
	if err != nil {
		t.Fatalf("scan as nobody: %v", err)
	}
	var procs []Process
	if err := json.Unmarshal(out, &procs); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	i := slices.IndexFunc(procs, func(p Process) bool { return p.PID == hub.pid() })
	if i < 0 {
		t.Fatalf("hub %d missing from a scan by another user: %+v", hub.pid(), procs)
	}
	if got := procs[i]; got.Cwd != "" || got.CwdDeleted || got.RSS == 0 || got.Cmd == "" || got.UID != 0 || !got.OtherUser {
		t.Errorf("row seen by another user = %+v, want empty cwd, uid 0, another user's, and the rest filled", got)
	}
}
