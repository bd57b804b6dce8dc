package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boneyard/internal/state"
)

// mainEnv makes the test binary run boneyard's main with its arguments.
const mainEnv = "BONEYARD_TEST_MAIN"

// getEnv makes the test binary a client: GET of the URL in the variable,
// with the Bearer token in BONEYARD_TEST_BEARER; it prints the status code,
// or "refused" when the connection ends without a response.
const getEnv = "BONEYARD_TEST_GET"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	if url := os.Getenv(getEnv); url != "" {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+os.Getenv("BONEYARD_TEST_BEARER"))
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			fmt.Println("refused")
			os.Exit(0)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestRun(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("BONEYARD_TOKEN", "tok-0123456789abcdef0123456789abc")
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{[]string{"version"}, 0, "boneyard dev (" + runtime.Version() + ")\n", nil},
		{[]string{"url"}, 0, "http://127.0.0.1:2663/?token=tok-0123456789abcdef0123456789abc\n", nil},
		{[]string{"url", "--addr", "localhost:9000"}, 0, "http://127.0.0.1:9000/?token=tok-0123456789abcdef0123456789abc\n", nil},
		{[]string{"--addr", "0.0.0.0:2663"}, 2, "", []string{"loopback only"}},
		{[]string{"--addr", "192.168.0.1:80"}, 2, "", []string{"loopback only"}},
		{[]string{"--addr", "nonsense"}, 2, "", []string{"HOST:PORT"}},
		{[]string{"--interval", "0s"}, 2, "", []string{"--interval must be positive"}},
		{[]string{"--bogus"}, 2, "", []string{"flag provided but not defined"}},
		{[]string{"--bones", "/nonexistent/bones"}, 2, "", []string{"bones CLI not found: --bones /nonexistent/bones"}},
		{[]string{"--bones", "."}, 2, "", []string{"is not an executable file"}},
		{[]string{"extra"}, 2, "", []string{"unexpected argument"}},
		{[]string{"--help"}, 0, "", []string{"-addr", "-interval", "-open", "-bones PATH", "BONEYARD_TOKEN", "HOME", "BONES_DIR", "boneyard url", "boneyard version"}},
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

// server is boneyard's main running in a child process.
type server struct {
	cmd    *exec.Cmd
	home   string
	line   string // the start line
	base   string // http://host:port
	token  string
	stderr *bytes.Buffer
	done   chan error  // the exit status, once
	rest   chan string // stdout after the start line, at exit
}

// startServer runs boneyard with --addr addr (and flags) in a fresh HOME and waits for
// its start line; the test's cleanup kills it.
func startServer(t *testing.T, addr string, flags ...string) *server {
	t.Helper()
	s := &server{home: t.TempDir(), stderr: &bytes.Buffer{}, done: make(chan error, 1), rest: make(chan string, 1)}
	s.cmd = exec.Command(os.Args[0], append([]string{"--addr", addr, "--interval", "1s"}, flags...)...)
	s.cmd.Env = append(os.Environ(), mainEnv+"=1", "HOME="+s.home, "BONEYARD_TOKEN=")
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); err := <-s.done; s.done <- err })
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		lines <- line
		b, _ := io.ReadAll(r)
		s.rest <- string(b)
		s.done <- s.cmd.Wait()
	}()
	select {
	case s.line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("no start line")
	}
	m := regexp.MustCompile(`^boneyard listening on (http://[0-9.]+:\d+)/\?token=([0-9a-f]{64})\n$`).FindStringSubmatch(s.line)
	if m == nil {
		t.Fatalf("start line %q; stderr: %s", s.line, s.stderr.String())
	}
	s.base, s.token = m[1], m[2]
	return s
}

// url runs `boneyard url args...` in this process with the server's HOME.
func (s *server) url(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("HOME", s.home)
	t.Setenv("BONEYARD_TOKEN", "")
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"url"}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("boneyard url: exit %d: %s", code, stderr.String())
	}
	return stdout.String()
}

