package lock

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// TestMain lets the test binary hold a lock: in mode "hold" it takes the
// lock on the root it is given, reports ready and keeps the lock until its
// stdin closes.
func TestMain(m *testing.M) {
	hubtest.Main(m, map[string]func() int{"hold": holdLock})
}

func holdLock() int {
	release, err := Acquire(os.Args[1])
	if err != nil {
		fmt.Println("error:", err)
		return 2
	}
	hubtest.Ready()
	hubtest.AwaitStdin()
	release()
	return 0
}

// holder is a child process holding the lock on a workspace.
type holder struct {
	*hubtest.Proc
}

// startHolder runs the test binary as a lock holder for root, with env
// added to its environment, and waits until it holds the lock.
func startHolder(t *testing.T, root string, env ...string) *holder {
	t.Helper()
	return &holder{hubtest.Start(t, hubtest.Options{Mode: "hold", Args: []string{root}, Env: env})}
}

func (h *holder) pid() int { return h.PID }

// stop lets the holder release the lock and exit cleanly.
func (h *holder) stop(t *testing.T) {
	t.Helper()
	if err := h.Stop(); err != nil {
		t.Fatalf("holder exit: %v", err)
	}
}

// kill ends the holder without giving it a chance to release anything.
func (h *holder) kill(t *testing.T) {
	t.Helper()
	if h.Exited(0) {
		t.Fatalf("kill holder: exited already: %v", h.Cmd.ProcessState)
	}
	h.Kill()
}

// testLogger returns a logger for acquire and the buffer it writes to.
func testLogger() (*slog.Logger, *hubtest.LockedBuffer) {
	buf := &hubtest.LockedBuffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

// mustAcquire takes the lock of the workspace at root with Acquire.
func mustAcquire(t *testing.T, root string) func() {
	t.Helper()
	release, err := Acquire(root)
	if err != nil {
		t.Fatalf("Acquire(%s): %v", root, err)
	}
	t.Cleanup(release)
	return release
}

// mustAcquireIn takes the lock in the state directory dir, logging to log.
func mustAcquireIn(t *testing.T, dir string, log *slog.Logger) func() {
	t.Helper()
	release, err := acquire(dir, log)
	if err != nil {
		t.Fatalf("acquire(%s): %v", dir, err)
	}
	t.Cleanup(release)
	return release
}

func pidFileContent(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(PidPath(root))
	if err != nil {
		t.Fatalf("read pid file: %v", err)
	}
	return string(data)
}

func assertHeldBy(t *testing.T, err error, pid int, path string) {
	t.Helper()
	var held *ErrLockHeld
	if !errors.As(err, &held) {
		t.Fatalf("error %v (%T) is not *ErrLockHeld", err, err)
	}
	if held.PID != pid || held.Path != path {
		t.Fatalf("ErrLockHeld = {PID:%d Path:%s}, want {PID:%d Path:%s}", held.PID, held.Path, pid, path)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(pid)) {
		t.Fatalf("Error() %q does not name pid %d", err.Error(), pid)
	}
}

// TestPaths sets BONES_DIR, so it cannot run in parallel.
func TestPaths(t *testing.T) {
	root := t.TempDir()
	abs := filepath.Join(t.TempDir(), "state")
	tests := []struct {
		name   string
		env    string
		wantSD string
	}{
		{"default", "", filepath.Join(root, ".bones")},
		{"absolute BONES_DIR", abs, abs},
		{"absolute BONES_DIR uncleaned", abs + string(filepath.Separator) + "x" + string(filepath.Separator) + "..", abs},
		{"relative BONES_DIR", "custom", filepath.Join(root, "custom")},
		{"relative nested BONES_DIR", filepath.Join("a", "b"), filepath.Join(root, "a", "b")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvDir, tc.env)
			if got := StateDir(root); got != tc.wantSD {
				t.Errorf("StateDir = %s, want %s", got, tc.wantSD)
			}
			if got, want := Path(root), filepath.Join(tc.wantSD, FileName); got != want {
				t.Errorf("Path = %s, want %s", got, want)
			}
			if got, want := PidPath(root), filepath.Join(tc.wantSD, PidFileName); got != want {
				t.Errorf("PidPath = %s, want %s", got, want)
			}
		})
	}
}

