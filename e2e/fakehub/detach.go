//go:build unix

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"boneyard/lock"
	"boneyard/registry"
)

// readyTimeout bounds each wait of a detaching start, as in bones.
const readyTimeout = 15 * time.Second

// logTailBytes is how much of hub.log a failed detaching start quotes.
const logTailBytes = 2048

// detach is `bones hub start --detach`: under the workspace lock it re-runs
// this binary as a foreground hub in a new session, with its output
// appended to hub.log, and returns once the hub serves both ports, has
// written hub.pid and its registry entry. A live hub.pid means a hub runs
// already: it returns at once and says nothing.
func detach(c config, stderr io.Writer) error {
	cwd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	bd := lock.StateDir(cwd)
	if livePID(filepath.Join(bd, "hub.pid")) > 0 {
		return nil
	}
	release, err := lock.Acquire(cwd)
	var held *lock.ErrLockHeld
	if errors.As(err, &held) {
		return fmt.Errorf("hub: workspace hub lock %s held by pid %d", held.Path, held.PID)
	}
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer release()

	fossilURL, natsURL, err := ports(bd, c)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("hub: locate own binary: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(bd, "hub.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("hub: open hub.log: %w", err)
	}
	defer logf.Close()
	args := []string{"hub", "start", "--repo-port", port(fossilURL), "--coord-port", port(natsURL), "--mode", c.mode}
	if c.name != "" {
		args = append(args, "--name", c.name)
	}
	if c.agentID != "" {
		args = append(args, "--agent-id", c.agentID)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), foregroundEnv+"=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("hub: start child: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	child := cmd.Process.Pid

	steps := []struct {
		what string
		ok   func() bool
	}{
		{"repo port ready", func() bool { return dials(fossilURL) }},
		{"coord port ready", func() bool { return dials(natsURL) }},
		{"hub.pid names the child", func() bool { p, err := readPID(filepath.Join(bd, "hub.pid")); return err == nil && p == child }},
		{"registry records the child", func() bool { e, err := registry.Read(cwd); return err == nil && e.HubPID == child }},
	}
	for _, s := range steps {
		if err := waitFor(s.ok, exited); err != nil {
			cmd.Process.Kill()
			return fmt.Errorf("hub: child %s: %s\n--- %s (tail) ---\n%s", s.what, err, filepath.Join(bd, "hub.log"), tail(filepath.Join(bd, "hub.log")))
		}
	}
	fmt.Fprintf(stderr, "hub: fossil at %s, nats at %s (pid=%d)\n", fossilURL, natsURL, child)
	return nil
}

// waitFor polls ok until it holds, the child exits or readyTimeout passes.
func waitFor(ok func() bool, exited <-chan error) error {
	deadline := time.Now().Add(readyTimeout)
	for !ok() {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before ready: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timeout after %s", readyTimeout)
		}
	}
	return nil
}

// ports returns the hub and NATS URLs: the flags', else the recorded ones in
// hub-fossil-url and hub-nats-url, else free ports; both files are rewritten.
func ports(bd string, c config) (fossilURL, natsURL string, err error) {
	pick := func(flagPort int, file, scheme string) (string, error) {
		if flagPort > 0 {
			return scheme + portAddr(flagPort), nil
		}
		if b, err := os.ReadFile(filepath.Join(bd, file)); err == nil {
			if u := strings.TrimSpace(string(b)); strings.HasPrefix(u, scheme+"127.0.0.1:") {
				return u, nil
			}
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("hub: pick a free port: %w", err)
		}
		defer l.Close()
		return scheme + l.Addr().String(), nil
	}
	if fossilURL, err = pick(c.repoPort, "hub-fossil-url", "http://"); err != nil {
		return "", "", err
	}
	if natsURL, err = pick(c.coordPort, "hub-nats-url", "nats://"); err != nil {
		return "", "", err
	}
	for file, u := range map[string]string{"hub-fossil-url": fossilURL, "hub-nats-url": natsURL} {
		if err := os.WriteFile(filepath.Join(bd, file), []byte(u+"\n"), 0o644); err != nil {
			return "", "", fmt.Errorf("hub: record %s: %w", file, err)
		}
	}
	return fossilURL, natsURL, nil
}

// port is the port of a scheme://127.0.0.1:P URL.
func port(u string) string { return u[strings.LastIndexByte(u, ':')+1:] }

func dials(u string) bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port(u), 200*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// tail is the last logTailBytes of a file, for an error message.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > logTailBytes {
		f.Seek(fi.Size()-logTailBytes, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, logTailBytes))
	return string(b)
}
