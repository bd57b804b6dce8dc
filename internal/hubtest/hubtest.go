// Package hubtest runs a package's test binary as a fake bones hub, so that
// tests exercise real processes, real files and real HTTP servers instead of
// mocks.
//
// A package hands its TestMain to Main with the modes its children can play.
// Main links the test binary into a temporary directory as `bones` (the name
// the process scan looks for), and Start runs that link in a mode, in a
// workspace directory, waits until the child reports ready and kills it when
// the test ends. The child's side offers the behaviours most fake hubs share:
// serving HTTP on 127.0.0.1:0, hanging every connection, ignoring SIGTERM and
// lingering for a bounded lifetime.
//
// For the tests themselves it offers what several packages need: Workspace
// makes a workspace directory, HomeEnv gives a child its own home (so tests
// with explicit directories can run in parallel, where SetHome cannot),
// DeadPID a pid that is gone, ClosedURL a URL nothing listens on, and
// LockedBuffer a log destination for concurrent writers. OpenDir and
// SharedBin let a child run as another user (Options.SysProcAttr). On Unix,
// UntrustedFiles are the files a safe reader must refuse (a FIFO, links, a
// sparse 1 TiB file) and Bounded fails a call that blocks on one. FakeBones
// is the end-to-end suite's stand-in for the bones CLI, for tests that
// start and stop hubs through it.
//
// hubtest imports no boneyard package, so every package's in-package tests
// may use it; what a hub registers (its registry entry, a workspace lock) is
// left to the caller's hooks.
package hubtest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// modeEnv tells a re-executed test binary which mode to play instead of
	// running the tests.
	modeEnv = "BONEYARD_HUBTEST_MODE"
	// lifetimeEnv carries Options.Lifetime to the child.
	lifetimeEnv = "BONEYARD_HUBTEST_LIFETIME"
)

// ExitMode is built into Main: the child reports ready and exits at once.
const ExitMode = "exit"

// DefaultLifetime bounds every child, so that one a test failed to stop
// cannot linger.
const DefaultLifetime = 2 * time.Minute

// names are the names the test binary is linked under: the hub's own and a
// decoy that merely ends in it.
var names = []string{"bones", "notbones"}

// binDir holds the links of the test binary; Main sets it.
var binDir string

// Main is a package's TestMain. In a child started by Start or Command it
// plays the requested mode, a key of modes or ExitMode, and exits with the
// mode's result; otherwise it links the test binary under the names Bin
// serves, runs the tests and exits with their result.
//
// Before the tests run, Main gives the test process (and so every child
// that does not get another one through Options.Env) an empty temporary
// home, as HomeEnv describes: no test, and no forgotten child, can touch
// the registry or the state of the user running the tests.
func Main(m *testing.M, modes map[string]func() int) {
	os.Exit(Run(m, modes))
}

// Run is Main for a TestMain with more to do before it exits: it returns
// the exit code instead of exiting.
func Run(m *testing.M, modes map[string]func() int) int {
	if mode := os.Getenv(modeEnv); mode != "" {
		return play(mode, modes)
	}
	return runTests(m)
}

func play(mode string, modes map[string]func() int) int {
	if f, ok := modes[mode]; ok {
		return f()
	}
	if mode == ExitMode {
		return Exit()
	}
	fmt.Fprintf(os.Stderr, "hubtest: unknown mode %q\n", mode)
	return 2
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hubtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "hubtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "hubtest:", err)
		return 1
	}
	buildEnv = os.Environ()
	for _, kv := range HomeEnv(home) {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	binDir = dir
	if err := linkBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, "hubtest: prepare fake bones binary:", err)
		return 1
	}
	return m.Run()
}

// linkBinaries links (or, across file systems, copies) the test binary into
// binDir under every name. It runs before any test starts a process: a file
// still open for writing while another goroutine forks cannot be executed
// (ETXTBSY).
func linkBinaries() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := os.Link(self, Bin(name)); err == nil {
			continue
		}
		if err := copyFile(self, Bin(name)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	return dst.Close()
}

// Bin returns the path of the test binary linked as name: "bones", which
// the process scan takes for a hub when run as `bones hub start`, or
// "notbones", a decoy. Only Main's tests have them.
func Bin(name string) string {
	if binDir == "" {
		panic("hubtest: Bin needs the package's TestMain to call hubtest.Main")
	}
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(binDir, name)
}

// OpenDir returns a fresh directory, removed when the test ends, that every
// user may enter and read (mode 0755, in the system's temporary directory):
// a workspace for a child run as another user, which t.TempDir's private
// parent would keep out.
func OpenDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hubtest-open-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// SharedBin returns a copy of the test binary named bones in an OpenDir,
// which a child run as another user can execute (Bin's directory is
// private to the test's user).
func SharedBin(t testing.TB) string {
	t.Helper()
	name := "bones"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	path := filepath.Join(OpenDir(t), name)
	if err := copyFile(Bin("bones"), path); err != nil {
		t.Fatal(err)
	}
	// A child forked by another test while the copy was open for writing
	// holds it until that child execs, and until then the copy cannot be
	// executed (ETXTBSY); one run that gets through shows all are gone.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := Command(path, ExitMode, "version").Run()
		if err == nil {
			return path
		}
		if !errors.Is(err, syscall.ETXTBSY) || time.Now().After(deadline) {
			t.Fatalf("run the copy of the test binary: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// HubArgs returns the arguments bones runs a hub with, after argv[0].
func HubArgs() []string {
	return []string{"hub", "start", "--repo-port", "0", "--drain-timeout", "30s"}
}

// Command returns a command running the executable at path with args in
// mode, for a child the test runs and waits for itself.
func Command(path, mode string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), modeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

// DeadPID returns the pid of a child that has exited and been collected.
func DeadPID(t testing.TB) int {
	t.Helper()
	cmd := Command(Bin("bones"), ExitMode, "version")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run short-lived child: %v", err)
	}
	return cmd.ProcessState.Pid()
}

// Lifetime is how long this child may live: Options.Lifetime, or
// DefaultLifetime.
func Lifetime() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(lifetimeEnv)); err == nil {
		return d
	}
	return DefaultLifetime
}
