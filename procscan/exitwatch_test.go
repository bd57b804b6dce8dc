package procscan

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// exitBound is how long a test waits for an exit report before failing;
// the figures the watcher reaches are in BenchmarkExitWatchLatency.
const exitBound = 10 * time.Second

// watcherKinds are the ways an ExitWatcher can watch: through the kernel
// (pidfd, kqueue; skipped where there is none) and by polling.
var watcherKinds = []struct {
	name string
	open func(t testing.TB) *ExitWatcher
}{
	{"kernel", func(t testing.TB) *ExitWatcher {
		w := NewExitWatcher(50 * time.Millisecond)
		if w.Method() == "poll" {
			w.Close()
			t.Skip("no kernel exit notification on this platform")
		}
		return w
	}},
	{"poll", func(testing.TB) *ExitWatcher { return newExitWatcher(50*time.Millisecond, nil) }},
}

// sleepers starts n sleeping children, left zombies when killed until the
// test ends.
func sleepers(t testing.TB, n int) []*hubtest.Proc {
	t.Helper()
	kids := make([]*hubtest.Proc, n)
	for i := range kids {
		kids[i] = hubtest.Start(t, hubtest.Options{Mode: "sleep", NoReap: true})
	}
	return kids
}

func kidPIDs(kids []*hubtest.Proc) []int {
	pids := make([]int, len(kids))
	for i, k := range kids {
		pids[i] = k.PID
	}
	return pids
}

// bareSleepers starts n sleeping children with no pipes to this process
// (their output goes to the null device), so that their deaths close
// nothing here; they are killed and collected when the test ends.
func bareSleepers(t testing.TB, n int) []*hubtest.Proc {
	t.Helper()
	kids := make([]*hubtest.Proc, n)
	for i := range kids {
		cmd := hubtest.Command(hubtest.Bin("bones"), "sleep")
		cmd.Stderr = nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		kids[i] = &hubtest.Proc{Cmd: cmd, PID: cmd.Process.Pid}
	}
	return kids
}

// kill sends SIGKILL without collecting the child, so that its pipes stay
// open and the test's descriptor count moves only with the watcher's.
func kill(t testing.TB, k *hubtest.Proc) {
	t.Helper()
	if err := k.Cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %d: %v", k.PID, err)
	}
}

// nextExit waits up to exitBound for a reported pid.
func nextExit(t testing.TB, w *ExitWatcher) int {
	t.Helper()
	select {
	case pid, ok := <-w.Exits():
		if !ok {
			t.Fatal("Exits closed")
		}
		return pid
	case <-time.After(exitBound):
		t.Fatalf("no exit reported within %v", exitBound)
		return 0
	}
}

// noExit fails if an exit is reported within d. It can only miss a wrong
// report, never invent one, on a slow machine.
func noExit(t testing.TB, w *ExitWatcher, d time.Duration) {
	t.Helper()
	select {
	case pid := <-w.Exits():
		t.Fatalf("unexpected exit of %d reported", pid)
	case <-time.After(d):
	}
}

func TestExitWatcherReportsKill(t *testing.T) {
	for _, kind := range watcherKinds {
		t.Run(kind.name, func(t *testing.T) {
			w := kind.open(t)
			defer w.Close()
			kids := sleepers(t, 3)
			if err := w.Watch(kidPIDs(kids)); err != nil {
				t.Fatal(err)
			}
			noExit(t, w, 100*time.Millisecond)
			kill(t, kids[1])
			if got := nextExit(t, w); got != kids[1].PID {
				t.Fatalf("reported %d, want the killed %d", got, kids[1].PID)
			}
			noExit(t, w, 100*time.Millisecond)
			if got, want := w.Watching(), kidPIDs(kids); !slices.Equal(got, sorted(want)) {
				t.Errorf("Watching() = %v, want %v (a reported pid stays until left out)", got, sorted(want))
			}
			// The same set again reports nothing new.
			if err := w.Watch(kidPIDs(kids)); err != nil {
				t.Fatal(err)
			}
			noExit(t, w, 100*time.Millisecond)
		})
	}
}

func sorted(pids []int) []int {
	s := slices.Clone(pids)
	slices.Sort(s)
	return s
}

