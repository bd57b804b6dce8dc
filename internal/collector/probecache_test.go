package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"boneyard/registry"
)

// healthTimeout sets registry.HealthTimeout for one test. Call it before
// starting a Run, so that the restore happens after the Run has stopped.
// The variable is the process's, so a test that calls it stays sequential.
func healthTimeout(t *testing.T, d time.Duration) {
	t.Helper()
	old := registry.HealthTimeout
	registry.HealthTimeout = d
	t.Cleanup(func() { registry.HealthTimeout = old })
}

// switchableHub is a loopback HTTP server that answers until told to hang;
// a hanging request is held until the client gives up.
type switchableHub struct {
	*httptest.Server
	hang    atomic.Bool
	hanging atomic.Int32 // requests being held right now
}

func newSwitchableHub(t *testing.T) *switchableHub {
	t.Helper()
	h := &switchableHub{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.hang.Load() {
			h.hanging.Add(1)
			defer h.hanging.Add(-1)
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

// status returns the status of cwd's workspace in s, "" if it is missing.
func status(s *Snapshot, cwd string) Status {
	w, ok := s.Workspace(registry.WorkspaceID(cwd))
	if !ok {
		return ""
	}
	return w.Status
}

// TestKnownHungHubsDoNotDelayCollection checks that once hung hubs have
// been probed, a collection no longer waits on them: a later registry write
// is collected with no probe at all, or with one probe for a new hub.
// It sets HealthTimeout, so it stays sequential.
func TestKnownHungHubsDoNotDelayCollection(t *testing.T) {
	const hungHubs = 5
	healthTimeout(t, 300*time.Millisecond)
	r := registry.ForHome(t.TempDir())
	root := t.TempDir()
	self := os.Getpid()
	answering := newSwitchableHub(t)
	var hung []string
	for i, url := range hungListeners(t, hungHubs) {
		cwd := newWorkspace(t, root, "hung"+string(rune('a'+i)), true)
		writeEntry(t, r, registry.Entry{Cwd: cwd, Name: "hung", HubPID: self, HubURL: url})
		hung = append(hung, cwd)
	}

	c := New(Options{Registry: r, Interval: time.Hour})
	startRun(t, c)
	if got := c.probes.syncProbes.Load(); got != hungHubs {
		t.Fatalf("first collection waited on %d probes, want %d", got, hungHubs)
	}
	for _, cwd := range hung {
		if st := status(c.Snapshot(), cwd); st != StatusStopped {
			t.Errorf("hung hub %s: status %q, want stopped", cwd, st)
		}
	}

	steps := []struct {
		name      string
		entry     registry.Entry // Cwd and Name filled in below
		want      Status
		syncAfter int64 // probes waited for since Run started
	}{
		{"idle row", registry.Entry{}, StatusIdle, hungHubs},
		{"new answering hub", registry.Entry{HubPID: self, HubURL: answering.URL}, StatusRunning, hungHubs + 1},
		{"second idle row", registry.Entry{}, StatusIdle, hungHubs + 1},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e := st.entry
			e.Name = "new"
			e.Cwd = newWorkspace(t, root, "new"+string(rune('a'+i)), true)
			writeEntry(t, r, e)
			waitFor(t, c, 10*time.Second, "the new workspace", func(s *Snapshot) bool { return status(s, e.Cwd) == st.want })
			if got := c.probes.syncProbes.Load(); got != st.syncAfter {
				t.Errorf("collections waited on %d probes in all, want %d", got, st.syncAfter)
			}
		})
	}
}

// TestHubThatHangsIsReportedStopped checks that the interval re-probes known
// hubs in the background: a hub that stops answering is reported stopped,
// and running again once it recovers, without any collection waiting on it.
// It sets HealthTimeout, so it stays sequential.
func TestHubThatHangsIsReportedStopped(t *testing.T) {
	healthTimeout(t, 200*time.Millisecond)
	r := registry.ForHome(t.TempDir())
	hub := newSwitchableHub(t)
	cwd := newWorkspace(t, t.TempDir(), "ws", true)
	writeEntry(t, r, registry.Entry{Cwd: cwd, Name: "ws", HubPID: os.Getpid(), HubURL: hub.URL})

	c := New(Options{Registry: r, Interval: 100 * time.Millisecond})
	startRun(t, c)
	for _, st := range []struct {
		hang bool
		want Status
	}{
		{false, StatusRunning},
		{true, StatusStopped},
		{false, StatusRunning},
	} {
		hub.hang.Store(st.hang)
		waitFor(t, c, 10*time.Second, "status "+string(st.want), func(s *Snapshot) bool { return status(s, cwd) == st.want })
	}
	if got := c.probes.syncProbes.Load(); got != 1 {
		t.Errorf("collections waited on %d probes, want 1 (the first)", got)
	}
}

// TestProbeCacheEviction follows the cache through registry changes: a
// result is kept while its hub run is listed and dropped when the entry goes,
// turns idle or names a new run, which is then probed afresh.
func TestProbeCacheEviction(t *testing.T) {
	t.Parallel()
	r := registry.ForHome(t.TempDir())
	root := t.TempDir()
	self := os.Getpid()
	hub := newSwitchableHub(t)
	a := registry.Entry{Cwd: newWorkspace(t, root, "a", true), Name: "a", HubPID: self, HubURL: hub.URL}
	b := registry.Entry{Cwd: newWorkspace(t, root, "b", true), Name: "b", HubPID: self, HubURL: hub.URL}

	c := New(Options{Registry: r, Interval: time.Hour})
	steps := []struct {
		name     string
		change   func(t *testing.T)
		wantSize int
		wantSync int64 // probes this collection waited for
	}{
		{"two new hubs", func(t *testing.T) { writeEntry(t, r, a); writeEntry(t, r, b) }, 2, 2},
		{"nothing changed", func(*testing.T) {}, 2, 0},
		{"entry removed", func(t *testing.T) {
			if err := r.Remove(b.Cwd); err != nil {
				t.Fatal(err)
			}
		}, 1, 0},
		{"hub restarted", func(t *testing.T) {
			a.StartedAt = time.Now().UTC().Add(time.Second)
			writeEntry(t, r, a)
		}, 1, 1},
		{"hub replaced by an idle row", func(t *testing.T) {
			a.HubPID, a.HubURL = 0, ""
			writeEntry(t, r, a)
		}, 0, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			before := c.probes.syncProbes.Load()
			s := c.Refresh(context.Background())
			if s.Err != nil {
				t.Fatal(s.Err)
			}
			if got := c.probes.size(); got != st.wantSize {
				t.Errorf("%d cached results, want %d", got, st.wantSize)
			}
			if got := c.probes.syncProbes.Load() - before; got != st.wantSync {
				t.Errorf("collection waited on %d probes, want %d", got, st.wantSync)
			}
		})
	}
}