// TestServeAndShutdown starts the real server as a child process, checks its
// start line, and stops it with SIGTERM while an event stream is open.
func TestServeAndShutdown(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	if !strings.HasPrefix(s.line, "boneyard listening on http://127.0.0.1:") {
		t.Fatalf("start line %q", s.line)
	}
	base, token := s.base, s.token
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	// `boneyard url` finds the server on its port, not the default one.
	if got, want := s.url(t), strings.TrimPrefix(s.line, "boneyard listening on "); got != want {
		t.Errorf("boneyard url = %q, want the running server's %q", got, want)
	}
	addrFile := filepath.Join(s.home, ".bones", "boneyard", "servers", strconv.Itoa(s.cmd.Process.Pid)+".json")
	if fi, err := os.Stat(addrFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("server record: %v, %v; want mode 0600", fi, err)
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
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-streamClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream is still open 5 s after SIGTERM")
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Fatalf("exit: %v; stderr: %s", err, s.stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after SIGTERM")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if extra := <-s.rest; extra != "" {
		t.Errorf("more than one line on stdout: %q", extra)
	}
	if _, err := os.Stat(addrFile); !os.IsNotExist(err) {
		t.Errorf("server record left after a clean shutdown: %v", err)
	}
	// With nothing running, the URL is the default one again.
	if got := s.url(t); !strings.HasPrefix(got, "http://127.0.0.1:2663/?token="+token) {
		t.Errorf("boneyard url after shutdown = %q, want the default address", got)
	}
}

// TestServeOtherLoopbackAddress: bound to 127.0.0.5, the printed URL works
// (the Host allow-list knows the bound address) and `boneyard url` prints
// it; an explicit --addr still wins.
func TestServeOtherLoopbackAddress(t *testing.T) {
	if ln, err := net.Listen("tcp", "127.0.0.5:0"); err != nil {
		t.Skipf("this host cannot bind 127.0.0.5: %v", err)
	} else {
		ln.Close()
	}
	s := startServer(t, "127.0.0.5:0")
	if !strings.HasPrefix(s.base, "http://127.0.0.5:") {
		t.Fatalf("start line %q", s.line)
	}
	for _, target := range []string{"/", "/api/workspaces", "/healthz"} {
		req, _ := http.NewRequest(http.MethodGet, s.base+target, nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && !(target == "/api/workspaces" && resp.StatusCode == http.StatusServiceUnavailable) {
			t.Errorf("GET %s: %d", target, resp.StatusCode)
		}
	}
	if got, want := s.url(t), strings.TrimPrefix(s.line, "boneyard listening on "); got != want {
		t.Errorf("boneyard url = %q, want %q", got, want)
	}
	if got := s.url(t, "--addr", "127.0.0.1:9000"); got != "http://127.0.0.1:9000/?token="+s.token+"\n" {
		t.Errorf("boneyard url --addr = %q, want the explicit address", got)
	}
}

// TestURLRefusesForeignToken: when the running server uses another token
// (say it was started with BONEYARD_TOKEN), `boneyard url` says so instead
// of printing a URL that only reaches the 401 page.
func TestURLRefusesForeignToken(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	t.Setenv("HOME", s.home)
	t.Setenv("BONEYARD_TOKEN", "not-"+s.token)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"url"}, &stdout, &stderr); code != 1 {
		t.Errorf("boneyard url with a foreign token: exit %d, want 1; stdout %q", code, stdout.String())
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "uses another token") {
		t.Errorf("stdout %q, stderr %q: want no URL and the reason", stdout.String(), stderr.String())
	}
}

