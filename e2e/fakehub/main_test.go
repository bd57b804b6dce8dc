//go:build unix

package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
