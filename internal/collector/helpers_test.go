package collector

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/lock"
	"boneyard/procscan"
	"boneyard/registry"
)

// TestMain lets the test binary play a fake hub answering 204 on
// 127.0.0.1 ("serve"), also holding its workspace's lock ("locked"). The
// tests write the registry entries themselves, except for the hub that
// lives as bones does ("bones": its own entry, hub.pid and hub.log, and a
// clean stop on SIGTERM).
func TestMain(m *testing.M) {
	hubtest.Main(m, map[string]func() int{
		"serve":  serveHub,
		"locked": lockedHub,
		"bones":  bonesHub,
	})
}

func bonesHub() int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake hub:", err)
		return 1
	}
	return hubtest.Hub{
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }),
		StateDir: lock.StateDir(wd),
		OnReady: func(url string) error {
			return registry.Write(registry.Entry{Cwd: wd, Name: filepath.Base(wd), HubURL: url, HubPID: os.Getpid(), StartedAt: time.Now().UTC()})
		},
		OnTerm: func() { registry.RemoveEntry(registry.Entry{Cwd: wd, HubPID: os.Getpid()}) },
	}.Run()
}

// startBonesHub runs a fake hub that lives as bones does in cwd, with
// o's home as its own, so that it registers itself in o's registry.
func startBonesHub(t testing.TB, o *own, cwd string) *hubtest.Proc {
	t.Helper()
	h := hubtest.Start(t, hubtest.Options{Mode: "bones", Dir: cwd, Args: hubtest.HubArgs(), Env: hubtest.HomeEnv(o.reg.Home)})
	o.add(t, h.PID)
	return h
}

func serveHub() int {
	return hubtest.Hub{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})}.Run()
}

func lockedHub() int {
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
	return serveHub()
}

// ownHubs are the fake hubs the test binary started.
var ownHubs hubtest.PIDSet

// scanOwnHubs is procscan.Scan keeping only ownHubs, for a collector that
// must not see hubs run by anything else on the host.
func scanOwnHubs() ([]procscan.Process, error) {
	procs, err := procscan.Scan()
	return slices.DeleteFunc(procs, func(p procscan.Process) bool { return !ownHubs.Has(p.PID) }), err
}

// own is what one test owns: its registry, in a home of its own, and the
// fake hubs it started. Tests running in parallel each collect only theirs.
type own struct {
	reg  registry.Registry
	hubs hubtest.PIDSet
}

// newOwn returns an own with a registry in a fresh temporary home.
func newOwn(t testing.TB) *own { return &own{reg: registry.ForHome(t.TempDir())} }

// add counts pid among o's hubs, and the test binary's, until t ends.
func (o *own) add(t testing.TB, pid int) {
	o.hubs.Add(t, pid)
	ownHubs.Add(t, pid)
}

// scan is procscan.Scan keeping only o's hubs.
func (o *own) scan() ([]procscan.Process, error) {
	procs, err := procscan.Scan()
	return slices.DeleteFunc(procs, func(p procscan.Process) bool { return !o.hubs.Has(p.PID) }), err
}

// startHub runs a fake `bones hub start` in cwd and returns its pid and URL.
func startHub(t testing.TB, o *own, cwd string, holdLock bool) (int, string) {
	t.Helper()
	mode := "serve"
	if holdLock {
		mode = "locked"
	}
	h := hubtest.Start(t, hubtest.Options{Mode: mode, Dir: cwd, Args: hubtest.HubArgs(), Env: hubtest.HomeEnv(o.reg.Home)})
	o.add(t, h.PID)
	return h.PID, h.URL
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

// writeEntry writes e through r, as a hub would.
func writeEntry(t testing.TB, r registry.Registry, e registry.Entry) {
	t.Helper()
	if e.StartedAt.IsZero() {
		e.StartedAt = time.Now().UTC()
	}
	if err := r.Write(e); err != nil {
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
