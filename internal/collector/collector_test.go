package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/registry"
)

func TestSnapshotBeforeFirstCollection(t *testing.T) {
	t.Parallel()
	c := New(Options{Registry: registry.Registry{Dir: t.TempDir()}})
	s := c.Snapshot()
	if s == nil || s.Seq != 0 || s.Workspaces == nil || s.Orphans == nil || s.Processes == nil {
		t.Fatalf("Snapshot before Run = %+v, want empty non-nil snapshot with Seq 0", s)
	}
	c.Trigger()
	c.Trigger() // a second pending trigger must not block either
	if c.Collections() != 0 {
		t.Fatalf("Collections() = %d before any collection", c.Collections())
	}
}

func TestCollectStatusesAndParts(t *testing.T) {
	t.Parallel()
	o := newOwn(t)
	root := t.TempDir()
	self := os.Getpid()

	runningDir := newWorkspace(t, root, "running", true)
	hubPID, hubURL := startHub(t, o, runningDir, true)
	strayDir := newWorkspace(t, root, "stray", true)
	strayPID, _ := startHub(t, o, strayDir, false)

	tests := []struct {
		name       string
		cwd        string
		entry      registry.Entry // Cwd and Name filled in below
		want       Status
		reason     bool // an orphan reason is expected
		resources  bool
		lockHolder int
	}{
		{name: "a-running", cwd: runningDir, entry: registry.Entry{HubPID: hubPID, HubURL: hubURL}, want: StatusRunning, resources: true, lockHolder: hubPID},
		{name: "b-idle", cwd: newWorkspace(t, root, "idle", true), want: StatusIdle},
		{name: "c-stopped", cwd: newWorkspace(t, root, "stopped", true), entry: registry.Entry{HubPID: self, HubURL: hubtest.ClosedURL(t)}, want: StatusStopped, resources: true},
		{name: "d-orphan", cwd: newWorkspace(t, root, "orphan", false), entry: registry.Entry{HubPID: self, HubURL: hubtest.ClosedURL(t)}, want: StatusOrphan, reason: true, resources: true},
		{name: "e-unknown", cwd: newWorkspace(t, root, "unknown", true), entry: registry.Entry{HubPID: self}, want: StatusUnknown, resources: true},
	}
	for _, tt := range tests {
		e := tt.entry
		e.Cwd, e.Name = tt.cwd, tt.name
		writeEntry(t, o.reg, e)
	}

	c := New(Options{Registry: o.reg, Scan: o.scan})
	s := c.Refresh(context.Background())
	if s.Seq != 1 || c.Collections() != 1 {
		t.Fatalf("first Refresh: Seq %d, Collections %d; want 1, 1", s.Seq, c.Collections())
	}
	if s.Err != nil {
		t.Errorf("Err = %v", s.Err)
	}
	if len(s.Workspaces) != len(tests) {
		t.Fatalf("%d workspaces, want %d: %+v", len(s.Workspaces), len(tests), s.Workspaces)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok := s.Workspace(registry.WorkspaceID(tt.cwd))
			if !ok {
				t.Fatalf("workspace %s missing", tt.cwd)
			}
			if w.Status != tt.want {
				t.Errorf("Status = %s, want %s (hub status %s)", w.Status, tt.want, w.HubStatus)
			}
			if (w.OrphanReason != "") != tt.reason {
				t.Errorf("OrphanReason = %q, want one: %v", w.OrphanReason, tt.reason)
			}
			if (w.Resources != nil) != tt.resources {
				t.Errorf("Resources = %+v, want present: %v", w.Resources, tt.resources)
			}
			if w.Lock.Held != (tt.lockHolder != 0) || w.Lock.PID != tt.lockHolder {
				t.Errorf("Lock = %+v, want held by %d", w.Lock, tt.lockHolder)
			}
		})
	}

	// Problems first, then by name.
	var order []Status
	for _, w := range s.Workspaces {
		order = append(order, w.Status)
	}
	if want := []Status{StatusOrphan, StatusStopped, StatusUnknown, StatusIdle, StatusRunning}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}

	running, _ := s.Workspace(registry.WorkspaceID(runningDir))
	if r := running.Resources; r != nil && len(r.Ports) == 0 {
		t.Errorf("running hub resources %+v list no listening port", r)
	}
	for _, pid := range []int{hubPID, strayPID} {
		if _, ok := s.Process(pid); !ok {
			t.Errorf("hub process %d missing from Processes", pid)
		}
	}
	if o, ok := s.Orphan(strayPID); !ok || !o.ProcessOnly {
		t.Errorf("stray hub %d: Orphan = %+v, %v; want a process-only orphan", strayPID, o, ok)
	}
	if _, ok := s.Orphan(hubPID); ok {
		t.Errorf("registered hub %d listed as a process-only orphan", hubPID)
	}
	if h, _ := s.Process(hubPID); h.Orphan || h.WorkspaceID != registry.WorkspaceID(runningDir) {
		t.Errorf("Processes: running hub %+v, want not orphan, workspace %s", h, registry.WorkspaceID(runningDir))
	}
	if h, _ := s.Process(strayPID); !h.Orphan || h.OrphanReason == "" || h.WorkspaceID != "" {
		t.Errorf("Processes: stray hub %+v, want an orphan with a reason and no workspace", h)
	}
	n := s.Counts()
	for _, st := range Statuses() {
		// Without a journal nothing is down.
		want := 1
		if st == StatusDown {
			want = 0
		}
		if n.Of(st) != want {
			t.Errorf("Counts.Of(%s) = %d, want %d", st, n.Of(st), want)
		}
	}
	if n.ProcessOrphans != 1 || len(s.Processes) != 2 {
		t.Errorf("Counts.ProcessOrphans = %d of %d processes, want the stray hub of the two", n.ProcessOrphans, len(s.Processes))
	}
	for _, tt := range []struct {
		name    string
		cwd     string
		stopped string
		canReap bool
		started bool // HubStarted is the hub process's start
	}{
		{"running", runningDir, "", true, true},
		{"stopped", tests[2].cwd, "pid " + strconv.Itoa(self) + " alive, hub not answering at " + tests[2].entry.HubURL, true, false},
		{"idle", tests[1].cwd, "", false, false},
	} {
		w, _ := s.Workspace(registry.WorkspaceID(tt.cwd))
		if w.StoppedReason != tt.stopped || w.CanReap != tt.canReap || w.HubStarted.IsZero() == tt.started {
			t.Errorf("%s: stopped reason %q, can reap %v, hub started %v; want %q, %v, %v", tt.name, w.StoppedReason, w.CanReap, w.HubStarted, tt.stopped, tt.canReap, tt.started)
		}
		if want := filepath.Join(tt.cwd, ".bones", "hub.log"); w.LogPath != want {
			t.Errorf("%s: log path %q, want %q", tt.name, w.LogPath, want)
		}
	}
	if p, _ := s.Process(hubPID); !running.HubLink || !running.HubStarted.Equal(p.CreateTime) {
		t.Errorf("running hub: link %v, started %v; want a link and the scanned start", running.HubLink, running.HubStarted)
	}

	if fi, err := os.Stat(filepath.Join(o.reg.Home, ".bones", "workspaces")); err != nil || !fi.IsDir() {
		t.Errorf("registry directory: %v", err)
	}
}

