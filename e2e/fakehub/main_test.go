//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/registry"
)

// hubMode is the hubtest mode in which the test binary runs this command.
const hubMode = "fakehub"

func TestMain(m *testing.M) {
	hubtest.Main(m, map[string]func() int{hubMode: func() int {
		main()
		return 0
	}})
}

var readyLine = regexp.MustCompile(`^ready pid=(\d+) hub_url=(http://127\.0\.0\.1:\d+) nats_url=(nats://127\.0\.0\.1:\d+)$`)

type hub struct {
	cmd    *exec.Cmd
	hubURL string
	done   chan error
}

// startHub runs `bones hub start --mode mode` in a fresh workspace under a
// temporary HOME and waits for its ready line. The process is killed when
// the test ends.
func startHub(t *testing.T, mode string) (*hub, string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	ws := t.TempDir()
	cmd := hubtest.Command(hubtest.Bin("bones"), hubMode, "hub", "start", "--mode", mode, "--name", "ws-"+mode)
	cmd.Dir = ws
	// The race detector sleeps a second before exit unless told not to.
	cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &hub{cmd: cmd, done: make(chan error, 1)}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-h.done
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(line)
		io.Copy(io.Discard, stdout)
		h.done <- cmd.Wait()
	}()
	select {
	case line := <-lines:
		m := readyLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("hub printed %q, want a ready line", line)
		}
		if m[1] != fmt.Sprint(cmd.Process.Pid) {
			t.Fatalf("ready line names pid %s, process is %d", m[1], cmd.Process.Pid)
		}
		h.hubURL = m[2]
	case <-time.After(10 * time.Second):
		t.Fatal("hub did not print its ready line within 10s")
	}
	return h, ws
}

func TestModes(t *testing.T) {
	tests := []struct {
		mode       string
		registered bool
		marker     bool
		answers    bool
		termExits  bool
	}{
		{modeNormal, true, true, true, true},
		{modeIgnoreTerm, true, true, true, false},
		{modeHang, true, true, false, true},
		{modeNoMarker, true, false, true, true},
		{modeUnregistered, false, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			h, ws := startHub(t, tt.mode)

			e, err := registry.Read(ws)
			if tt.registered {
				if err != nil {
					t.Fatalf("registry.Read: %v", err)
				}
				if e.HubPID != h.cmd.Process.Pid || e.HubURL != h.hubURL || e.Name != "ws-"+tt.mode {
					t.Errorf("entry = %+v, want pid %d, hub_url %s, name ws-%s", e, h.cmd.Process.Pid, h.hubURL, tt.mode)
				}
			} else if err == nil {
				t.Errorf("unregistered hub wrote an entry: %+v", e)
			}

			_, err = os.Stat(filepath.Join(ws, ".bones", "agent.id"))
			if got := err == nil; got != tt.marker {
				t.Errorf("agent.id exists = %v, want %v", got, tt.marker)
			}

			client := http.Client{Timeout: 300 * time.Millisecond}
			resp, err := client.Get(h.hubURL)
			if err == nil {
				resp.Body.Close()
			}
			if got := err == nil; got != tt.answers {
				t.Errorf("hub answers HTTP = %v (err %v), want %v", got, err, tt.answers)
			}

			if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-h.done:
				h.done <- err
				if !tt.termExits {
					t.Fatalf("hub exited on SIGTERM (%v), want it to ignore it", err)
				}
				if err != nil {
					t.Errorf("exit after SIGTERM: %v, want a clean exit", err)
				}
				if _, err := os.Stat(registry.EntryPath(ws)); !os.IsNotExist(err) {
					t.Errorf("entry file after clean exit: %v, want it removed", err)
				}
			case <-time.After(time.Second):
				if tt.termExits {
					t.Fatal("hub still running 1s after SIGTERM")
				}
			}
		})
	}
}

func TestKeepsNewerEntry(t *testing.T) {
	h, ws := startHub(t, modeNormal)
	newer := registry.Entry{Cwd: ws, Name: "newer", HubPID: 0, StartedAt: time.Now().UTC()}
	if err := registry.Write(newer); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		h.done <- err
	case <-time.After(5 * time.Second):
		t.Fatal("hub still running 5s after SIGTERM")
	}
	e, err := registry.Read(ws)
	if err != nil || e.Name != "newer" {
		t.Errorf("after exit: entry %+v, err %v; want the newer idle entry kept", e, err)
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    config
		wantErr bool
	}{
		{[]string{"hub", "start"}, config{mode: modeNormal}, false},
		{[]string{"hub", "start", "--mode", "hang", "--name", "x", "--agent-id", "a"}, config{mode: modeHang, name: "x", agentID: "a"}, false},
		{[]string{"hub", "start", "--mode", "bogus"}, config{}, true},
		{[]string{"hub", "status"}, config{}, true},
		{nil, config{}, true},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v, error %v", tt.args, got, err, tt.want, tt.wantErr)
		}
	}
}

