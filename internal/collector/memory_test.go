package collector

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boneyard/internal/journal"
	"boneyard/lock"
	"boneyard/registry"
)

// openJournal opens the journal in dir; the test closes it.
func openJournal(t testing.TB, dir string) *journal.Journal {
	t.Helper()
	j, err := journal.Open(dir, journal.Options{StateDir: lock.StateDir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// run runs c until stop, which waits for Run to return.
func run(t testing.TB, c *Collector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, c, 10*time.Second, "first snapshot", func(s *Snapshot) bool { return s.Seq > 0 })
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func downOf(s *Snapshot, cwd string) (Workspace, bool) {
	return s.DownWorkspace(registry.WorkspaceID(cwd))
}

func tableIDs(s *Snapshot) []string {
	var ids []string
	for _, w := range s.Table() {
		ids = append(ids, w.ID)
	}
	return ids
}

// TestJournalRemembers follows workspaces through a kill, a clean stop, a
// reap, an acknowledgement, a forget and a restart of boneyard, as the
// snapshots show them.
func TestJournalRemembers(t *testing.T) {
	t.Parallel()
	o := newOwn(t)
	root := t.TempDir()
	jdir := filepath.Join(t.TempDir(), "boneyard")
	j := openJournal(t, jdir)
	// An hour's interval: only the exit watcher can notice a kill, which
	// touches no file.
	c := New(Options{Registry: o.reg, Interval: time.Hour, Debounce: 5 * time.Millisecond, Scan: o.scan, Journal: j})
	stop := run(t, c)

	killed, stopped, reaped := newWorkspace(t, root, "a-killed", true), newWorkspace(t, root, "b-stopped", true), newWorkspace(t, root, "c-reaped", true)
	kid, sid, rid := registry.WorkspaceID(killed), registry.WorkspaceID(stopped), registry.WorkspaceID(reaped)
	hk, hs, hr := startBonesHub(t, o, killed), startBonesHub(t, o, stopped), startBonesHub(t, o, reaped)
	waitFor(t, c, 10*time.Second, "three running hubs", func(s *Snapshot) bool {
		n := 0
		for _, w := range s.Workspaces {
			if w.Status == StatusRunning {
				n++
			}
		}
		return n == 3
	})

	hk.Kill()
	s := waitFor(t, c, 10*time.Second, "the killed hub down", func(s *Snapshot) bool { _, ok := downOf(s, killed); return ok })
	w, _ := downOf(s, killed)
	if w.Status != StatusDown || !w.Down.Died() || w.Death == nil || w.Death.PID != hk.PID || w.Deaths != 1 || w.Flapping {
		t.Errorf("killed: %+v (down %+v), want down after a death of pid %d", w, w.Down, hk.PID)
	}
	if !strings.HasPrefix(w.Down.Summary(time.Now()), "hub died ") || !strings.Contains(w.Down.Detail, "killed: no clean stop in hub.log") {
		t.Errorf("killed: summary %q, detail %q; want a death without a clean stop", w.Down.Summary(time.Now()), w.Down.Detail)
	}
	if n := s.Counts(); n.Deaths != 1 || n.Attention() != 1 || n.Of(StatusDown) != 1 || s.Attention() != 1 {
		t.Errorf("counts: deaths %d, attention %d, down %d; want 1, 1, 1", n.Deaths, n.Attention(), n.Of(StatusDown))
	}
	if len(s.Notices) != 1 || s.Notices[0].WorkspaceID != kid || s.Notices[0].Title != "a-killed" || !strings.HasPrefix(s.Notices[0].Body, "hub died (killed: ") {
		t.Errorf("notices %+v, want one for the death", s.Notices)
	}
	if e := s.Events(EventFilter{WorkspaceID: kid}); len(e) != 2 || e[0].Kind != journal.KindHubDied || e[1].Kind != journal.KindHubStarted {
		t.Errorf("events of the killed workspace %+v, want hub-died after hub-started", e)
	}

	hs.Cmd.Process.Signal(syscall.SIGTERM)
	// The hub removes its entry, then exits: once it is gone, it is down.
	s = waitFor(t, c, 10*time.Second, "the stopped hub down and gone", func(s *Snapshot) bool {
		_, ok := downOf(s, stopped)
		return ok && len(s.Orphans) == 0
	})
	w, _ = downOf(s, stopped)
	if w.Down.Died() || w.Death != nil || !strings.HasPrefix(w.Down.Summary(time.Now()), "hub stopped cleanly ") {
		t.Errorf("stopped: %+v, want a clean stop", w.Down)
	}
	if len(s.Notices) != 1 || s.Attention() != 1 {
		t.Errorf("after the clean stop: %d notices, attention %d; want 1, 1", len(s.Notices), s.Attention())
	}
	// The death sorts with the problems, the clean stop with the healthy.
	if got := tableIDs(s); !slices.Equal(got, []string{kid, sid, rid}) && !slices.Equal(got, []string{kid, rid, sid}) {
		t.Errorf("table %v, want the killed workspace first", got)
	}
	if got := tableIDs(s); got[len(got)-1] != rid {
		t.Errorf("table %v, want the running hub last", got)
	}

	rw, _ := s.Workspace(rid)
	if _, err := c.ReapWorkspace(rw, hr.PID, rw.HubStarted); err != nil {
		t.Fatal(err)
	}
	s = c.Refresh(context.Background())
	w, ok := downOf(s, reaped)
	if !ok || w.Down.What != "hub reaped" || w.Death != nil || !strings.HasPrefix(w.Down.Detail, "reaped from the dashboard: SIGTERM; clean stop in hub.log at ") {
		t.Errorf("reaped: %+v, %v; want down, reaped with a clean stop", w.Down, ok)
	}
	if e := s.Events(EventFilter{WorkspaceID: rid}); len(e) != 2 || e[0].Kind != journal.KindReaped {
		t.Errorf("events of the reaped workspace %+v, want reaped after hub-started and nothing else", e)
	}
	if len(s.Notices) != 1 {
		t.Errorf("after the reap: notices %+v, want still the one death", s.Notices)
	}

	if _, err := c.Acknowledge(kid); err != nil {
		t.Fatal(err)
	}
	s = c.Refresh(context.Background())
	w, _ = downOf(s, killed)
	if w.Death != nil || s.Attention() != 0 || !w.Down.Died() {
		t.Errorf("after acknowledging: death %+v, attention %d; want none, 0, and still down by a death", w.Death, s.Attention())
	}
	if got := tableIDs(s); !slices.Equal(got, []string{kid, sid, rid}) {
		t.Errorf("table %v, want the down workspaces by name", got)
	}

	if _, err := c.Forget(sid); err != nil {
		t.Fatal(err)
	}
	s = c.Refresh(context.Background())
	if _, ok := downOf(s, stopped); ok {
		t.Error("a forgotten workspace is still down")
	}
	var statuses []string
	for _, k := range s.KnownWorkspaces() {
		statuses = append(statuses, k.Name+"="+k.Status)
	}
	if got := strings.Join(statuses, ","); got != "a-killed=down,c-reaped=down" && got != "c-reaped=down,a-killed=down" {
		t.Errorf("known %s, want a-killed and c-reaped down", got)
	}
	for _, tt := range []struct {
		id     string
		reason Reason
	}{{sid, NotFound}, {"0000000000000000", NotFound}} {
		var r *Refusal
		if _, err := c.Forget(tt.id); !errors.As(err, &r) || r.Reason != tt.reason {
			t.Errorf("Forget(%s) = %v, want a refusal (%d)", tt.id, err, tt.reason)
		}
	}

	// boneyard restarts: the history and the down workspaces are there.
	stop()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2 := openJournal(t, jdir)
	t.Cleanup(func() { j2.Close() })
	c2 := New(Options{Registry: o.reg, Interval: time.Hour, Scan: o.scan, Journal: j2})
	if e := c2.Snapshot().Events(EventFilter{Kind: journal.KindHubDied}); len(e) != 1 || e[0].WorkspaceID != kid {
		t.Errorf("events before the first collection %+v, want the death", e)
	}
	s = c2.Refresh(context.Background())
	w, ok = downOf(s, killed)
	if !ok || !w.Down.Died() || w.Death != nil {
		t.Errorf("after the restart: %+v, %v; want the killed workspace down, its death acknowledged", w.Down, ok)
	}
	if len(s.Notices) != 0 {
		t.Errorf("after the restart: notices %+v, want none for old news", s.Notices)
	}
}

// TestRemoveRecorded checks that removing an entry is recorded once, as
// boneyard's action, and that the hub it leaves running is not announced.
func TestRemoveRecorded(t *testing.T) {
	t.Parallel()
	o := newOwn(t)
	j := openJournal(t, filepath.Join(t.TempDir(), "boneyard"))
	t.Cleanup(func() { j.Close() })
	c := New(Options{Registry: o.reg, Interval: time.Hour, Debounce: 5 * time.Millisecond, Scan: o.scan, Journal: j})
	run(t, c)
	dir := newWorkspace(t, t.TempDir(), "left", true)
	h := startBonesHub(t, o, dir)
	id := registry.WorkspaceID(dir)
	s := waitFor(t, c, 10*time.Second, "the hub running", func(s *Snapshot) bool {
		w, ok := s.Workspace(id)
		return ok && w.Status == StatusRunning
	})
	w, _ := s.Workspace(id)
	if err := c.Remove(w); err != nil {
		t.Fatal(err)
	}
	s = c.Refresh(context.Background())
	if _, ok := s.Orphan(h.PID); !ok {
		t.Fatalf("the hub %d is not an orphan after the removal", h.PID)
	}
	var got []string
	for _, e := range s.Events(EventFilter{}) {
		got = append(got, string(e.Kind)+": "+e.Detail)
	}
	want := []string{"removed: registry entry removed from the dashboard; its hub (pid " + strconv.Itoa(h.PID) + ") keeps running, as an orphan", "hub-started: pid " + strconv.Itoa(h.PID)}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	if len(s.Notices) != 0 {
		t.Errorf("notices %+v, want none for boneyard's own action", s.Notices)
	}
}
