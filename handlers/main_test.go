package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"boneyard/internal/collector"
	"boneyard/internal/hubtest"
	"boneyard/procscan"
	"boneyard/registry"
)

// TestMain lets the test binary play a bones hub in its working directory:
// "serve" answers HTTP 404s and removes its registry entry on SIGTERM as
// bones does, "hang" accepts connections and never answers; both write
// their entry, which the "-orphan" variants leave out. "bones" serves and
// also keeps hub.pid and hub.log as bones does (see journal_test.go).
func TestMain(m *testing.M) {
	modes := map[string]func() int{"bones": bonesHub}
	for mode, h := range map[string]http.Handler{"serve": http.NotFoundHandler(), "hang": nil} {
		modes[mode] = func() int { return fakeHub(h, true) }
		modes[mode+"-orphan"] = func() int { return fakeHub(h, false) }
	}
	code := hubtest.Run(m, modes)
	closeFixtures()
	os.Exit(code)
}

// fakeHub plays a hub answering with h (nil: hanging), with its registry
// entry when registered, in the registry of its own home: startHub gives
// it the home of the test's env.
func fakeHub(h http.Handler, registered bool) int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hub := hubtest.Hub{Handler: h}
	if h != nil {
		hub.OnTerm = func() { registry.Remove(cwd) }
	}
	if registered {
		hub.OnReady = func(url string) error {
			return registry.Write(registry.Entry{
				Cwd: cwd, Name: filepath.Base(cwd), HubPID: os.Getpid(), StartedAt: time.Now().UTC(),
				HubURL: url, NATSURL: "nats://127.0.0.1:4222",
			})
		}
	}
	return hub.Run()
}

// hub is a running fake hub child process.
type hub = hubtest.Proc

// envs holds every live env by its home, so that startHub finds the env
// whose home holds a hub's workspace.
var envs sync.Map // home -> *env

// envOf returns the live env whose home holds dir, nil if there is none.
func envOf(dir string) *env {
	var found *env
	envs.Range(func(home, e any) bool {
		if rel, err := filepath.Rel(home.(string), dir); err == nil && filepath.IsLocal(rel) {
			found = e.(*env)
			return false
		}
		return true
	})
	return found
}

// startHub runs `<tmp>/bones hub start ...` in dir and waits until it is
// ready; the test's cleanup kills it. With entry false it writes no registry
// entry (a process-only orphan). dir must lie in an env's home: the hub
// gets that home as its own, so it registers in that env's registry, and
// only that env's collector sees the process.
func startHub(t testing.TB, mode, dir string, entry bool) *hub {
	t.Helper()
	e := envOf(dir)
	if e == nil {
		t.Fatalf("startHub: %s is in no test env's home; make it with e.workspace", dir)
	}
	o := hubOptions(mode, dir, entry)
	o.Env = hubtest.HomeEnv(e.home)
	h := hubtest.Start(t, o)
	e.hubs.Add(t, h.PID)
	return h
}

// hubOptions say how to run a fake hub in mode in dir.
func hubOptions(mode, dir string, entry bool) hubtest.Options {
	if !entry {
		mode += "-orphan"
	}
	return hubtest.Options{Mode: mode, Dir: dir, Args: hubtest.HubArgs()}
}

const (
	testToken = "test-token-0123456789"
	testPort  = 2663
	testHost  = "127.0.0.1:2663"
)

// env is a server over a real registry in a temporary home of its own,
// which the test process's HOME is not: tests with an env may run in
// parallel.
type env struct {
	t    testing.TB
	home string
	reg  registry.Registry
	// hubs are the fake hubs started in the env's home; its collector sees
	// no other hub process, so that hubs of other tests or elsewhere on the
	// host change nothing on the pages it checks.
	hubs hubtest.PIDSet
	col  *collector.Collector
	srv  *Server
}

// envSlots bounds how many collecting envs run at once. Each scans the
// host's processes at every refresh and runs hub children, and a hub must
// answer the collector's probe within registry.HealthTimeout: too many at
// once on a small machine under -race make probes time out, and a failed
// probe stands for the collector's hour-long interval.
var envSlots = make(chan struct{}, 4)

// takeSlot waits for one of envSlots and holds it until t ends.
func takeSlot(t testing.TB) {
	envSlots <- struct{}{}
	t.Cleanup(func() { <-envSlots })
}

// newHomeEnv returns an env with a fresh home and its registry, known to
// startHub until t ends; the caller adds the collector and the server.
func newHomeEnv(t testing.TB) *env {
	e := &env{t: t, home: t.TempDir()}
	e.reg = registry.ForHome(e.home)
	envs.Store(e.home, e)
	t.Cleanup(func() { envs.Delete(e.home) })
	return e
}

// scan is procscan.Scan keeping only the env's hubs.
func (e *env) scan() ([]procscan.Process, error) {
	procs, err := procscan.Scan()
	return slices.DeleteFunc(procs, func(p procscan.Process) bool { return !e.hubs.Has(p.PID) }), err
}

// newEnv builds a server over a registry in a fresh home, whose collector
// is refreshed explicitly by the tests (run reports whether Run is started
// too, for live updates).
func newEnv(t testing.TB, run bool) *env {
	t.Helper()
	takeSlot(t)
	e := newHomeEnv(t)
	e.col = collector.New(collector.Options{Registry: e.reg, Interval: time.Hour, Debounce: 5 * time.Millisecond, Scan: e.scan})
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.col.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	e.start()
	e.refresh()
	return e
}

// newBareEnv is a server whose collector has not collected and must not:
// for tests of the HTTP layer that need no workspace. Nothing it serves
// lists the registry, and no action may succeed (success re-collects).
func newBareEnv(t testing.TB) *env {
	t.Helper()
	e := newHomeEnv(t)
	e.col = collector.New(collector.Options{Interval: time.Hour, Registry: e.reg, Scan: e.scan})
	e.start()
	return e
}

func (e *env) start() {
	e.t.Helper()
	srv, err := New(e.config(testPort))
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
}

// config is the Config of a server over the env's collector on port.
func (e *env) config(port int) Config {
	return Config{
		Source: e.col, Actions: e.col, Token: testToken, Port: port, Home: e.home,
		AuditPath: filepath.Join(e.home, ".bones", "boneyard", "audit.log"), Heartbeat: 50 * time.Millisecond,
	}
}

func (e *env) refresh() *collector.Snapshot { return e.col.Refresh(context.Background()) }

// workspace creates a marked workspace directory under the env's home.
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
	if err := e.reg.Write(registry.Entry{Cwd: dir, Name: name, StartedAt: time.Now().UTC()}); err != nil {
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

// page GETs target, requires code and parses the page.
func (e *env) page(target string, code int) dom {
	e.t.Helper()
	w := e.get(target)
	if w.Code != code {
		e.t.Fatalf("GET %s: %d, want %d: %s", target, w.Code, code, w.Body.String())
	}
	return parseDOM(e.t, w.Body.String())
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
	entries, err := os.ReadDir(e.reg.Dir)
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	for _, de := range entries {
		b, err := os.ReadFile(filepath.Join(e.reg.Dir, de.Name()))
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
