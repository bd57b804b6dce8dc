package registry

import (
	"errors"
	"os"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/procscan"
)

// shortGrace is the SIGTERM grace for tests of stubborn processes.
const shortGrace = 300 * time.Millisecond

// reaping returns a registry in a fresh home whose reaps wait shortGrace,
// and a marked workspace in that home.
func reaping(t testing.TB) (Registry, string) {
	t.Helper()
	r, home := testRegistry(t)
	r.tune = &tuning{reapGrace: shortGrace}
	return r, hubtest.Workspace(t, home, "ws", true)
}

// createTime returns a child's create time.
func createTime(t testing.TB, pid int) time.Time {
	t.Helper()
	ct, err := procscan.CreateTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

// checkExited checks whether the child exited: a killed child gets a few
// seconds to be collected, a spared one is checked after a short while.
func checkExited(t *testing.T, c *child, want bool) {
	t.Helper()
	wait := 200 * time.Millisecond
	if want {
		wait = 5 * time.Second
	}
	if got := c.Exited(wait); got != want {
		t.Errorf("process exited = %v, want %v", got, want)
	}
}

func TestReap(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// hubEntryOf describes a child as its own hub entry, started now.
	hubEntryOf := func(cwd string, c *child) Entry { return Entry{Cwd: cwd, HubPID: c.PID, StartedAt: time.Now()} }
	tests := []struct {
		name string
		// setup starts what the entry describes and returns the entry and the
		// child, if any.
		setup func(t *testing.T, r Registry, cwd string) (Entry, *child)
		// seen returns the create time the caller saw; nil for none.
		seen       func(t *testing.T, c *child) time.Time
		wantErr    bool
		want       error       // with wantErr: the error it must wrap, if any
		outcome    ReapOutcome // without wantErr
		wantKilled bool        // the child must have exited
		wantEntry  bool        // the entry must still exist
	}{
		{
			name: "hub exits on SIGTERM and removes its entry",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startHub(t, r, "serve", cwd)
				e, err := r.Read(cwd)
				if err != nil {
					t.Fatal(err)
				}
				return e, c
			},
			outcome:    ReapStopped,
			wantKilled: true,
		},
		{
			name: "hub ignoring SIGTERM is killed, entry removed",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startHub(t, r, "stubborn", cwd)
				return hubEntryOf(cwd, c), c
			},
			outcome:    ReapStopped,
			wantKilled: true,
		},
		{
			name: "create time as seen",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startHub(t, r, "sleep", cwd)
				return hubEntryOf(cwd, c), c
			},
			seen:       func(t *testing.T, c *child) time.Time { return createTime(t, c.PID) },
			outcome:    ReapStopped,
			wantKilled: true,
		},
		{
			name: "dead pid: entry removed",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, HubPID: deadPID(t), StartedAt: time.Now()}, nil
			},
			outcome: ReapExited,
		},
		{
			name: "dead pid with a create time seen: entry removed",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, HubPID: deadPID(t), StartedAt: time.Now()}, nil
			},
			seen:    func(*testing.T, *child) time.Time { return time.Now().Add(-time.Minute) },
			outcome: ReapExited,
		},
		{
			name: "zombie hub: entry removed",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := hubtest.Start(t, hubtest.Options{Mode: hubtest.ExitMode, Dir: cwd, Args: hubtest.HubArgs(), NoReap: true})
				awaitZombie(t, c.PID)
				return hubEntryOf(cwd, c), nil
			},
			outcome: ReapExited,
		},
		{
			name: "idle row: entry removed",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, Name: "idle"}, nil
			},
			outcome: ReapExited,
		},
		{
			name: "recycled pid: entry removed, process spared",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startHub(t, r, "sleep", cwd)
				return Entry{Cwd: cwd, HubPID: c.PID, StartedAt: createTime(t, c.PID).Add(-time.Hour)}, c
			},
			outcome: ReapRecycled,
		},
		{
			name: "pid 1 refused",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, HubPID: 1, StartedAt: time.Now()}, nil
			},
			wantErr:   true,
			want:      ErrNotHub,
			wantEntry: true,
		},
		{
			name: "own pid refused",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, HubPID: os.Getpid(), StartedAt: time.Now()}, nil
			},
			wantErr:   true,
			want:      ErrNotHub,
			wantEntry: true,
		},
		{
			name: "no started_at: nothing signalled",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startHub(t, r, "sleep", cwd)
				return Entry{Cwd: cwd, HubPID: c.PID}, c
			},
			wantErr:   true,
			want:      ErrUnverified,
			wantEntry: true,
		},
		{
			name: "started_at in the future: nothing signalled",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startHub(t, r, "sleep", cwd)
				return Entry{Cwd: cwd, HubPID: c.PID, StartedAt: time.Now().Add(time.Hour)}, c
			},
			wantErr:   true,
			want:      ErrUnverified,
			wantEntry: true,
		},
		{
			name: "not a bones hub: nothing signalled",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startChild(t, "sleep", cwd, exe, "hub", "start")
				return Entry{Cwd: cwd, HubPID: c.PID, StartedAt: time.Now().Add(time.Hour)}, c
			},
			wantErr:   true,
			want:      ErrNotHub,
			wantEntry: true,
		},
		{
			name: "a name merely ending in bones: nothing signalled",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startChild(t, "sleep", cwd, hubtest.Bin("notbones"), hubtest.HubArgs()...)
				return hubEntryOf(cwd, c), c
			},
			wantErr:   true,
			want:      ErrNotHub,
			wantEntry: true,
		},
		{
			name: "bones, but not hub start: nothing signalled",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startChild(t, "sleep", cwd, hubtest.Bin("bones"), "hub", "status")
				return hubEntryOf(cwd, c), c
			},
			wantErr:   true,
			want:      ErrNotHub,
			wantEntry: true,
		},
		{
			name: "create time other than seen: nothing signalled",
			setup: func(t *testing.T, r Registry, cwd string) (Entry, *child) {
				c := startHub(t, r, "sleep", cwd)
				return hubEntryOf(cwd, c), c
			},
			seen:      func(t *testing.T, c *child) time.Time { return createTime(t, c.PID).Add(-time.Second) },
			wantErr:   true,
			want:      ErrProcessChanged,
			wantEntry: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, cwd := reaping(t)
			e, c := tt.setup(t, r, cwd)
			if !exists(r.EntryPath(cwd)) {
				mustWrite(t, r, e)
			}
			var seen time.Time
			if tt.seen != nil {
				seen = tt.seen(t, c)
			}
			outcome, err := r.ReapEntry(e, seen)
			if (err != nil) != tt.wantErr || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("ReapEntry: err = %v, wantErr %v (%v)", err, tt.wantErr, tt.want)
			}
			if !tt.wantErr && outcome != tt.outcome {
				t.Errorf("outcome = %v, want %v", outcome, tt.outcome)
			}
			if got := exists(r.EntryPath(cwd)); got != tt.wantEntry {
				t.Errorf("entry exists = %v, want %v", got, tt.wantEntry)
			}
			if c != nil {
				checkExited(t, c, tt.wantKilled)
			}
		})
	}
}