// TestStaleResultWithoutRun checks that without a Run, which owns the
// background probes, a stale result is re-probed while the collection
// waits, so Refresh alone never leaves a goroutine behind.
func TestStaleResultWithoutRun(t *testing.T) {
	t.Parallel()
	r := registry.ForHome(t.TempDir())
	hub := newSwitchableHub(t)
	cwd := newWorkspace(t, t.TempDir(), "ws", true)
	writeEntry(t, r, registry.Entry{Cwd: cwd, Name: "ws", HubPID: os.Getpid(), HubURL: hub.URL})

	// The shortest interval makes every result stale at once.
	c := New(Options{Registry: r, Interval: time.Nanosecond})
	for i := range 3 {
		if s := c.Refresh(context.Background()); status(s, cwd) != StatusRunning {
			t.Fatalf("status %q, want running", status(s, cwd))
		}
		if got := c.probes.syncProbes.Load(); got != int64(i+1) {
			t.Fatalf("after %d collections %d probes were waited for, want %d", i+1, got, i+1)
		}
	}
}

// TestRunCancelsBackgroundProbes checks that Run, when its context ends,
// cuts short the background probes in flight rather than waiting out
// HealthTimeout, and leaves no goroutine behind. It counts the whole
// binary's goroutines and sets HealthTimeout, so it stays sequential.
func TestRunCancelsBackgroundProbes(t *testing.T) {
	// Far longer than the test waits for Run to return, so returning
	// proves the probes were cancelled.
	healthTimeout(t, 2*time.Minute)
	r := registry.ForHome(t.TempDir())
	root := t.TempDir()
	hub := newSwitchableHub(t)
	for _, name := range []string{"a", "b", "c"} {
		writeEntry(t, r, registry.Entry{Cwd: newWorkspace(t, root, name, true), Name: name, HubPID: os.Getpid(), HubURL: hub.URL})
	}
	baseline := runtime.NumGoroutine()

	c := New(Options{Registry: r, Interval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, c, 10*time.Second, "running hubs", func(s *Snapshot) bool { return s.Counts().Of(StatusRunning) == 3 })

	hub.hang.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for hub.hanging.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if hub.hanging.Load() == 0 {
		t.Fatal("no background probe reached the hub within 10s")
	}

	// A probe the hub still holds was not cut short.
	stopRun(t, cancel, done, baseline, func() bool { return hub.hanging.Load() == 0 })
}

// TestResourcesReused checks when a hub's resources are measured again:
// periodic collections always re-measure, others reuse a measurement younger
// than the interval of the same process, with the uptime brought up to date.
func TestResourcesReused(t *testing.T) {
	t.Parallel()
	o := newOwn(t)
	root := t.TempDir()
	cwd := newWorkspace(t, root, "ws", true)
	pid, url := startHub(t, o, cwd, false)
	writeEntry(t, o.reg, registry.Entry{Cwd: cwd, Name: "ws", HubPID: pid, HubURL: url})

	tests := []struct {
		name     string
		interval time.Duration
		periodic []bool // collections after the first, which is periodic
		want     int64  // processes measured by those
	}{
		{"change-driven collections reuse", time.Hour, []bool{false, false}, 0},
		{"periodic collections re-measure", time.Hour, []bool{true, false, true}, 2},
		{"old measurements are not reused", time.Nanosecond, []bool{false, false}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{Registry: o.reg, Interval: tt.interval})
			if !c.lockAndCollect(context.Background(), true) {
				t.Fatal("first collection did not run")
			}
			first, ok := c.Snapshot().Workspace(registry.WorkspaceID(cwd))
			if !ok || first.Resources == nil || c.resources.measured.Load() != 1 {
				t.Fatalf("first collection: resources %+v, %d measured", first.Resources, c.resources.measured.Load())
			}
			for _, periodic := range tt.periodic {
				c.lockAndCollect(context.Background(), periodic)
			}
			if got := c.resources.measured.Load() - 1; got != tt.want {
				t.Errorf("%d measured after the first collection, want %d", got, tt.want)
			}
			last, _ := c.Snapshot().Workspace(registry.WorkspaceID(cwd))
			if last.Resources == nil || last.Resources.Uptime < first.Resources.Uptime || !slices.Equal(last.Resources.Ports, first.Resources.Ports) {
				t.Errorf("resources went from %+v to %+v", first.Resources, last.Resources)
			}
		})
	}
}
