package registry

import (
	"errors"
	"os"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/procscan"
)

// shortGrace shortens the SIGTERM grace for tests of stubborn processes.
func shortGrace(t testing.TB) {
	t.Helper()
	old := reapGrace
	reapGrace = 300 * time.Millisecond
	t.Cleanup(func() { reapGrace = old })
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
	shortGrace(t)
	tests := []struct {
		name string
		// setup starts what the entry describes and returns the entry and the
		// child, if any.
		setup      func(t *testing.T, cwd string) (Entry, *child)
		wantErr    bool
		wantKilled bool // the child must have exited
		wantEntry  bool // the entry must still exist
	}{
		{
			name: "hub exits on SIGTERM and removes its entry",
			setup: func(t *testing.T, cwd string) (Entry, *child) {
				c := startHub(t, "serve", cwd)
				e, err := Read(cwd)
				if err != nil {
					t.Fatal(err)
				}
				return e, c
			},
			wantKilled: true,
		},
		{
			name: "hub ignoring SIGTERM is killed, entry removed",
			setup: func(t *testing.T, cwd string) (Entry, *child) {
				c := startHub(t, "stubborn", cwd)
				return Entry{Cwd: cwd, HubPID: c.PID, StartedAt: time.Now()}, c
			},
			wantKilled: true,
		},
		{
			name: "dead pid: entry removed",
			setup: func(t *testing.T, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, HubPID: deadPID(t), StartedAt: time.Now()}, nil
			},
		},
		{
			name: "idle row: entry removed",
			setup: func(t *testing.T, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, Name: "idle"}, nil
			},
		},
		{
			name: "recycled pid: entry removed, process spared",
			setup: func(t *testing.T, cwd string) (Entry, *child) {
				c := startHub(t, "sleep", cwd)
				return Entry{Cwd: cwd, HubPID: c.PID, StartedAt: createTime(t, c.PID).Add(-time.Hour)}, c
			},
		},
		{
			name: "pid 1 refused",
			setup: func(t *testing.T, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, HubPID: 1, StartedAt: time.Now()}, nil
			},
			wantErr:   true,
			wantEntry: true,
		},
		{
			name: "own pid refused",
			setup: func(t *testing.T, cwd string) (Entry, *child) {
				return Entry{Cwd: cwd, HubPID: os.Getpid(), StartedAt: time.Now()}, nil
			},
			wantErr:   true,
			wantEntry: true,
		},
		{
			name: "no started_at: nothing signalled",
			setup: func(t *testing.T, cwd string) (Entry, *child) {
				c := startHub(t, "sleep", cwd)
				return Entry{Cwd: cwd, HubPID: c.PID}, c
			},
			wantErr:   true,
			wantEntry: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := hubtest.SetHome(t)
			cwd := workspace(t, home, "ws", true)
			e, c := tt.setup(t, cwd)
			if !exists(EntryPath(cwd)) {
				mustWrite(t, e)
			}
			err := Reap(e)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Reap: err = %v, wantErr %v", err, tt.wantErr)
			}
			if got := exists(EntryPath(cwd)); got != tt.wantEntry {
				t.Errorf("entry exists = %v, want %v", got, tt.wantEntry)
			}
			if c != nil {
				checkExited(t, c, tt.wantKilled)
			}
		})
	}
}

// TestReapKeepsNewerEntry reaps a dead hub's entry after a new hub took the
// workspace over: the new hub's entry stays.
func TestReapKeepsNewerEntry(t *testing.T) {
	home := hubtest.SetHome(t)
	cwd := workspace(t, home, "ws", true)
	old := Entry{Cwd: cwd, HubPID: deadPID(t), StartedAt: time.Now()}
	mustWrite(t, Entry{Cwd: cwd, Name: "new", HubPID: os.Getpid(), StartedAt: time.Now()})
	if err := Reap(old); err != nil {
		t.Fatal(err)
	}
	if got, ok := readRaw(t, cwd); !ok || got.Name != "new" {
		t.Errorf("entry = %+v (present %v), want the new hub's", got, ok)
	}
}

func TestReapPID(t *testing.T) {
	shortGrace(t)
	home := hubtest.SetHome(t)
	cwd := workspace(t, home, "ws", true)
	tests := []struct {
		name       string
		mode       string // child to start, "" for none
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *child
			pid := tt.pid
			if tt.mode != "" {
				c = startHub(t, tt.mode, cwd)
				pid = c.PID
				mustWrite(t, Entry{Cwd: cwd, HubPID: pid, StartedAt: time.Now()})
			}
			err := ReapPID(pid)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReapPID(%d): err = %v, wantErr %v", pid, err, tt.wantErr)
			}
			if c != nil {
				checkExited(t, c, true)
				if !exists(EntryPath(cwd)) {
					t.Error("ReapPID touched the registry")
				}
			}
		})
	}
}

func TestReapProcess(t *testing.T) {
	shortGrace(t)
	home := hubtest.SetHome(t)
	cwd := workspace(t, home, "ws", true)
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
			start:      func(t *testing.T) *child { return startHub(t, "sleep", cwd) },
			seen:       func(ct time.Time) time.Time { return ct },
			wantKilled: true,
		},
		{
			name:       "create time rounded differently",
			start:      func(t *testing.T) *child { return startHub(t, "stubborn", cwd) },
			seen:       func(ct time.Time) time.Time { return ct.Add(5 * time.Millisecond) },
			wantKilled: true,
		},
		{
			name:  "process started at another time",
			start: func(t *testing.T) *child { return startHub(t, "sleep", cwd) },
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
			c := tt.start(t)
			err := ReapProcess(c.PID, tt.seen(createTime(t, c.PID)))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("ReapProcess: err = %v, want %v", err, tt.want)
			}
			checkExited(t, c, tt.wantKilled)
		})
	}
	t.Run("dead pid", func(t *testing.T) {
		if err := ReapProcess(deadPID(t), time.Now()); !errors.Is(err, ErrNotHub) {
			t.Errorf("err = %v, want ErrNotHub", err)
		}
	})
	t.Run("pid 1", func(t *testing.T) {
		if err := ReapProcess(1, time.Now()); err == nil {
			t.Error("pid 1 was not refused")
		}
	})
}
