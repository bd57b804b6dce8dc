package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"boneyard/procscan"
)

// reapGrace is how long a hub gets to exit after the polite stop signal
// before it is killed; reapPoll is how often its exit is checked.
var (
	reapGrace = 2 * time.Second
	reapPoll  = 25 * time.Millisecond
)

// recycleSlack is how much later than an entry's StartedAt the process's
// create time may be and still count as the process that wrote it. A hub
// writes StartedAt after it has started, so its create time is normally
// earlier; the slack absorbs clock error in the create time, which on Linux
// is boot time (whole seconds in /proc/stat) plus clock ticks, and wall
// clock steps since boot. A pid recycled by a process born later than that
// is never signalled.
const recycleSlack = 2 * time.Second

// createTimeTolerance absorbs the rounding of create times between two
// reads (clock ticks on Linux, microseconds elsewhere).
const createTimeTolerance = 10 * time.Millisecond

// Reap stops e's hub and removes its entry. The hub gets a polite stop
// (SIGTERM; on Windows there is none and it is killed at once), up to 2 s
// to exit, then SIGKILL; the entry is removed afterwards, also
// after a SIGKILL. A dead pid, or an idle row, only has its entry removed.
//
// Reap never signals pid <= 1 or the calling process, and never a recycled
// pid: if the live process under e.HubPID was created after e.StartedAt
// (plus 2 s of slack for clock rounding), it is not e's hub, so the entry is removed and
// nothing is signalled. Only the entry that still names e.HubPID is
// removed, so a hub that restarted meanwhile keeps its new entry.
func Reap(e Entry) error {
	if e.HubPID == 0 {
		return RemoveEntry(e)
	}
	if err := guardPID(e.HubPID); err != nil {
		return err
	}
	// The handle pins the process (a pidfd on Linux, a process handle on
	// Windows): the checks below and the signals go to one process.
	p, err := os.FindProcess(e.HubPID)
	if err != nil {
		return RemoveEntry(e)
	}
	defer p.Release()
	if !pidAlive(e.HubPID) {
		return RemoveEntry(e)
	}
	created, err := procscan.CreateTime(e.HubPID)
	if err != nil {
		if !pidAlive(e.HubPID) {
			return RemoveEntry(e)
		}
		return fmt.Errorf("registry reap pid %d: cannot read its start time, so it is left alone: %w", e.HubPID, err)
	}
	if e.StartedAt.IsZero() {
		return fmt.Errorf("registry reap pid %d: the entry for %s has no started_at, so a recycled pid cannot be ruled out; remove the entry instead", e.HubPID, e.Cwd)
	}
	if recycled(e, created) {
		slog.Warn("registry: pid was recycled; removing the entry without signalling",
			"pid", e.HubPID, "cwd", e.Cwd, "entry_started", e.StartedAt, "process_created", created)
		return RemoveEntry(e)
	}
	if err := stop(p); err != nil {
		return err
	}
	return RemoveEntry(e)
}

// ReapPID stops the process pid as Reap does (polite stop, grace, kill)
// without touching the registry. A dead pid is a no-op. pid <= 1 and the
// calling process are refused.
func ReapPID(pid int) error {
	if err := guardPID(pid); err != nil {
		return err
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	defer p.Release()
	if !pidAlive(pid) {
		return nil
	}
	return stop(p)
}

// ReapProcess is ReapPID guarded against pid reuse, for hubs that no entry
// describes: pid must be a live `bones hub start` process (else ErrNotHub)
// whose create time equals seen, as an earlier scan reported it (else
// ErrProcessChanged).
func ReapProcess(pid int, seen time.Time) error {
	if err := guardPID(pid); err != nil {
		return err
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("registry reap pid %d: %w", pid, ErrNotHub)
	}
	defer p.Release()
	procs, err := procscan.Scan()
	if err != nil {
		return fmt.Errorf("registry reap pid %d: scan hub processes: %w", pid, err)
	}
	for _, hub := range procs {
		if hub.PID != pid {
			continue
		}
		if d := hub.CreateTime.Sub(seen).Abs(); d > createTimeTolerance {
			return fmt.Errorf("registry reap pid %d: started %v, not %v as seen: %w", pid, hub.CreateTime, seen, ErrProcessChanged)
		}
		return stop(p)
	}
	return fmt.Errorf("registry reap pid %d: %w", pid, ErrNotHub)
}

// recycled reports whether a process created at created is too young to be
// the hub that wrote e.
func recycled(e Entry, created time.Time) bool {
	return !e.StartedAt.IsZero() && created.After(e.StartedAt.Add(recycleSlack))
}

// guardPID refuses pids that must never be signalled.
func guardPID(pid int) error {
	switch {
	case pid <= 1:
		return fmt.Errorf("registry reap: refusing to signal pid %d", pid)
	case pid == os.Getpid():
		return fmt.Errorf("registry reap: refusing to signal pid %d, this process", pid)
	}
	return nil
}

// stop asks p to exit, waits up to reapGrace, then kills it and waits for
// it to be gone. A process that exits on its own meanwhile is fine.
func stop(p *os.Process) error {
	if err := requestStop(p); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return nil
		}
		return fmt.Errorf("registry reap pid %d: %w", p.Pid, err)
	}
	if waitGone(p, reapGrace) {
		return nil
	}
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("registry reap pid %d: kill: %w", p.Pid, err)
	}
	if !waitGone(p, reapGrace) {
		slog.Warn("registry: process still present after SIGKILL", "pid", p.Pid)
	}
	return nil
}

// waitGone polls until p is gone (a zombie counts as gone) or d passes.
func waitGone(p *os.Process, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !gone(p) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(reapPoll)
	}
	return true
}