func TestAcquireRelease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dir  func(t *testing.T, root string) string // the state directory; "": Acquire(root)
	}{
		{"Acquire, default state dir", func(*testing.T, string) string { return "" }},
		{"state dir elsewhere", func(t *testing.T, _ string) string { return filepath.Join(t.TempDir(), "abs", "state") }},
		{"state dir below root", func(_ *testing.T, root string) string { return filepath.Join(root, "rel", "state") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := tc.dir(t, root)
			take := func() func() { return mustAcquireIn(t, dir, slog.Default()) }
			if dir == "" {
				dir = filepath.Join(root, ".bones")
				take = func() func() { return mustAcquire(t, root) }
			}
			lockPath, pidPath := filepath.Join(dir, FileName), filepath.Join(dir, PidFileName)
			// A temporary file left by a holder that crashed mid-write.
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(pidPath+".tmp.123", []byte("1"), 0o644); err != nil {
				t.Fatal(err)
			}
			release := take()

			if _, err := os.Stat(lockPath); err != nil {
				t.Fatalf("lock file: %v", err)
			}
			if data, err := os.ReadFile(pidPath); err != nil || string(data) != strconv.Itoa(os.Getpid())+"\n" {
				t.Fatalf("pid file = %q, %v; want this pid", data, err)
			}
			tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp.*"))
			if len(tmps) != 0 {
				t.Fatalf("temporary files left behind: %v", tmps)
			}

			release()
			release()
			if _, err := os.Stat(pidPath); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("pid file after release: %v, want not exist", err)
			}
			if _, err := os.Stat(lockPath); err != nil {
				t.Fatalf("lock file must stay after release: %v", err)
			}
			take()()
		})
	}
}

func TestAcquireSameProcessFails(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	release := mustAcquire(t, root)

	_, err := Acquire(root)
	assertHeldBy(t, err, os.Getpid(), Path(root))

	// The failed attempt must not have disturbed the holder's pid file.
	if got, want := pidFileContent(t, root), strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Fatalf("pid file after failed acquire = %q, want %q", got, want)
	}
	release()
	mustAcquire(t, root)()
}

func TestAcquireHeldByOtherProcess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  string // the holder's BONES_DIR
		dir  string // the state directory below root
	}{
		{"default state dir", "", ".bones"},
		{"relative BONES_DIR", "elsewhere", "elsewhere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			dir := filepath.Join(root, tc.dir)
			h := startHolder(t, root, EnvDir+"="+tc.env)

			_, err := acquire(dir, slog.Default())
			assertHeldBy(t, err, h.pid(), filepath.Join(dir, FileName))
			pidPath := filepath.Join(dir, PidFileName)
			if data, err := os.ReadFile(pidPath); err != nil || string(data) != strconv.Itoa(h.pid())+"\n" {
				t.Fatalf("pid file = %q, %v; want the holder's pid %d", data, err, h.pid())
			}

			h.stop(t)
			if _, err := os.Stat(pidPath); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("holder's release left the pid file: %v", err)
			}
			mustAcquireIn(t, dir, slog.Default())()
		})
	}
}

func TestAcquireRecoversStaleHolder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stale func(t *testing.T, root string) int // leaves a stale pid file, returns its pid
	}{
		{"pid file names a dead process", func(t *testing.T, root string) int {
			pid := hubtest.DeadPID(t)
			if err := os.MkdirAll(StateDir(root), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(PidPath(root), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return pid
		}},
		{"holder killed", func(t *testing.T, root string) int {
			h := startHolder(t, root)
			h.kill(t)
			return h.pid()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			stalePID := tc.stale(t, root)
			log, logs := testLogger()

			mustAcquireIn(t, StateDir(root), log)

			if got, want := pidFileContent(t, root), strconv.Itoa(os.Getpid())+"\n"; got != want {
				t.Fatalf("pid file = %q, want %q", got, want)
			}
			out := logs.String()
			if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "stale_pid="+strconv.Itoa(stalePID)) {
				t.Fatalf("no warning naming stale pid %d; log:\n%s", stalePID, out)
			}
		})
	}
}

func TestAcquireReplacesMalformedPidFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(StateDir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(PidPath(root), []byte("not a pid"), 0o644); err != nil {
		t.Fatal(err)
	}
	log, logs := testLogger()
	mustAcquireIn(t, StateDir(root), log)
	if got, want := pidFileContent(t, root), strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Fatalf("pid file = %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), "unreadable holder pid file") {
		t.Fatalf("no warning about the malformed pid file; log:\n%s", logs.String())
	}
}

func TestAcquireStateDirIsAFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, ".bones"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Acquire(root)
	var held *ErrLockHeld
	if err == nil || errors.As(err, &held) {
		t.Fatalf("Acquire with .bones as a file: %v, want a plain error", err)
	}
	if !strings.Contains(err.Error(), StateDir(root)) {
		t.Fatalf("error %q does not name the state directory", err)
	}
}

func TestErrLockHeldMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  ErrLockHeld
		want []string
	}{
		{"known pid", ErrLockHeld{PID: 4242, Path: "/w/.bones/hub.lock"}, []string{"4242", "/w/.bones/hub.lock", "stop it"}},
		{"unknown pid", ErrLockHeld{Path: "/w/.bones/hub.lock"}, []string{"another process", "/w/.bones/hub.lock"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Error() = %q, missing %q", msg, w)
				}
			}
		})
	}
}

func TestProbe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, root string) State // arranges the workspace, returns the expected state
	}{
		{"missing state dir", func(t *testing.T, root string) State {
			return State{Path: Path(root)}
		}},
		{"state dir without lock file", func(t *testing.T, root string) State {
			if err := os.MkdirAll(StateDir(root), 0o755); err != nil {
				t.Fatal(err)
			}
			return State{Path: Path(root)}
		}},
		{"held by this process", func(t *testing.T, root string) State {
			mustAcquire(t, root)
			return State{Held: true, PID: os.Getpid(), Path: Path(root)}
		}},
		{"released by this process", func(t *testing.T, root string) State {
			mustAcquire(t, root)()
			return State{Path: Path(root)}
		}},
		{"held by a child", func(t *testing.T, root string) State {
			h := startHolder(t, root)
			return State{Held: true, PID: h.pid(), Path: Path(root)}
		}},
		{"released by a child", func(t *testing.T, root string) State {
			startHolder(t, root).stop(t)
			return State{Path: Path(root)}
		}},
		{"holder killed", func(t *testing.T, root string) State {
			startHolder(t, root).kill(t)
			return State{Path: Path(root)}
		}},
		{"stale pid file without holder", func(t *testing.T, root string) State {
			mustAcquire(t, root)()
			if err := os.WriteFile(PidPath(root), []byte(strconv.Itoa(hubtest.DeadPID(t))+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return State{Path: Path(root)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			want := tc.setup(t, root)
			got, err := Probe(root)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if got != want {
				t.Fatalf("Probe = %+v, want %+v", got, want)
			}
		})
	}
}

// TestProbeNeverBreaksAcquire polls Probe as fast as it can while the lock
// is taken and released over and over: every Acquire must succeed.
func TestProbeNeverBreaksAcquire(t *testing.T) {
	t.Parallel()
	const (
		iterations = 500
		budget     = 3 * time.Second
	)
	root := t.TempDir()
	stop := make(chan struct{})
	probeErr := make(chan error, 1)
	var probes int
	go func() {
		defer close(probeErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := Probe(root); err != nil {
				probeErr <- err
				return
			}
			probes++
		}
	}()

	deadline := time.Now().Add(budget)
	n := 0
	for ; n < iterations && time.Now().Before(deadline); n++ {
		release, err := Acquire(root)
		if err != nil {
			close(stop)
			t.Fatalf("Acquire %d failed while probing: %v", n, err)
		}
		release()
	}
	close(stop)
	if err := <-probeErr; err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if probes == 0 {
		t.Fatal("Probe never ran")
	}
	t.Logf("%d acquire/release cycles against %d probes", n, probes)
}

// TestTableProbe probes several workspaces through one table, as a
// collection does, and expects what Probe reports for each.
func TestTableProbe(t *testing.T) {
	t.Parallel()
	type ws struct {
		root string
		want State
	}
	var all []ws
	add := func(root string, want State) { all = append(all, ws{root, want}) }

	free := t.TempDir()
	add(free, State{Path: Path(free)})
	mine := t.TempDir()
	mustAcquire(t, mine)
	add(mine, State{Held: true, PID: os.Getpid(), Path: Path(mine)})
	child := t.TempDir()
	h := startHolder(t, child)
	add(child, State{Held: true, PID: h.pid(), Path: Path(child)})
	released := t.TempDir()
	mustAcquire(t, released)()
	add(released, State{Path: Path(released)})

	table := ReadTable()
	for _, w := range all {
		got, err := table.Probe(w.root)
		if err != nil {
			t.Fatalf("Table.Probe(%s): %v", w.root, err)
		}
		if got != w.want {
			t.Errorf("Table.Probe(%s) = %+v, want %+v", w.root, got, w.want)
		}
		if single, err := Probe(w.root); err != nil || single != got {
			t.Errorf("Probe(%s) = %+v, %v; the table said %+v", w.root, single, err, got)
		}
	}
}