func TestExitWatcherAlreadyDead(t *testing.T) {
	for _, kind := range watcherKinds {
		t.Run(kind.name, func(t *testing.T) {
			tests := []struct {
				name string
				pid  func(t *testing.T) int
			}{
				{"collected", func(t *testing.T) int { return hubtest.DeadPID(t) }},
				{"zombie", func(t *testing.T) int {
					p := hubtest.Start(t, hubtest.Options{Mode: hubtest.ExitMode, NoReap: true})
					eventually(t, "the child to exit", func() bool { return !Alive(p.PID) })
					return p.PID
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					w := kind.open(t)
					defer w.Close()
					pid := tt.pid(t)
					if err := w.Watch([]int{pid}); err != nil {
						t.Fatal(err)
					}
					if got := nextExit(t, w); got != pid {
						t.Fatalf("reported %d, want %d", got, pid)
					}
					if err := w.Watch([]int{pid}); err != nil {
						t.Fatal(err)
					}
					noExit(t, w, 100*time.Millisecond)
					// Left out, then named again: watched afresh.
					if err := w.Watch(nil); err != nil {
						t.Fatal(err)
					}
					if err := w.Watch([]int{pid}); err != nil {
						t.Fatal(err)
					}
					if got := nextExit(t, w); got != pid {
						t.Fatalf("re-watched: reported %d, want %d", got, pid)
					}
				})
			}
		})
	}
}

// TestExitWatcherDropped: a pid left out of the set is not reported when
// it exits later.
func TestExitWatcherDropped(t *testing.T) {
	for _, kind := range watcherKinds {
		t.Run(kind.name, func(t *testing.T) {
			w := kind.open(t)
			defer w.Close()
			kids := sleepers(t, 2)
			if err := w.Watch(kidPIDs(kids)); err != nil {
				t.Fatal(err)
			}
			if err := w.Watch([]int{kids[1].PID, -1, 0}); err != nil {
				t.Fatal(err)
			}
			kill(t, kids[0])
			kill(t, kids[1])
			if got := nextExit(t, w); got != kids[1].PID {
				t.Fatalf("reported %d, want only %d", got, kids[1].PID)
			}
			noExit(t, w, 200*time.Millisecond)
		})
	}
}

// openFDs lists this process's open file descriptors and what they name,
// leaving out the /proc files a liveness check has open for a moment.
func openFDs(t testing.TB) []string {
	t.Helper()
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		var fds []string
		for _, e := range entries {
			target, _ := os.Readlink(dir + "/" + e.Name())
			if !strings.HasPrefix(target, "/proc/") {
				fds = append(fds, e.Name()+" "+target)
			}
		}
		return fds
	}
	t.Skip("no way to list open file descriptors here")
	return nil
}

// checkFDs fails unless want descriptors are open.
func checkFDs(t testing.TB, when string, want int) {
	t.Helper()
	if fds := openFDs(t); len(fds) != want {
		t.Errorf("%s: %d descriptors open, want %d:\n%s", when, len(fds), want, strings.Join(fds, "\n"))
	}
}

// TestExitWatcherReleasesFDs: every pidfd is closed once its pid exits, is
// dropped, or the watcher closes.
func TestExitWatcherReleasesFDs(t *testing.T) {
	for _, kind := range watcherKinds {
		t.Run(kind.name, func(t *testing.T) {
			kids := bareSleepers(t, 10)
			// The runtime's poller opens its own descriptors on first use.
			warm := kind.open(t)
			warm.Watch(kidPIDs(kids))
			warm.Close()
			base := len(openFDs(t))

			w := kind.open(t)
			if err := w.Watch(kidPIDs(kids)); err != nil {
				t.Fatal(err)
			}
			perPID := 0
			if w.Method() == "pidfd" {
				perPID = 1
			}
			checkFDs(t, "watching 10", base+10*perPID+kqueueFDs(w))
			for _, k := range kids[:3] {
				kill(t, k)
			}
			var got []int
			for range 3 {
				got = append(got, nextExit(t, w))
			}
			if !slices.Equal(sorted(got), sorted(kidPIDs(kids[:3]))) {
				t.Fatalf("reported %v, want %v", got, kidPIDs(kids[:3]))
			}
			if err := w.Watch(kidPIDs(kids[6:])); err != nil {
				t.Fatal(err)
			}
			checkFDs(t, "3 exited, 3 dropped", base+4*perPID+kqueueFDs(w))
			w.Close()
			checkFDs(t, "after Close", base)
			if _, ok := <-w.Exits(); ok {
				t.Error("Exits not closed by Close")
			}
			if err := w.Watch(kidPIDs(kids)); err != ErrWatcherClosed {
				t.Errorf("Watch after Close: %v, want ErrWatcherClosed", err)
			}
		})
	}
}

// kqueueFDs is the descriptor a kqueue watcher holds whatever it watches.
func kqueueFDs(w *ExitWatcher) int {
	if w.Method() == "kqueue" {
		return 1
	}
	return 0
}

func TestExitWatcherMethod(t *testing.T) {
	want := map[string]string{"linux": "pidfd", "darwin": "kqueue"}[runtime.GOOS]
	w := NewExitWatcher(0)
	defer w.Close()
	if want != "" && w.Method() != want {
		t.Errorf("Method() = %q on %s, want %q", w.Method(), runtime.GOOS, want)
	}
	if w.interval != DefaultExitPoll {
		t.Errorf("interval %v, want DefaultExitPoll", w.interval)
	}
}