func TestCollectKeepsOtherPartsOnError(t *testing.T) {
	t.Parallel()
	o := newOwn(t)
	// A file where the registry directory belongs makes listing it fail.
	if err := os.MkdirAll(filepath.Join(o.reg.Home, ".bones"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(o.reg.Dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	pid, _ := startHub(t, o, newWorkspace(t, t.TempDir(), "ws", true), false)
	var logged lockedBuffer
	c := New(Options{Registry: o.reg, Logger: slog.New(slog.NewTextHandler(&logged, nil))})

	for range 2 {
		s := c.Refresh(context.Background())
		if s.Err == nil {
			t.Error("Err = nil, want the registry listing error")
		}
		if s.ListErr == nil || s.ScanErr != nil {
			t.Errorf("ListErr = %v, ScanErr = %v; want only the listing error", s.ListErr, s.ScanErr)
		}
		if p, ok := s.Process(pid); !ok || p.Orphan {
			t.Errorf("Process(%d) = %+v, %v: want it listed, not called an orphan without the registry", pid, p, ok)
		}
	}
	if n := strings.Count(logged.String(), "collection incomplete"); n != 1 {
		t.Errorf("a lasting error was logged %d times, want once:\n%s", n, logged.String())
	}

	if err := os.Remove(o.reg.Dir); err != nil {
		t.Fatal(err)
	}
	if s := c.Refresh(context.Background()); s.Err != nil || s.ListErr != nil {
		t.Errorf("Err = %v, ListErr = %v after the registry was repaired", s.Err, s.ListErr)
	}
	if !strings.Contains(logged.String(), "collection succeeds again") {
		t.Errorf("recovery not logged:\n%s", logged.String())
	}
}

// lockedBuffer is a log destination safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestWatchTriggersCollection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		interval time.Duration
		remove   func(home string) string // removes something, returns what
	}{
		// A one-hour interval: only fsnotify can explain a prompt update.
		{name: "entry written", interval: time.Hour},
		{name: "registry dir removed and re-created", interval: time.Hour, remove: func(home string) string {
			return filepath.Join(home, ".bones", "workspaces")
		}},
		// With ~/.bones gone there is nothing left to watch; the interval
		// re-adds the watches.
		{name: "bones dir removed and re-created", interval: 200 * time.Millisecond, remove: func(home string) string {
			return filepath.Join(home, ".bones")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := registry.ForHome(t.TempDir())
			root := t.TempDir()
			first := newWorkspace(t, root, "first", true)
			if err := r.Register(first, "first"); err != nil {
				t.Fatal(err)
			}
			c := New(Options{Registry: r, Interval: tt.interval})
			startRun(t, c)
			waitFor(t, c, 10*time.Second, "the first entry", func(s *Snapshot) bool { return has(s, first) })

			if tt.remove != nil {
				if err := os.RemoveAll(tt.remove(r.Home)); err != nil {
					t.Fatal(err)
				}
				waitFor(t, c, 10*time.Second, "the entry gone", func(s *Snapshot) bool { return !has(s, first) })
			}
			// Twice: the second write proves the directory is watched
			// again, not merely noticed once.
			for _, name := range []string{"second", "third"} {
				cwd := newWorkspace(t, root, name, true)
				if err := r.Register(cwd, name); err != nil {
					t.Fatal(err)
				}
				waitFor(t, c, 10*time.Second, name+" entry", func(s *Snapshot) bool { return has(s, cwd) })
			}
		})
	}
}

func TestBurstIsCoalesced(t *testing.T) {
	t.Parallel()
	r := registry.ForHome(t.TempDir())
	root := t.TempDir()
	const n = 1000
	files := make(map[string][]byte, n)
	for i := range n {
		cwd := filepath.Join(root, fmt.Sprintf("ws%04d", i))
		if err := os.Mkdir(cwd, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(registry.Entry{Cwd: cwd, Name: filepath.Base(cwd), StartedAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		files[r.EntryPath(cwd)] = data
	}

	c := New(Options{Registry: r, Interval: time.Hour})
	startRun(t, c)
	before := c.Collections()

	start := time.Now()
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > time.Minute {
			t.Fatal("writing the burst took over a minute")
		}
	}
	burst := time.Since(start)
	waitFor(t, c, 30*time.Second, "every entry", func(s *Snapshot) bool { return len(s.Workspaces) == n })
	// Let any collection already scheduled happen before counting.
	time.Sleep(200 * time.Millisecond)

	got := c.Collections() - before
	// Changes postpone a collection by at most maxDelay, so a burst that a
	// very slow machine stretches out may legitimately take more.
	limit := max(10, 3+int(burst/maxDelay))
	t.Logf("%d file writes in %v caused %d collections", n, burst, got)
	if got > uint64(limit) {
		t.Errorf("%d writes caused %d collections, want at most %d", n, got, limit)
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	r := registry.ForHome(t.TempDir())
	root := t.TempDir()
	c := New(Options{Registry: r, Interval: time.Hour})
	startRun(t, c)

	t.Run("returns fresh data", func(t *testing.T) {
		cwd := newWorkspace(t, root, "fresh", true)
		if err := r.Register(cwd, "fresh"); err != nil {
			t.Fatal(err)
		}
		if s := c.Refresh(context.Background()); !has(s, cwd) {
			t.Fatalf("Refresh right after a write misses it: %+v", s.Workspaces)
		}
	})

	t.Run("never overlaps collections", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				c.Trigger()
				if s := c.Refresh(context.Background()); s.Seq == 0 {
					t.Error("Refresh returned the empty snapshot")
				}
			})
		}
		wg.Wait()
		if m := c.maxActive.Load(); m != 1 {
			t.Errorf("%d collections ran at once", m)
		}
	})

	t.Run("gives up waiting when ctx ends", func(t *testing.T) {
		c.sem <- struct{}{} // a collection in progress
		defer func() { <-c.sem }()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if s := c.Refresh(ctx); s != c.Snapshot() {
			t.Errorf("Refresh with a done ctx = seq %d, want the latest snapshot", s.Seq)
		}
	})
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	c := New(Options{Registry: registry.ForHome(t.TempDir()), Interval: time.Hour})

	ch, cancel := c.Subscribe()
	slow, cancelSlow := c.Subscribe() // never read until the end
	defer cancelSlow()
	startRun(t, c)

	select {
	case s := <-ch:
		if s.Seq == 0 {
			t.Fatal("received the empty snapshot")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot delivered within 10s")
	}

	// Publishing must not wait for the slow subscriber.
	var last *Snapshot
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			last = c.Refresh(context.Background())
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Refresh blocked with a slow subscriber")
	}
	if len(slow) != 1 {
		t.Fatalf("slow subscriber holds %d snapshots, want 1", len(slow))
	}
	if s := <-slow; s.Seq != last.Seq {
		t.Errorf("slow subscriber got seq %d, want the latest %d", s.Seq, last.Seq)
	}

	late, cancelLate := c.Subscribe()
	defer cancelLate()
	if s := <-late; s != c.Snapshot() {
		t.Errorf("new subscriber starts with seq %d, want the current %d", s.Seq, c.Snapshot().Seq)
	}

	seen := c.Snapshot().Seq
	c.Trigger()
	deadline := time.After(10 * time.Second)
	for fresh := false; !fresh; {
		select {
		case s := <-ch:
			fresh = s.Seq > seen
		case <-deadline:
			t.Fatal("no snapshot after Trigger within 10s")
		}
	}

	before := c.Subscribers()
	cancel()
	cancel()
	if got := c.Subscribers(); got != before-1 {
		t.Errorf("Subscribers after cancel = %d, want %d", got, before-1)
	}
	for range ch { // drains, then ends because cancel closed it
	}
}

// TestRunStopsWithoutLeaks counts the goroutines of the whole test binary,
// so it stays sequential: a parallel test's goroutines would count as leaks.
func TestRunStopsWithoutLeaks(t *testing.T) {
	r := registry.ForHome(t.TempDir())
	baseline := runtime.NumGoroutine()

	c := New(Options{Registry: r, Interval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, c, 10*time.Second, "a second collection", func(s *Snapshot) bool { return s.Seq > 1 })

	if err := c.Run(ctx); err == nil {
		t.Error("a second concurrent Run returned nil, want an error")
	}

	stopRun(t, cancel, done, baseline, nil)
}
