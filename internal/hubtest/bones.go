package hubtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeBonesPkg is the end-to-end suite's stand-in for the bones CLI.
const fakeBonesPkg = "boneyard/e2e/fakehub"

var (
	// buildEnv is the environment the test binary started with, before
	// Main gave it a temporary home: the go command finds its caches there.
	buildEnv  []string
	fakeOnce  sync.Once
	fakeBones string
	fakeErr   error
)

// FakeBones returns the path of the fake bones CLI of the end-to-end suite
// (e2e/fakehub, which follows what bones does for hub start --detach and
// hub stop [--force]), built once per test binary into Main's directory.
// The hubs it starts run in sessions of their own: KillAtEnd ends them.
// Only Main's tests have it, and only on unix; elsewhere the test is
// skipped.
func FakeBones(t testing.TB) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake bones CLI runs on unix only")
	}
	if binDir == "" {
		t.Fatal("hubtest: FakeBones needs the package's TestMain to call hubtest.Main")
	}
	fakeOnce.Do(func() {
		path := filepath.Join(binDir, "cli", "bones")
		cmd := exec.Command(goTool(), "build", "-o", path, fakeBonesPkg)
		cmd.Env = buildEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			fakeErr = fmt.Errorf("build %s: %v\n%s", fakeBonesPkg, err, out)
			return
		}
		fakeBones = path
	})
	if fakeErr != nil {
		t.Fatal(fakeErr)
	}
	return fakeBones
}

// goTool is the go command: the one on PATH, else the one of the Go tree
// that built this binary.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// KillAtEnd kills pid, a process the test did not start itself (a hub the
// fake bones CLI detached), when the test ends, if it still runs.
func KillAtEnd(t testing.TB, pid int) {
	t.Helper()
	if pid <= 1 || pid == os.Getpid() {
		t.Fatalf("hubtest: refusing to kill pid %d", pid)
	}
	t.Cleanup(func() {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
			p.Release()
		}
	})
}

// HubPID reads the pid in <cwd>/.bones/hub.pid, the file bones writes for
// the hub of a workspace; 0 when there is none.
func HubPID(t testing.TB, cwd string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cwd, ".bones", "hub.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("hub.pid of %s: %q is no pid", cwd, b)
	}
	return pid
}

// Detach runs the fake bones CLI's `hub start --detach` with args in cwd,
// as a user would, and returns the hub's pid; the test's end kills it.
func Detach(t testing.TB, cwd string, args ...string) int {
	t.Helper()
	cmd := exec.Command(FakeBones(t), append([]string{"hub", "start", "--detach"}, args...)...)
	cmd.Dir = cwd
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bones hub start --detach %v in %s: %v\n%s", args, cwd, err, out)
	}
	pid := HubPID(t, cwd)
	if pid == 0 {
		t.Fatalf("bones hub start --detach in %s left no hub.pid", cwd)
	}
	KillAtEnd(t, pid)
	return pid
}