// awaitZombie waits until pid, an uncollected child, has exited.
func awaitZombie(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for procscan.Alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not exit", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReapKeepsNewerEntry reaps a dead hub's entry after a new hub took the
// workspace over: the new hub's entry stays.
func TestReapKeepsNewerEntry(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	old := Entry{Cwd: cwd, HubPID: deadPID(t), StartedAt: time.Now()}
	mustWrite(t, r, Entry{Cwd: cwd, Name: "new", HubPID: os.Getpid(), StartedAt: time.Now()})
	if err := r.Reap(old); err != nil {
		t.Fatal(err)
	}
	if got, ok := readRaw(t, r, cwd); !ok || got.Name != "new" {
		t.Errorf("entry = %+v (present %v), want the new hub's", got, ok)
	}
}

// TestReapPID reaps through reapPID, which is ReapPID with a short grace.
func TestReapPID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		mode       string // child to start, "" for none
		path       string // the child's executable, "" for a hub
		pid        int
		wantErr    bool
		wantKilled bool
	}{
		{name: "polite hub", mode: "sleep", wantKilled: true},
		{name: "hub ignoring SIGTERM", mode: "stubborn", wantKilled: true},
		{name: "dead pid is a no-op", pid: deadPID(t)},
		{name: "pid 1 refused", pid: 1, wantErr: true},
		{name: "pid 0 refused", pid: 0, wantErr: true},
		{name: "negative pid refused", pid: -1, wantErr: true},
		{name: "own pid refused", pid: os.Getpid(), wantErr: true},
		{name: "not a bones hub refused", mode: "sleep", path: hubtest.Bin("notbones"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, home := testRegistry(t)
			cwd := hubtest.Workspace(t, home, "ws", true)
			var c *child
			pid := tt.pid
			if tt.mode != "" {
				if tt.path != "" {
					c = startChild(t, tt.mode, cwd, tt.path, hubtest.HubArgs()...)
				} else {
					c = startHub(t, r, tt.mode, cwd)
				}
				pid = c.PID
				mustWrite(t, r, Entry{Cwd: cwd, HubPID: pid, StartedAt: time.Now()})
			}
			err := reapPID(pid, shortGrace)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrNotHub)) {
				t.Fatalf("ReapPID(%d): err = %v, wantErr %v", pid, err, tt.wantErr)
			}
			if c != nil {
				checkExited(t, c, !tt.wantErr)
				if !exists(r.EntryPath(cwd)) {
					t.Error("ReapPID touched the registry")
				}
			}
		})
	}
}

