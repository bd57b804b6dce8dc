//go:build unix

package bonescli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// modeEnv makes the re-executed test binary play a bones CLI.
const modeEnv = "BONESCLI_TEST_MODE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(modeEnv); mode != "" {
		os.Exit(play(mode))
	}
	os.Exit(m.Run())
}

// play is the fake CLI: it acts on its mode and echoes its argv.
func play(mode string) int {
	switch mode {
	case "ok":
		fmt.Fprintf(os.Stderr, "hub: fossil at http://127.0.0.1:1, nats at nats://127.0.0.1:2 (pid=%d)\n", os.Getpid())
		fmt.Printf("args=%s cwd=", strings.Join(os.Args[1:], " "))
		wd, _ := os.Getwd()
		fmt.Println(wd)
	case "env":
		fmt.Printf("foreground=%q other=%q\n", os.Getenv(foregroundEnv), os.Getenv("BONESCLI_OTHER"))
	case "slots":
		fmt.Fprintln(os.Stderr, "hub: active swarm slots present: fake-slot — close them first or pass --force")
		return 1
	case "fail":
		fmt.Fprintln(os.Stderr, "hub: child exited before repo port ready\n--- /ws/.bones/hub.log (tail) ---\npanic: boom")
		return 1
	case "sleep":
		time.Sleep(time.Minute)
	case "flood":
		chunk := strings.Repeat("x", 1023) + "\n"
		for range 1024 {
			os.Stdout.WriteString(chunk)
		}
		os.Stdout.WriteString("the end\n")
	}
	return 0
}

// fakeCLI is a CLI running this test binary in mode.
func fakeCLI(t *testing.T, mode string) *CLI {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(modeEnv, mode)
	c, err := Find(self)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStartArgvAndDir(t *testing.T) {
	c := fakeCLI(t, "ok")
	ws := t.TempDir()
	res, err := c.Start(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if want := "args=hub start --detach cwd=" + ws + "\n"; res.Stdout != want {
		t.Errorf("stdout %q, want %q", res.Stdout, want)
	}
	if res.ExitCode != 0 || !strings.HasPrefix(res.Message(), "hub: fossil at http://127.0.0.1:1") {
		t.Errorf("exit %d, message %q", res.ExitCode, res.Message())
	}
	if res, err := c.Stop(context.Background(), ws, true); err != nil || res.Stdout != "args=hub stop --force cwd="+ws+"\n" {
		t.Errorf("Stop(force): %q, %v", res.Stdout, err)
	}
}

func TestEnvironmentScrubbed(t *testing.T) {
	c := fakeCLI(t, "env")
	t.Setenv(foregroundEnv, "1")
	t.Setenv("BONESCLI_OTHER", "kept")
	res, err := c.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if want := "foreground=\"\" other=\"kept\"\n"; res.Stdout != want {
		t.Errorf("child saw %q, want %q", res.Stdout, want)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		mode    string
		stop    bool
		is      error
		message string
	}{
		{"slots", true, ErrSlotsActive, "active swarm slots present: fake-slot"},
		{"fail", false, nil, "--- /ws/.bones/hub.log (tail) ---\npanic: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			c := fakeCLI(t, tt.mode)
			var err error
			if tt.stop {
				_, err = c.Stop(context.Background(), t.TempDir(), false)
			} else {
				_, err = c.Start(context.Background(), t.TempDir())
			}
			var ee *ExitError
			if !errors.As(err, &ee) || ee.ExitCode != 1 {
				t.Fatalf("err = %v, want an *ExitError with exit 1", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.is)
			}
			if !strings.Contains(ee.Message(), tt.message) || !strings.Contains(err.Error(), "exited with 1") {
				t.Errorf("message %q / error %q, want %q", ee.Message(), err, tt.message)
			}
		})
	}
}

func TestForcedStopIsNotASlotRefusal(t *testing.T) {
	c := fakeCLI(t, "slots")
	_, err := c.Stop(context.Background(), t.TempDir(), true)
	if err == nil || errors.Is(err, ErrSlotsActive) {
		t.Errorf("forced stop: %v, want a plain exit error", err)
	}
}

func TestTimeoutKillsGroup(t *testing.T) {
	c := fakeCLI(t, "sleep")
	c.StartTimeout = 200 * time.Millisecond
	began := time.Now()
	_, err := c.Start(context.Background(), t.TempDir())
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("a timed-out run took %v", took)
	}
}

func TestOutputBounded(t *testing.T) {
	c := fakeCLI(t, "flood")
	c.MaxOutput = 4096
	res, err := c.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != 4096 || !res.Truncated || !strings.HasSuffix(res.Stdout, "the end\n") {
		t.Errorf("kept %d bytes (truncated %v, ends %q), want the last 4096", len(res.Stdout), res.Truncated, res.Stdout[max(0, len(res.Stdout)-8):])
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "bones")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	for _, path := range []string{"", plain, filepath.Join(dir, "missing"), dir} {
		if _, err := Find(path); !errors.Is(err, ErrNotFound) {
			t.Errorf("Find(%q) = %v, want ErrNotFound", path, err)
		}
	}
	if err := os.Chmod(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	if c, err := Find(""); err != nil || c.Path != plain {
		t.Errorf("Find on PATH = %+v, %v; want %s", c, err, plain)
	}
	if _, err := (&CLI{Path: plain}).Start(context.Background(), filepath.Join(dir, "gone")); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("Start in a missing directory: %v", err)
	}
}
