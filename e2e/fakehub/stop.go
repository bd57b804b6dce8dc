//go:build unix

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"boneyard/lock"
)

// Timings of `bones hub stop`: SIGTERM, up to termGrace for the hub to exit,
// then SIGKILL and up to killGrace more.
const (
	termGrace = 2 * time.Second
	killGrace = 500 * time.Millisecond
)

// runStop is `bones hub stop [--force]`: it signals the pid in hub.pid
// (never itself) and removes hub.pid; it leaves the registry to the hub's
// own shutdown. It is silent and succeeds when there is no hub. Unless
// forced it refuses while a swarm slot's leaf.pid names a live process.
func runStop(args []string) error {
	fs := flag.NewFlagSet("bones hub stop", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	force := fs.Bool("force", false, "stop even while swarm slots are active")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	bd := lock.StateDir(cwd)
	if !*force {
		if slots := liveSlots(bd); len(slots) > 0 {
			return fmt.Errorf("hub: active swarm slots present: %s — close them first or pass --force", strings.Join(slots, ", "))
		}
	}
	pidPath := filepath.Join(bd, "hub.pid")
	pid, err := readPID(pidPath)
	if err != nil || pid == os.Getpid() {
		return nil
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGTERM)
		if !waitDead(pid, termGrace) {
			syscall.Kill(pid, syscall.SIGKILL)
			waitDead(pid, killGrace)
		}
	}
	if err := os.Remove(pidPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("hub: remove %s: %w", pidPath, err)
	}
	return nil
}

// liveSlots names the swarm slots whose <bd>/swarm/<slot>/leaf.pid is alive.
func liveSlots(bd string) []string {
	paths, _ := filepath.Glob(filepath.Join(bd, "swarm", "*", "leaf.pid"))
	var slots []string
	for _, p := range paths {
		if livePID(p) > 0 {
			slots = append(slots, filepath.Base(filepath.Dir(p)))
		}
	}
	sort.Strings(slots)
	return slots
}

// waitDead polls until pid is gone or d has passed.
func waitDead(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