// bones runs the fake CLI with args in workspace ws under home and returns
// its stdout, stderr and exit code.
func bones(t *testing.T, ws, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := hubtest.Command(hubtest.Bin("bones"), hubMode, args...)
	cmd.Dir = ws
	cmd.Env = append(cmd.Env, "HOME="+home, "GORACE=atexit_sleep_ms=0")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run bones %v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// logMsgs returns the msg of every JSON line of <ws>/.bones/hub.log.
func logMsgs(t *testing.T, ws string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ws, ".bones", "hub.log"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, line := range strings.Split(string(b), "\n") {
		var l struct{ TS, Level, Event, Msg string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg != "" {
			if _, err := time.Parse(time.RFC3339, l.TS); err != nil || l.Event != "lifecycle" {
				t.Errorf("hub.log line %q: want an RFC 3339 ts and event lifecycle", line)
			}
			msgs = append(msgs, l.Msg)
		}
	}
	return msgs
}

func TestLifecycleLog(t *testing.T) {
	h, ws := startHub(t, modeNormal)
	pid := h.cmd.Process.Pid
	if got := hubtest.HubPID(t, ws); got != pid {
		t.Fatalf("hub.pid = %d, want %d", got, pid)
	}
	h.cmd.Process.Signal(syscall.SIGTERM)
	<-h.done
	h.done <- nil
	msgs := logMsgs(t, ws)
	want := []string{fmt.Sprintf("hub: starting (pid=%d", pid), "hub: ready", "hub: stopping", "hub: stopped"}
	if len(msgs) != len(want) {
		t.Fatalf("hub.log messages %q, want %d lines like %q", msgs, len(want), want)
	}
	for i := range want {
		if !strings.HasPrefix(msgs[i], want[i]) {
			t.Errorf("hub.log line %d = %q, want it to start with %q", i, msgs[i], want[i])
		}
	}
	if got := hubtest.HubPID(t, ws); got != 0 {
		t.Errorf("hub.pid after a clean stop names %d, want it removed", got)
	}
}

func TestKillLeavesEverything(t *testing.T) {
	h, ws := startHub(t, modeNormal)
	h.cmd.Process.Kill()
	<-h.done
	h.done <- nil
	if got := hubtest.HubPID(t, ws); got != h.cmd.Process.Pid {
		t.Errorf("hub.pid after SIGKILL = %d, want %d left behind", got, h.cmd.Process.Pid)
	}
	if _, err := os.Stat(registry.EntryPath(ws)); err != nil {
		t.Errorf("entry file after SIGKILL: %v, want it left behind", err)
	}
	if msgs := logMsgs(t, ws); msgs[len(msgs)-1] != "hub: ready" {
		t.Errorf("last hub.log line after SIGKILL = %q, want hub: ready", msgs[len(msgs)-1])
	}
}

var detachLine = regexp.MustCompile(`^hub: fossil at http://127\.0\.0\.1:(\d+), nats at nats://127\.0\.0\.1:\d+ \(pid=(\d+)\)\n$`)

func TestDetachThenStop(t *testing.T) {
	home, ws := t.TempDir(), t.TempDir()
	stdout, stderr, code := bones(t, ws, home, "hub", "start", "--detach", "--name", "det")
	m := detachLine.FindStringSubmatch(stderr)
	if code != 0 || stdout != "" || m == nil {
		t.Fatalf("hub start --detach: exit %d, stdout %q, stderr %q; want exit 0 and the fossil/nats line", code, stdout, stderr)
	}
	pid, _ := strconv.Atoi(m[2])
	hubtest.KillAtEnd(t, pid)
	if got := hubtest.HubPID(t, ws); got != pid {
		t.Errorf("hub.pid = %d, want the child %d", got, pid)
	}
	t.Setenv("HOME", home)
	e, err := registry.Read(ws)
	if err != nil || e.HubPID != pid || e.Name != "det" || e.HubURL != "http://127.0.0.1:"+m[1] {
		t.Fatalf("entry %+v, %v; want pid %d, name det, port %s", e, err, pid, m[1])
	}
	for _, f := range []string{"hub-fossil-url", "hub-nats-url"} {
		if _, err := os.Stat(filepath.Join(ws, ".bones", f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(ws, ".bones", "hub.lock.pid")); !os.IsNotExist(err) {
		t.Errorf("hub.lock.pid after the detach returned: %v, want it gone", err)
	}

	// A second start finds the live hub.pid and says nothing.
	if stdout, stderr, code := bones(t, ws, home, "hub", "start", "--detach"); code != 0 || stdout+stderr != "" {
		t.Errorf("second start: exit %d, output %q; want exit 0, silent", code, stdout+stderr)
	}

	if stdout, stderr, code := bones(t, ws, home, "hub", "stop"); code != 0 || stdout+stderr != "" {
		t.Fatalf("hub stop: exit %d, output %q; want exit 0, silent", code, stdout+stderr)
	}
	if !waitDead(pid, time.Second) {
		t.Fatal("hub still alive after hub stop returned")
	}
	if _, err := os.Stat(registry.EntryPath(ws)); !os.IsNotExist(err) {
		t.Errorf("entry after hub stop: %v, want the hub to have removed it", err)
	}
	if got := hubtest.HubPID(t, ws); got != 0 {
		t.Errorf("hub.pid after stop names %d", got)
	}
	if msgs := logMsgs(t, ws); msgs[len(msgs)-1] != "hub: stopped" {
		t.Errorf("last hub.log line %q, want hub: stopped", msgs[len(msgs)-1])
	}
	// The recorded ports are reused.
	_, stderr, code = bones(t, ws, home, "hub", "start", "--detach")
	m2 := detachLine.FindStringSubmatch(stderr)
	if code != 0 || m2 == nil || m2[1] != m[1] {
		t.Fatalf("restart: exit %d, stderr %q; want the recorded port %s", code, stderr, m[1])
	}
	pid2, _ := strconv.Atoi(m2[2])
	hubtest.KillAtEnd(t, pid2)
	// With no hub, stop is silent too.
	if _, _, code := bones(t, t.TempDir(), home, "hub", "stop"); code != 0 {
		t.Errorf("hub stop without a hub: exit %d, want 0", code)
	}
}

func TestStopSlotGuardAndKill(t *testing.T) {
	home, ws := t.TempDir(), t.TempDir()
	_, stderr, code := bones(t, ws, home, "hub", "start", "--detach", "--mode", modeHangTerm)
	m := detachLine.FindStringSubmatch(stderr)
	if code != 0 || m == nil {
		t.Fatalf("start: exit %d, stderr %q", code, stderr)
	}
	pid, _ := strconv.Atoi(m[2])
	hubtest.KillAtEnd(t, pid)

	slot := filepath.Join(ws, ".bones", "swarm", "fake-slot")
	if err := os.MkdirAll(slot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(slot, "leaf.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = bones(t, ws, home, "hub", "stop")
	if want := "hub: active swarm slots present: fake-slot — close them first or pass --force\n"; code != 1 || stderr != want {
		t.Fatalf("stop with a live slot: exit %d, stderr %q; want 1, %q", code, stderr, want)
	}
	if !alive(pid) {
		t.Fatal("refused stop signalled the hub")
	}
	began := time.Now()
	if _, stderr, code := bones(t, ws, home, "hub", "stop", "--force"); code != 0 {
		t.Fatalf("stop --force: exit %d, stderr %q", code, stderr)
	}
	if took := time.Since(began); took < termGrace {
		t.Errorf("a hub ignoring SIGTERM was stopped in %v, want SIGKILL only after %v", took, termGrace)
	}
	if !waitDead(pid, time.Second) {
		t.Fatal("hub ignoring SIGTERM survived stop --force")
	}
}

func TestDetachFailureQuotesLog(t *testing.T) {
	home, ws := t.TempDir(), t.TempDir()
	// Both recorded ports taken by a listener that is not a hub: the child
	// cannot bind and exits.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bd := filepath.Join(ws, ".bones")
	os.MkdirAll(bd, 0o755)
	os.WriteFile(filepath.Join(bd, "hub-fossil-url"), []byte("http://"+l.Addr().String()+"\n"), 0o644)
	_, stderr, code := bones(t, ws, home, "hub", "start", "--detach")
	if code != 1 || !strings.Contains(stderr, "--- "+filepath.Join(bd, "hub.log")+" (tail) ---\n") || !strings.Contains(stderr, "address already in use") {
		t.Fatalf("start on a taken port: exit %d, stderr %q; want 1 with the hub.log tail", code, stderr)
	}
	if pid := hubtest.HubPID(t, ws); pid > 0 && alive(pid) {
		hubtest.KillAtEnd(t, pid)
		t.Errorf("failed start left hub %d running", pid)
	}
}
