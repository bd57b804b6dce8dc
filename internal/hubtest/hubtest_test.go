package hubtest

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	Main(m, map[string]func() int{
		"serve": func() int {
			return Hub{Handler: http.NotFoundHandler(), OnReady: writeURL}.Run()
		},
		"hang":   func() int { return Hub{OnReady: writeURL}.Run() },
		"sleep":  Sleep,
		"stdin":  func() int { Ready(); AwaitStdin(); return 3 },
		"silent": func() int { return 1 },
	})
}

// writeURL records the hub's URL in its working directory, as a hub writes
// its registry entry.
func writeURL(url string) error {
	return os.WriteFile("url", []byte(url), 0o644)
}

func TestStartHub(t *testing.T) {
	tests := []struct {
		mode     string
		wantCode int // 0: the request times out
	}{
		{"serve", http.StatusNotFound},
		{"hang", 0},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
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
	p := Start(t, Options{Mode: "sleep", Lifetime: 100 * time.Millisecond})
	if !p.Exited(20 * time.Second) {
		t.Fatal("child outlived its lifetime")
	}
}

func TestSpawnNotReady(t *testing.T) {
	for _, mode := range []string{"silent", "unknown"} {
		if p, err := Spawn(Options{Mode: mode}); err == nil {
			p.Kill()
			t.Errorf("Spawn(%s) succeeded", mode)
		}
	}
}
