package registry

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/procscan"
)

// TestMain lets the test binary play, in its working directory:
//
//	serve:    serves HTTP 404s on 127.0.0.1:0, writes its live entry, and on
//	          SIGTERM removes it and exits, as bones does;
//	hang:     accepts TCP on 127.0.0.1:0 but never answers, writes its entry;
//	stubborn: ignores SIGTERM;
//	sleep:    just waits (a hub the registry does not know);
//	writer:   rewrites its entry in a tight loop (crash tests kill it);
//	flipper:  flips its entry between a dead pid and its own, looking at it
//	          after each live write, then reports (see flipper);
//	exit:     exits at once (its pid is then dead).
//
// Children write to the registry of their $HOME (startHub passes the
// test's).
func TestMain(m *testing.M) {
	hubtest.Main(m, map[string]func() int{
		"serve":    func() int { return fakeHub(http.NotFoundHandler(), true) },
		"hang":     func() int { return fakeHub(nil, false) },
		"stubborn": stubborn,
		"sleep":    hubtest.Sleep,
		"writer":   writer,
		"flipper":  flipper,
	})
}

// fakeHub plays a hub answering with h (nil: hanging) that writes its live
// entry and, with removeOnTerm, removes it on SIGTERM.
func fakeHub(h http.Handler, removeOnTerm bool) int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hub := hubtest.Hub{Handler: h, OnReady: func(url string) error {
		e := hubEntry(cwd)
		e.HubURL, e.NATSURL = url, "nats://127.0.0.1:4222"
		return Write(e)
	}}
	if removeOnTerm {
		hub.OnTerm = func() { Remove(cwd) }
	}
	return hub.Run()
}

// hubEntry is the entry of a hub in cwd run by this process.
func hubEntry(cwd string) Entry {
	return Entry{Cwd: cwd, Name: filepath.Base(cwd), HubPID: os.Getpid(), StartedAt: time.Now().UTC()}
}

func stubborn() int {
	hubtest.IgnoreTerm()
	return hubtest.Sleep()
}

// writer rewrites its entry until killed or its lifetime ends.
func writer() int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	entry := hubEntry(cwd)
	if err := Write(entry); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hubtest.Ready()
	deadline := time.Now().Add(hubtest.Lifetime())
	for i := 0; time.Now().Before(deadline); i++ {
		entry.Name = strings.Repeat("w", i%97)
		if err := Write(entry); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// flipper writes its entry, without fsync, alternately naming the dead pid
// os.Args[1] and itself, until its lifetime ends, ending on a live write;
// after each live write it stats the entry at once and 2 ms later. It then
// writes "<live writes> <failed stats>" to the file flips in its cwd and
// waits for its stdin to close, its last, live entry in place.
func flipper() int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dead, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r := Default()
	r.tune = &tuning{noSync: true}
	path := r.EntryPath(cwd)
	writes, failed := 0, 0
	deadline := time.Now().Add(hubtest.Lifetime())
	for seq := 1; ; seq++ {
		last := time.Now().After(deadline)
		e := hubEntry(cwd)
		if seq%2 == 1 && !last {
			e.HubPID = dead
		}
		if err := r.Write(e); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if seq == 1 {
			hubtest.Ready()
		}
		if e.HubPID == dead {
			continue
		}
		writes++
		for _, wait := range []time.Duration{0, 2 * time.Millisecond} {
			time.Sleep(wait)
			if _, err := os.Stat(path); err != nil {
				failed++
			}
		}
		if last {
			break
		}
	}
	if err := os.WriteFile("flips", fmt.Appendf(nil, "%d %d", writes, failed), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hubtest.AwaitStdin()
	return 0
}

// child is a running test-binary child process.
type child = hubtest.Proc

// testRegistry returns a registry in a fresh temporary home directory, and
// the home, for a test that may run in parallel with others.
func testRegistry(t testing.TB) (Registry, string) {
	t.Helper()
	home := t.TempDir()
	return ForHome(home), home
}

// startChild runs the test binary at path with args in dir, playing mode,
// and waits for it to report ready.
func startChild(t testing.TB, mode, dir, path string, args ...string) *child {
	t.Helper()
	return hubtest.Start(t, hubtest.Options{Mode: mode, Dir: dir, Path: path, Args: args})
}

// startHub runs a fake hub as `<tmp>/bones hub start ...` in dir; one that
// registers itself does so in r.
func startHub(t testing.TB, r Registry, mode, dir string) *child {
	t.Helper()
	return hubtest.Start(t, hubtest.Options{Mode: mode, Dir: dir, Args: hubtest.HubArgs(), Env: hubtest.HomeEnv(r.Home)})
}

// lastDeadPID caches deadPID's child: starting a process is the slowest
// part of many tests, and a pid is only reused after the kernel has cycled
// through all others.
var lastDeadPID atomic.Int64

// deadPID returns the pid of a child that has exited and been collected.
func deadPID(t testing.TB) int {
	t.Helper()
	if pid := int(lastDeadPID.Load()); pid > 0 && !procscan.Alive(pid) {
		return pid
	}
	pid := hubtest.DeadPID(t)
	lastDeadPID.Store(int64(pid))
	return pid
}

// mustWrite writes e to r or fails the test.
func mustWrite(t testing.TB, r Registry, e Entry) {
	t.Helper()
	if err := r.Write(e); err != nil {
		t.Fatal(err)
	}
}

// writeRaw writes data as the file name in r's directory, as another
// program would.
func writeRaw(t testing.TB, r Registry, name, data string) string {
	t.Helper()
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.Dir, name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tempFiles lists the temporary files left in r's directory.
func tempFiles(t testing.TB, r Registry) []string {
	t.Helper()
	ents, err := os.ReadDir(r.Dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, de := range ents {
		if strings.Contains(de.Name(), tmpMarker) {
			names = append(names, de.Name())
		}
	}
	return names
}

// readRaw reads the canonical entry file of cwd in r without pruning.
func readRaw(t testing.TB, r Registry, cwd string) (Entry, bool) {
	t.Helper()
	f, err := readEntryFile(r.EntryPath(cwd))
	if os.IsNotExist(err) {
		return Entry{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return f.entry, true
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func itoa(i int) string { return strconv.Itoa(i) }
