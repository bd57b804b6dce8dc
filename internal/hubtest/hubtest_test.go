package hubtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	Main(m, map[string]func() int{
		"serve": func() int {
			return Hub{Handler: http.NotFoundHandler(), OnReady: writeURL}.Run()
		},
		"hang": func() int { return Hub{OnReady: writeURL}.Run() },
		"lifecycle": func() int {
			return Hub{Handler: http.NotFoundHandler(), StateDir: ".bones"}.Run()
		},
		"sleep":  Sleep,
		"stdin":  func() int { Ready(); AwaitStdin(); return 3 },
		"home":   func() int { Ready(os.Getenv("HOME"), "bones_dir="+os.Getenv("BONES_DIR")); return Linger() },
		"silent": func() int { return 1 },
	})
}

// writeURL records the hub's URL in its working directory, as a hub writes
// its registry entry.
func writeURL(url string) error {
	return os.WriteFile("url", []byte(url), 0o644)
}

func TestStartHub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode     string
		wantCode int // 0: the request times out
	}{
		{"serve", http.StatusNotFound},
		{"hang", 0},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := Start(t, Options{Mode: tt.mode, Dir: dir, Args: HubArgs()})
			if b, err := os.ReadFile(filepath.Join(dir, "url")); err != nil || string(b) != p.URL {
				t.Fatalf("OnReady wrote %q (%v), ready line said %q", b, err, p.URL)
			}
			client := &http.Client{Timeout: 500 * time.Millisecond}
			resp, err := client.Get(p.URL)
			switch {
			case tt.wantCode == 0 && err == nil:
				resp.Body.Close()
				t.Fatalf("hanging hub answered %s", resp.Status)
			case tt.wantCode != 0 && err != nil:
				t.Fatal(err)
			case tt.wantCode != 0:
				resp.Body.Close()
				if resp.StatusCode != tt.wantCode {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantCode)
				}
			}
			p.Kill()
			if !p.Exited(0) {
				t.Error("not collected after Kill")
			}
		})
	}
}

func TestStopClosesStdin(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{Mode: "sleep"})
	if p.Exited(200 * time.Millisecond) {
		t.Fatal("sleeping child exited early")
	}
	p = Start(t, Options{Mode: "stdin", Lifetime: time.Minute})
	var exit *exec.ExitError
	if err := p.Stop(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Stop = %v, want exit status 3", err)
	}
}

func TestLifetimeBoundsChild(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{Mode: "sleep", Lifetime: 100 * time.Millisecond})
	if !p.Exited(20 * time.Second) {
		t.Fatal("child outlived its lifetime")
	}
}

func TestSpawnNotReady(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"silent", "unknown"} {
		if p, err := Spawn(Options{Mode: mode}); err == nil {
			p.Kill()
			t.Errorf("Spawn(%s) succeeded", mode)
		}
	}
}

// TestHome checks the homes children get: Main's empty temporary one, which
// is the test process's own, and the one HomeEnv names.
func TestHome(t *testing.T) {
	t.Parallel()
	mainHome := os.Getenv("HOME")
	if entries, err := os.ReadDir(mainHome); err != nil || len(entries) != 0 {
		t.Errorf("Main's home %s: %v, %v; want an empty directory", mainHome, entries, err)
	}
	mine := t.TempDir()
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"inherited", nil, mainHome},
		{"HomeEnv", append([]string{"BONES_DIR=/elsewhere"}, HomeEnv(mine)...), mine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Start(t, Options{Mode: "home", Env: tt.env})
			if got := strings.Join(p.Ready, " "); got != tt.want+" bones_dir=" {
				t.Errorf("child reports %q, want home %s and no BONES_DIR", got, tt.want)
			}
		})
	}
}

// TestHubLifecycleFiles checks what a hub with a StateDir leaves behind: on
// SIGTERM its stop in hub.log and no hub.pid, on SIGKILL hub.pid and no
// stop, as bones does.
func TestHubLifecycleFiles(t *testing.T) {
	for _, tt := range []struct {
		name    string
		signal  os.Signal
		wantLog []string
		wantPID bool
	}{
		{"SIGTERM", syscall.SIGTERM, []string{"hub: starting (pid=", "hub: ready", "hub: stopping", "hub: stopped"}, false},
		{"SIGKILL", syscall.SIGKILL, []string{"hub: starting (pid=", "hub: ready"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := Start(t, Options{Mode: "lifecycle", Dir: dir, Args: HubArgs()})
			pidFile := filepath.Join(dir, ".bones", "hub.pid")
			if b, err := os.ReadFile(pidFile); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(p.PID) {
				t.Fatalf("hub.pid holds %q (%v), want %d", b, err, p.PID)
			}
			if err := p.Cmd.Process.Signal(tt.signal); err != nil {
				t.Fatal(err)
			}
			if !p.Exited(10 * time.Second) {
				t.Fatal("the hub did not exit")
			}
			b, err := os.ReadFile(filepath.Join(dir, ".bones", "hub.log"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) != len(tt.wantLog) {
				t.Fatalf("hub.log has %d lines %q, want %d", len(lines), lines, len(tt.wantLog))
			}
			for i, want := range tt.wantLog {
				var l struct{ TS, Level, Event, Msg string }
				if err := json.Unmarshal([]byte(lines[i]), &l); err != nil || l.Level != "INFO" || l.Event != "lifecycle" || !strings.HasPrefix(l.Msg, want) {
					t.Errorf("line %d = %q (%v), want an INFO lifecycle line %q", i, lines[i], err, want)
				}
			}
			if _, err := os.Stat(pidFile); (err == nil) != tt.wantPID {
				t.Errorf("hub.pid present: %v, want %v", err == nil, tt.wantPID)
			}
		})
	}
}

func TestWorkspace(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	tests := []struct {
		name   string
		marked bool
		want   string // agent.id content, "" for none
	}{
		{"marked", true, "agent-marked\n"},
		{"bare", false, ""},
	}
	for _, tt := range tests {
		dir := Workspace(t, parent, tt.name, tt.marked)
		if dir != filepath.Join(parent, tt.name) {
			t.Errorf("Workspace = %s, want %s", dir, filepath.Join(parent, tt.name))
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Errorf("%s: not a directory: %v", dir, err)
		}
		data, err := os.ReadFile(filepath.Join(dir, ".bones", "agent.id"))
		if string(data) != tt.want || (tt.want == "") != errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s marker = %q, %v; want %q", tt.name, data, err, tt.want)
		}
	}
}

func TestLockedBuffer(t *testing.T) {
	t.Parallel()
	var b LockedBuffer
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprint(&b, w)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := len(b.String()); got != 800 {
		t.Errorf("%d bytes written, want 800", got)
	}
}