// TestReapProcess reaps through reapProcess, which is ReapProcess with a
// short grace.
func TestReapProcess(t *testing.T) {
	t.Parallel()
	r, cwd := testRegistry(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		start      func(t *testing.T) *child
		seen       func(created time.Time) time.Time
		want       error // nil: reaped
		wantKilled bool
	}{
		{
			name:       "create time as seen",
			start:      func(t *testing.T) *child { return startHub(t, r, "sleep", cwd) },
			seen:       func(ct time.Time) time.Time { return ct },
			wantKilled: true,
		},
		{
			name:       "create time rounded differently",
			start:      func(t *testing.T) *child { return startHub(t, r, "stubborn", cwd) },
			seen:       func(ct time.Time) time.Time { return ct.Add(5 * time.Millisecond) },
			wantKilled: true,
		},
		{
			name:  "process started at another time",
			start: func(t *testing.T) *child { return startHub(t, r, "sleep", cwd) },
			seen:  func(ct time.Time) time.Time { return ct.Add(-time.Second) },
			want:  ErrProcessChanged,
		},
		{
			name:  "not a bones hub",
			start: func(t *testing.T) *child { return startChild(t, "sleep", cwd, exe, "hub", "start") },
			seen:  func(ct time.Time) time.Time { return ct },
			want:  ErrNotHub,
		},
		{
			name:  "bones, but not hub start",
			start: func(t *testing.T) *child { return startChild(t, "sleep", cwd, hubtest.Bin("bones"), "hub", "status") },
			seen:  func(ct time.Time) time.Time { return ct },
			want:  ErrNotHub,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.start(t)
			err := reapProcess(c.PID, tt.seen(createTime(t, c.PID)), shortGrace)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("ReapProcess: err = %v, want %v", err, tt.want)
			}
			checkExited(t, c, tt.wantKilled)
		})
	}
	t.Run("dead pid", func(t *testing.T) {
		t.Parallel()
		if err := ReapProcess(deadPID(t), time.Now()); !errors.Is(err, ErrNotHub) {
			t.Errorf("err = %v, want ErrNotHub", err)
		}
	})
	t.Run("pid 1", func(t *testing.T) {
		if err := ReapProcess(1, time.Now()); err == nil {
			t.Error("pid 1 was not refused")
		}
	})
	t.Run("no create time seen", func(t *testing.T) {
		t.Parallel()
		c := startHub(t, r, "sleep", cwd)
		if err := ReapProcess(c.PID, time.Time{}); !errors.Is(err, ErrProcessChanged) {
			t.Errorf("err = %v, want ErrProcessChanged", err)
		}
		checkExited(t, c, false)
	})
}

// seenHub is what a page showed of a workspace's hub, as TestReapSeen
// arranges it: the entry and pid shown, the pid of the entry ReapSeen must
// act on, and the hub process the page meant, if any.
type seenHub struct {
	shown Entry
	pid   int
	acted int
	hub   *child
}