// TestURLTellsSquatterNothing: the record of a boneyard that was killed
// names a port another program now listens on. `boneyard url` prints the
// default URL and never connects there, so the squatter learns no token.
func TestURLTellsSquatterNothing(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("BONEYARD_TOKEN", "")
	squatter, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	connected := make(chan struct{}, 1)
	go func() {
		if c, err := squatter.Accept(); err == nil {
			connected <- struct{}{}
			c.Close()
		}
	}()
	killed := exec.Command("true")
	if err := killed.Run(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".bones", "boneyard")
	token, err := state.LoadToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := state.Publish(dir, state.Record{Addr: squatter.Addr().String(), PID: killed.ProcessState.Pid(), TokenHash: state.HashToken(token)}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"url"}, &stdout, &stderr); code != 0 || stdout.String() != "http://127.0.0.1:2663/?token="+token+"\n" {
		t.Errorf("boneyard url = %d, %q (%s); want the default URL", code, stdout.String(), stderr.String())
	}
	select {
	case <-connected:
		t.Error("boneyard url connected to the squatter")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestTokenRotate(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("BONEYARD_TOKEN", "")
	path := filepath.Join(home, ".bones", "boneyard", "token")
	var urls []string
	for range 2 {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"token", "rotate"}, &stdout, &stderr); code != 0 {
			t.Fatalf("token rotate: exit %d: %s", code, stderr.String())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := "http://127.0.0.1:2663/?token=" + strings.TrimSpace(string(b)) + "\n"
		if stdout.String() != want || len(b) != 65 {
			t.Fatalf("token rotate printed %q, file %q; want %q", stdout.String(), b, want)
		}
		urls = append(urls, want)
	}
	if urls[0] == urls[1] {
		t.Error("two rotations gave the same token")
	}
	var stderr bytes.Buffer
	if code := run([]string{"token"}, io.Discard, &stderr); code != 2 {
		t.Errorf("boneyard token: exit %d, want 2 (usage)", code)
	}
}

// TestOtherUserRefused: with the right token, a request from another local
// user's process gets no answer at all, while the same request from this
// user's is served.
func TestOtherUserRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching to another uid needs root")
	}
	s := startServer(t, "127.0.0.1:0")
	dir, err := os.MkdirTemp("", "boneyard-client-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "client")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	get := func(cred *syscall.Credential) string {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), getEnv+"="+s.base+"/api/processes", "BONEYARD_TEST_BEARER="+s.token)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client: %v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := get(nil); got != "200" {
		t.Errorf("own uid: %s, want 200", got)
	}
	if got := get(&syscall.Credential{Uid: 65534, Gid: 65534}); got != "refused" {
		t.Errorf("uid 65534 with the token: %s, want the connection refused", got)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	err = <-s.done
	s.done <- err
	if !strings.Contains(s.stderr.String(), "refused a connection from another local user") {
		t.Errorf("no log of the refusal: %s", s.stderr.String())
	}
}

// status is the code of a Bearer GET to base+path with the given Host.
func status(t *testing.T, base, host, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Host = host
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s%s (Host %s): %v", base, path, host, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLocalhostOnBothLoopbacks: boneyard serves its port on [::1] too, so
// no one else can take the address a browser may send localhost to; when
// [::1] on its port is someone else's, localhost is refused.
func TestLocalhostOnBothLoopbacks(t *testing.T) {
	probe, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	port := strconv.Itoa(probe.Addr().(*net.TCPAddr).Port)
	probe.Close()

	s := startServer(t, "127.0.0.1:"+port)
	if got := status(t, "http://[::1]:"+port, "localhost:"+port, "/healthz", s.token); got != http.StatusOK {
		t.Errorf("GET via [::1]: %d, want 200 from boneyard itself", got)
	}
	if got := status(t, s.base, "localhost:"+port, "/healthz", s.token); got != http.StatusOK {
		t.Errorf("Host localhost: %d, want 200", got)
	}
	s.cmd.Process.Kill()
	<-s.done
	s.done <- nil

	squatter, err := net.Listen("tcp", "[::1]:"+port)
	if err != nil {
		t.Skipf("port %s on [::1] was taken meanwhile: %v", port, err)
	}
	defer squatter.Close()
	s = startServer(t, "127.0.0.1:"+port)
	if got := status(t, s.base, "localhost:"+port, "/healthz", s.token); got != http.StatusForbidden {
		t.Errorf("Host localhost with [::1] squatted: %d, want 403", got)
	}
	if got := status(t, s.base, "127.0.0.1:"+port, "/healthz", s.token); got != http.StatusOK {
		t.Errorf("Host 127.0.0.1: %d, want 200", got)
	}
}
