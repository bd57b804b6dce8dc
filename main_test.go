package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mainEnv makes the test binary run boneyard's main with its arguments.
const mainEnv = "BONEYARD_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestRun(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("BONEYARD_TOKEN", "tok")
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{[]string{"version"}, 0, "boneyard dev\n", nil},
		{[]string{"url"}, 0, "http://127.0.0.1:2663/?token=tok\n", nil},
		{[]string{"url", "--addr", "localhost:9000"}, 0, "http://127.0.0.1:9000/?token=tok\n", nil},
		{[]string{"--addr", "0.0.0.0:2663"}, 2, "", []string{"loopback only"}},
		{[]string{"--addr", "192.168.0.1:80"}, 2, "", []string{"loopback only"}},
		{[]string{"--addr", "nonsense"}, 2, "", []string{"HOST:PORT"}},
		{[]string{"--interval", "0s"}, 2, "", []string{"--interval must be positive"}},
		{[]string{"--bogus"}, 2, "", []string{"flag provided but not defined"}},
		{[]string{"extra"}, 2, "", []string{"unexpected argument"}},
		{[]string{"--help"}, 0, "", []string{"-addr", "-interval", "-open", "BONEYARD_TOKEN", "HOME", "BONES_DIR", "boneyard url", "boneyard version"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		if code != tt.code || stdout.String() != tt.stdout {
			t.Errorf("run(%q) = %d, stdout %q; want %d, %q (stderr %q)", tt.args, code, stdout.String(), tt.code, tt.stdout, stderr.String())
		}
		for _, want := range tt.stderr {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("run(%q) stderr lacks %q: %s", tt.args, want, stderr.String())
			}
		}
	}
}

// TestServeAndShutdown starts the real server as a child process, checks its
// start line, and stops it with SIGTERM while an event stream is open.
func TestServeAndShutdown(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--interval", "1s")
	cmd.Env = append(os.Environ(), mainEnv+"=1", "HOME="+t.TempDir(), "BONEYARD_TOKEN=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	lines := make(chan string, 1)
	rest := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		lines <- line
		b, _ := io.ReadAll(r)
		rest <- string(b)
		done <- cmd.Wait()
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("no start line")
	}
	m := regexp.MustCompile(`^boneyard listening on (http://127\.0\.0\.1:\d+)/\?token=([0-9a-f]{64})\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("start line %q", line)
	}
	base, token := m[1], m[2]
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %v %v", resp, err)
	}
	defer resp.Body.Close()
	streamClosed := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(streamClosed) }()

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-streamClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream is still open 5 s after SIGTERM")
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("exit: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after SIGTERM")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if extra := <-rest; extra != "" {
		t.Errorf("more than one line on stdout: %q", extra)
	}
}