func TestReapSeen(t *testing.T) {
	t.Parallel()
	// sleeper starts a hub that writes no entry and returns an entry for it.
	sleeper := func(t *testing.T, r Registry, cwd string) (*child, Entry) {
		c := startHub(t, r, "sleep", cwd)
		return c, Entry{Cwd: cwd, Name: "ws", HubPID: c.PID, StartedAt: time.Now()}
	}
	// registered starts a hub that writes its own entry, as the page saw it.
	registered := func(t *testing.T, r Registry, cwd string) (*child, Entry) {
		c := startHub(t, r, "serve", cwd)
		e, err := r.Read(cwd)
		if err != nil {
			t.Fatal(err)
		}
		return c, e
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, r Registry, cwd string) seenHub
		seen       func(t *testing.T, c *child) time.Time // nil: none given
		want       error                                  // nil: reaped
		outcome    ReapOutcome
		wantKilled bool
		wantEntry  bool
	}{
		{
			name: "the hub the page showed",
			setup: func(t *testing.T, r Registry, cwd string) seenHub {
				c, e := registered(t, r, cwd)
				return seenHub{shown: e, pid: c.PID, acted: c.PID, hub: c}
			},
			seen:       func(t *testing.T, c *child) time.Time { return createTime(t, c.PID) },
			outcome:    ReapStopped,
			wantKilled: true,
		},
		{
			name: "no pid or create time given",
			setup: func(t *testing.T, r Registry, cwd string) seenHub {
				c, e := registered(t, r, cwd)
				return seenHub{shown: e, acted: c.PID, hub: c}
			},
			outcome:    ReapStopped,
			wantKilled: true,
		},
		{
			name: "no entry: the hub the page showed",
			setup: func(t *testing.T, r Registry, cwd string) seenHub {
				c, e := sleeper(t, r, cwd)
				return seenHub{shown: e, pid: c.PID, acted: c.PID, hub: c}
			},
			outcome:    ReapStopped,
			wantKilled: true,
		},
		{
			name: "hub exited: its pruned entry as shown",
			setup: func(t *testing.T, r Registry, cwd string) seenHub {
				e := Entry{Cwd: cwd, Name: "ws", HubPID: deadPID(t), StartedAt: time.Now()}
				mustWrite(t, r, e)
				return seenHub{shown: e, pid: e.HubPID, acted: e.HubPID}
			},
			outcome: ReapExited,
		},
		{
			name: "entry now an idle row",
			setup: func(t *testing.T, r Registry, cwd string) seenHub {
				c, e := sleeper(t, r, cwd)
				mustWrite(t, r, Entry{Cwd: cwd, Name: "ws", StartedAt: time.Now()})
				return seenHub{shown: e, pid: c.PID, acted: 0, hub: c}
			},
			want:      ErrNoHub,
			wantEntry: true,
		},
		{
			name: "idle row shown, no entry",
			setup: func(t *testing.T, r Registry, cwd string) seenHub {
				return seenHub{shown: Entry{Cwd: cwd, Name: "ws"}}
			},
			want: ErrNoHub,
		},
		{
			name: "another hub since",
			setup: func(t *testing.T, r Registry, cwd string) seenHub {
				old, shown := sleeper(t, r, cwd)
				now, e := sleeper(t, r, cwd)
				mustWrite(t, r, e)
				t.Cleanup(func() { checkExited(t, now, false) })
				return seenHub{shown: shown, pid: old.PID, acted: now.PID, hub: old}
			},
			want:      ErrHubChanged,
			wantEntry: true,
		},
		{
			name: "create time other than seen",
			setup: func(t *testing.T, r Registry, cwd string) seenHub {
				c, e := registered(t, r, cwd)
				return seenHub{shown: e, pid: c.PID, acted: c.PID, hub: c}
			},
			seen:      func(t *testing.T, c *child) time.Time { return createTime(t, c.PID).Add(-time.Second) },
			want:      ErrProcessChanged,
			wantEntry: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, cwd := reaping(t)
			s := tt.setup(t, r, cwd)
			var seen time.Time
			if tt.seen != nil {
				seen = tt.seen(t, s.hub)
			}
			outcome, acted, err := r.ReapSeen(s.shown, s.pid, seen)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("ReapSeen: err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && outcome != tt.outcome {
				t.Errorf("outcome = %v, want %v", outcome, tt.outcome)
			}
			if acted.HubPID != s.acted || acted.Cwd != cwd {
				t.Errorf("acted on %+v, want the entry of pid %d in %s", acted, s.acted, cwd)
			}
			var changed *HubChangedError
			if errors.As(err, &changed) && (changed.Seen != s.pid || changed.Current != s.acted || changed.Cwd != cwd) {
				t.Errorf("HubChangedError %+v, want seen %d, current %d", changed, s.pid, s.acted)
			}
			if got := exists(r.EntryPath(cwd)); got != tt.wantEntry {
				t.Errorf("entry exists = %v, want %v", got, tt.wantEntry)
			}
			if s.hub != nil {
				checkExited(t, s.hub, tt.wantKilled)
			}
		})
	}
	t.Run("unreadable entry", func(t *testing.T) {
		t.Parallel()
		r, cwd := reaping(t)
		writeRaw(t, r, WorkspaceID(cwd)+".json", `{"cwd":`)
		_, acted, err := r.ReapSeen(Entry{Cwd: cwd, HubPID: deadPID(t)}, 0, time.Time{})
		if err == nil || errors.Is(err, ErrNotFound) || acted != (Entry{}) {
			t.Errorf("ReapSeen = %+v, %v; want a read error and no entry", acted, err)
		}
		if !exists(r.EntryPath(cwd)) {
			t.Error("the unreadable entry was removed")
		}
	})
}
