package registry

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"boneyard/procscan"
)

// fakeHubEnv switches the test binary into a fake hub (see runFakeHub).
const fakeHubEnv = "REGISTRY_TEST_HUB"

// fakeHubLifetime bounds every child process in case a test leaks one.
const fakeHubLifetime = 60 * time.Second

// bonesBin is the test binary under the name bones, so that the process
// scan takes it for a hub when it runs as `bones hub start`.
var bonesBin string

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeHubEnv); mode != "" {
		os.Exit(runFakeHub(mode))
	}
	dir, err := os.MkdirTemp("", "registry-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		bonesBin = filepath.Join(dir, "bones")
		if err := os.Symlink(exe, bonesBin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// runFakeHub plays one kind of hub process in the current directory:
//
//	serve:    serves HTTP 404s on 127.0.0.1:0, writes its live entry, and on
//	          SIGTERM removes it and exits, as bones does;
//	hang:     accepts TCP on 127.0.0.1:0 but never answers, writes its entry;
//	stubborn: ignores SIGTERM;
//	sleep:    just waits (a hub the registry does not know);
//	writer:   rewrites its entry in a tight loop (crash tests kill it);
//	exit:     exits at once (its pid is then dead).
//
// It prints "ready <hub url>" once set up and exits after fakeHubLifetime.
func runFakeHub(mode string) int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	entry := Entry{Cwd: cwd, Name: filepath.Base(cwd), HubPID: os.Getpid(), StartedAt: time.Now().UTC()}
	var ln net.Listener
	if mode == "serve" || mode == "hang" {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		entry.HubURL = "http://" + ln.Addr().String()
		entry.NATSURL = "nats://127.0.0.1:4222"
	}
	switch mode {
	case "exit":
		return 0
	case "serve":
		go http.Serve(ln, http.NotFoundHandler())
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			Remove(cwd)
			os.Exit(0)
		}()
	case "hang":
		go holdConnections(ln)
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	case "writer":
		if err := Write(entry); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println("ready")
		deadline := time.Now().Add(fakeHubLifetime)
		for i := 0; time.Now().Before(deadline); i++ {
			entry.Name = strings.Repeat("w", i%97)
			if err := Write(entry); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0
	}
	if entry.HubURL != "" {
		if err := Write(entry); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println("ready", entry.HubURL)
	time.Sleep(fakeHubLifetime)
	return 0
}

// holdConnections accepts connections and never reads or answers them.
func holdConnections(ln net.Listener) {
	var held []net.Conn
	for {
		c, err := ln.Accept()
		if err != nil {
			for _, c := range held {
				c.Close()
			}
			return
		}
		held = append(held, c)
	}
}

// child is a running test-binary child process.
type child struct {
	cmd  *exec.Cmd
	pid  int
	url  string
	done chan struct{}
}

// startChild runs the test binary as argv (argv[0] chosen by the caller) in
// dir, in fake hub mode, and waits for it to report ready.
func startChild(t testing.TB, mode, dir, argv0 string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(argv0, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fakeHubEnv+"="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s child: %v", mode, err)
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(c.kill)
	select {
	case line := <-ready:
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "ready" {
			t.Fatalf("%s child did not get ready: %q", mode, line)
		}
		if len(fields) > 1 {
			c.url = fields[1]
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s child did not get ready in time", mode)
	}
	return c
}

// startHub runs a fake hub as `<tmp>/bones hub start ...` in dir.
func startHub(t testing.TB, mode, dir string) *child {
	t.Helper()
	return startChild(t, mode, dir, bonesBin, "hub", "start", "--repo-port", "0", "--drain-timeout", "30s")
}

// kill ends the child and collects it.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.done
}

// exited reports whether the child has exited and been collected.
func (c *child) exited(within time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(within):
		return false
	}
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
	cmd := exec.Command(bonesBin, "version")
	cmd.Env = append(os.Environ(), fakeHubEnv+"=exit")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.ProcessState.Pid()
	lastDeadPID.Store(int64(pid))
	return pid
}

// setHome points HOME at a fresh directory and returns it.
func setHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("BONES_DIR", "")
	t.Setenv("XDG_DATA_HOME", "")
	return home
}

// workspace creates a workspace directory under parent, with its
// .bones/agent.id marker when marked.
func workspace(t testing.TB, parent, name string, marked bool) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(filepath.Join(dir, ".bones"), 0o755); err != nil {
		t.Fatal(err)
	}
	if marked {
		if err := os.WriteFile(filepath.Join(dir, ".bones", "agent.id"), []byte("agent-"+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustWrite writes e or fails the test.
func mustWrite(t testing.TB, e Entry) {
	t.Helper()
	if err := Write(e); err != nil {
		t.Fatal(err)
	}
}

// writeRaw writes data as the registry file name, as another program would.
func writeRaw(t testing.TB, name, data string) string {
	t.Helper()
	dir := RegistryDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func itoa(i int) string { return strconv.Itoa(i) }
