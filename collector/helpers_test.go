package collector

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"boneyard/lock"
	"boneyard/registry"
)

// The test binary doubles as a fake hub: re-executed as <tmp>/bones with
// `hub start` and fakeHubEnv set, it serves HTTP on 127.0.0.1, prints its
// port and lives until its stdin closes.
const (
	fakeHubEnv     = "COLLECTOR_TEST_FAKE_HUB"
	fakeHubLockEnv = "COLLECTOR_TEST_FAKE_HUB_LOCK" // also hold the workspace lock
)

var (
	bonesOnce sync.Once
	bonesDir  string
	bonesPath string
	bonesErr  error
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeHubEnv) != "" {
		os.Exit(runFakeHub())
	}
	code := m.Run()
	if bonesDir != "" {
		os.RemoveAll(bonesDir)
	}
	os.Exit(code)
}

func runFakeHub() int {
	if os.Getenv(fakeHubLockEnv) != "" {
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake hub:", err)
			return 1
		}
		release, err := lock.Acquire(wd)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake hub:", err)
			return 1
		}
		defer release()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake hub:", err)
		return 1
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	// Bounded, so a child the test failed to stop cannot linger.
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
	}
	return 0
}

// bonesBinary returns a copy of the test binary named `bones`, which the
// process scan recognises as a hub when run with `hub start`.
func bonesBinary(t testing.TB) string {
	t.Helper()
	bonesOnce.Do(func() {
		var exe string
		if exe, bonesErr = os.Executable(); bonesErr != nil {
			return
		}
		if bonesDir, bonesErr = os.MkdirTemp("", "collector-bones-"); bonesErr != nil {
			return
		}
		bonesPath = filepath.Join(bonesDir, "bones")
		var data []byte
		if data, bonesErr = os.ReadFile(exe); bonesErr != nil {
			return
		}
		bonesErr = os.WriteFile(bonesPath, data, 0o755)
	})
	if bonesErr != nil {
		t.Fatalf("prepare fake bones binary: %v", bonesErr)
	}
	return bonesPath
}

// startHub runs a fake `bones hub start` in cwd and returns its pid and URL.
func startHub(t testing.TB, cwd string, holdLock bool) (int, string) {
	t.Helper()
	cmd := exec.Command(bonesBinary(t), "hub", "start", "--repo-port", "0")
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), fakeHubEnv+"=1")
	if holdLock {
		cmd.Env = append(cmd.Env, fakeHubLockEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start fake hub: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		port, err := strconv.Atoi(s[:max(len(s)-1, 0)])
		if err != nil {
			t.Fatalf("fake hub printed %q, want its port", s)
		}
		return cmd.Process.Pid, "http://127.0.0.1:" + strconv.Itoa(port)
	case <-time.After(20 * time.Second):
		t.Fatal("fake hub did not report its port within 20s")
	}
	return 0, ""
}

// setHome points HOME at a fresh temporary directory and returns it.
func setHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("BONES_DIR", "")
	return home
}

// newWorkspace creates a workspace directory under parent; with marker it
// holds .bones/agent.id like one that `bones up` set up.
func newWorkspace(t testing.TB, parent, name string, marker bool) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if marker {
		if err := os.MkdirAll(filepath.Join(dir, ".bones"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".bones", "agent.id"), []byte("agent-"+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// closedURL returns a loopback URL on which nothing listens.
func closedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

// writeEntry writes e through the registry, as a hub would.
func writeEntry(t testing.TB, e registry.Entry) {
	t.Helper()
	if e.StartedAt.IsZero() {
		e.StartedAt = time.Now().UTC()
	}
	if err := registry.Write(e); err != nil {
		t.Fatal(err)
	}
}

// startRun runs c until the test ends and waits for the first snapshot.
func startRun(t testing.TB, c *Collector) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancel")
		}
	})
	waitFor(t, c, 10*time.Second, "first snapshot", func(s *Snapshot) bool { return s.Seq > 0 })
}

// stopRun cancels a Run started by the test and waits for it to return
// nil; it then waits a little for goroutines to drop back to baseline and
// fails with their stacks if they do not. extra, if not nil, must also
// report true in that time (something else the test waits to wind down).
func stopRun(t *testing.T, cancel context.CancelFunc, done <-chan error, baseline int, extra func() bool) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of cancel")
	}
	if extra == nil {
		extra = func() bool { return true }
	}
	deadline := time.Now().Add(5 * time.Second)
	for (!extra() || runtime.NumGoroutine() > baseline) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !extra() {
		t.Error("not wound down within 5s of Run returning")
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Run returned, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// waitFor waits until a published snapshot satisfies ok and returns it.
func waitFor(t testing.TB, c *Collector, timeout time.Duration, what string, ok func(*Snapshot) bool) *Snapshot {
	t.Helper()
	ch, cancel := c.Subscribe()
	defer cancel()
	if s := c.Snapshot(); ok(s) {
		return s
	}
	deadline := time.After(timeout)
	for {
		select {
		case s := <-ch:
			if ok(s) {
				return s
			}
		case <-deadline:
			t.Fatalf("no snapshot with %s within %v (latest seq %d, %d workspaces, err %v)",
				what, timeout, c.Snapshot().Seq, len(c.Snapshot().Workspaces), c.Snapshot().Err)
			return nil
		}
	}
}

// has reports whether s lists a workspace for cwd.
func has(s *Snapshot, cwd string) bool {
	_, ok := s.Workspace(registry.WorkspaceID(cwd))
	return ok
}
