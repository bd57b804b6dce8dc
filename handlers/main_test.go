package handlers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"boneyard/collector"
	"boneyard/registry"
)

// fakeHubEnv switches the test binary into a fake bones hub (see fakeHub).
const fakeHubEnv = "BONEYARD_TEST_HUB"

// fakeHubLifetime bounds every child process in case a test leaks one;
// fakeHubLifetimeEnv overrides it for benchmarks that outlast it.
const (
	fakeHubLifetime    = 60 * time.Second
	fakeHubLifetimeEnv = "BONEYARD_TEST_HUB_LIFETIME"
)

// bonesBin is the test binary copied under the name bones, so the process
// scan takes it for a hub when run as `bones hub start`.
var bonesBin string

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeHubEnv); mode != "" {
		os.Exit(fakeHub(mode))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "handlers-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	exe, err := os.Executable()
	if err == nil {
		bonesBin = filepath.Join(dir, "bones")
		err = copyFile(exe, bonesBin)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "prepare fake bones binary:", err)
		return 1
	}
	defer closeFixtures()
	return m.Run()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fakeHub plays a bones hub in the current directory: it listens on
// 127.0.0.1:0, writes its registry entry, and either answers HTTP ("serve",
// removing its entry on SIGTERM as bones does) or accepts connections and
// never answers ("hang"). It prints "ready <url>" and exits after
// fakeHubLifetime.
func fakeHub(mode string) int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	entry := registry.Entry{
		Cwd: cwd, Name: filepath.Base(cwd), HubPID: os.Getpid(), StartedAt: time.Now().UTC(),
		HubURL: "http://" + ln.Addr().String(), NATSURL: "nats://127.0.0.1:4222",
	}
	switch mode {
	case "serve":
		go http.Serve(ln, http.NotFoundHandler())
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			registry.Remove(cwd)
			os.Exit(0)
		}()
	case "hang":
		go func() {
			var held []net.Conn
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				held = append(held, c)
			}
		}()
	default:
		fmt.Fprintln(os.Stderr, "unknown fake hub mode", mode)
		return 2
	}
	if os.Getenv("BONEYARD_TEST_HUB_NOENTRY") == "" {
		if err := registry.Write(entry); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println("ready", entry.HubURL)
	lifetime := fakeHubLifetime
	if d, err := time.ParseDuration(os.Getenv(fakeHubLifetimeEnv)); err == nil {
		lifetime = d
	}
	time.Sleep(lifetime)
	return 0
}

// hub is a running fake hub child process.
type hub struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
}

// startHub runs `<tmp>/bones hub start ...` in dir and waits until it is
// ready; the test's cleanup kills it. With entry false it writes no registry
// entry (a process-only orphan).
func startHub(t testing.TB, mode, dir string, entry bool) *hub {
	t.Helper()
	h, err := spawnHub(mode, dir, entry)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	return h
}

// spawnHub starts a fake hub with extra environment; the caller must stop
// it.
func spawnHub(mode, dir string, entry bool, env ...string) (*hub, error) {
	cmd := exec.Command(bonesBin, "hub", "start", "--repo-port", "0", "--drain-timeout", "30s")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), fakeHubEnv+"="+mode), env...)
	if !entry {
		cmd.Env = append(cmd.Env, "BONEYARD_TEST_HUB_NOENTRY=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start fake hub: %w", err)
	}
	h := &hub{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		close(h.done)
	}()
	select {
	case line := <-ready:
		if !strings.HasPrefix(line, "ready") {
			h.stop()
			return nil, fmt.Errorf("fake hub did not get ready: %q", line)
		}
	case <-time.After(20 * time.Second):
		h.stop()
		return nil, fmt.Errorf("fake hub did not get ready in time")
	}
	return h, nil
}

// stop kills the hub and collects it.
func (h *hub) stop() {
	h.cmd.Process.Kill()
	<-h.done
}

// exited reports whether the hub exited within d.
func (h *hub) exited(d time.Duration) bool {
	select {
	case <-h.done:
		return true
	case <-time.After(d):
		return false
	}
}

const (
	testToken = "test-token-0123456789"
	testPort  = 2663
	testHost  = "127.0.0.1:2663"
)

// env is a server over a real registry in a temporary HOME.
type env struct {
	t    testing.TB
	home string
	col  *collector.Collector
	srv  *Server
}

// newEnv sets HOME to a fresh directory and builds a server whose collector
// is refreshed explicitly by the tests (run reports whether Run is started
// too, for live updates).
func newEnv(t testing.TB, run bool) *env {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("BONES_DIR", "")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv(TokenEnv, "")
	col := collector.New(collector.Options{Interval: time.Hour, Debounce: 5 * time.Millisecond})
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { col.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	srv, err := New(Config{Source: col, Token: testToken, Port: testPort, Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, home: home, col: col, srv: srv}
	e.refresh()
	return e
}

func (e *env) refresh() *collector.Snapshot { return e.col.Refresh(context.Background()) }

// workspace creates a marked workspace directory under HOME.
func (e *env) workspace(name string) string {
	e.t.Helper()
	dir := filepath.Join(e.home, "src", name)
	if err := os.MkdirAll(filepath.Join(dir, ".bones"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".bones", "agent.id"), []byte("agent-"+name+"\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

// idle registers dir as an idle workspace (as `bones up` does).
func (e *env) idle(dir, name string) string {
	e.t.Helper()
	if err := registry.Write(registry.Entry{Cwd: dir, Name: name, StartedAt: time.Now().UTC()}); err != nil {
		e.t.Fatal(err)
	}
	return registry.WorkspaceID(dir)
}

// request builds an authenticated request from this server's own origin.
func request(method, target string, form url.Values) *http.Request {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.Host = testHost
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r.Header.Set("Authorization", "Bearer "+testToken)
	return r
}

func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return w
}

func (e *env) get(target string) *httptest.ResponseRecorder {
	return e.serve(request(http.MethodGet, target, nil))
}

// post submits a form; htmx adds the header htmx sends.
func (e *env) post(target string, form url.Values, htmx bool) *httptest.ResponseRecorder {
	r := request(http.MethodPost, target, form)
	if htmx {
		r.Header.Set("HX-Request", "true")
	}
	return e.serve(r)
}

// registryFiles returns every file in the registry directory with its
// content, to show that a rejected action changed nothing.
func (e *env) registryFiles() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(registry.RegistryDir())
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	for _, de := range entries {
		b, err := os.ReadFile(filepath.Join(registry.RegistryDir(), de.Name()))
		if err != nil {
			e.t.Fatal(err)
		}
		out[de.Name()] = string(b)
	}
	return out
}

// auditLines returns the audit log's records.
func (e *env) auditLines() []auditRecord {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.home, ".bones", "boneyard", "audit.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var out []auditRecord
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		var rec auditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			e.t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}
