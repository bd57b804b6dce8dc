package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/process"

	"boneyard/procscan"
)

// reapGrace is how long a hub gets to exit after the polite stop signal
// before it is killed; reapPoll is how often its exit is checked.
const (
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

// ReapOutcome says what ReapEntry did.
type ReapOutcome int

const (
	// ReapStopped: the hub was signalled and is gone; its entry was removed.
	ReapStopped ReapOutcome = iota + 1
	// ReapExited: the pid was already dead (or a zombie), or the entry was
	// an idle row: only the entry was removed.
	ReapExited
	// ReapRecycled: the pid names a bones hub born after the entry, not the
	// hub that wrote it: nothing was signalled, the stale entry was removed.
	ReapRecycled
)

// Reap stops e's hub and removes its entry from the default registry; see
// Registry.Reap.
func Reap(e Entry) error { return Default().Reap(e) }

// Reap stops e's hub and removes its entry: ReapEntry without a create time
// seen by the caller.
func (r Registry) Reap(e Entry) error {
	_, err := r.ReapEntry(e, time.Time{})
	return err
}

// ReapEntry stops e's hub and removes its entry from the default registry;
// see Registry.ReapEntry.
func ReapEntry(e Entry, seen time.Time) (ReapOutcome, error) { return Default().ReapEntry(e, seen) }

// ReapEntry stops e's hub and removes e's entry, and holds every rule about
// which process may be signalled for an entry read from an untrusted file.
//
// An idle row (hub_pid 0) or a dead pid only has its entry removed
// (ReapExited). Otherwise the process under e.HubPID is signalled only if
// all of these hold, checked through a handle that pins the process (a
// pidfd on Linux, a process handle on Windows), so a pid recycled meanwhile
// is not signalled either:
//
//   - it is neither pid <= 1 nor the calling process;
//   - it is a `bones hub start` process (else ErrNotHub);
//   - it runs as this user, real and effective uid (else ErrNotYours);
//   - when seen is non-zero, its create time is seen, as an earlier scan
//     reported it (else ErrProcessChanged);
//   - e.StartedAt is set and not in the future, so the file can vouch for
//     the pid (else ErrUnverified);
//   - it was created no later than e.StartedAt, plus 2 s of slack for clock
//     rounding; a younger hub is another process that got the pid, so the
//     stale entry is removed and nothing is signalled (ReapRecycled);
//   - its working directory, symlinks resolved, is e.Cwd, symlinks
//     resolved (else ErrWrongWorkspace: an entry naming another
//     workspace's hub). When e.Cwd no longer exists, a hub whose directory
//     was removed under that path, or that runs in the trash (a workspace
//     moved there), passes too.
//
// The hub gets a polite stop (SIGTERM; on Windows there is none and it is
// killed at once), up to 2 s to exit, then SIGKILL; the entry is removed
// afterwards, also after a SIGKILL (ReapStopped). On every refusal nothing
// is signalled and the entry stays. Only the entry that still names
// e.HubPID is removed, so a hub that restarted meanwhile keeps its new
// entry.
func (r Registry) ReapEntry(e Entry, seen time.Time) (ReapOutcome, error) {
	if e.HubPID == 0 {
		return ReapExited, r.RemoveEntry(e)
	}
	h, err := pinHub(e.HubPID)
	if err != nil {
		return 0, err
	}
	if h == nil {
		return ReapExited, r.RemoveEntry(e)
	}
	defer h.p.Release()
	if err := h.matches(seen); err != nil {
		return 0, err
	}
	if err := vouches(e, time.Now()); err != nil {
		return 0, err
	}
	if recycled(e, h.created) {
		slog.Warn("registry: pid was recycled; removing the entry without signalling",
			"pid", e.HubPID, "cwd", e.Cwd, "entry_started", e.StartedAt, "process_created", h.created)
		return ReapRecycled, r.RemoveEntry(e)
	}
	if err := r.inWorkspace(h, e.Cwd); err != nil {
		return 0, err
	}
	if err := stop(h.p, r.reapGrace()); err != nil {
		return 0, err
	}
	return ReapStopped, r.RemoveEntry(e)
}

func (r Registry) reapGrace() time.Duration {
	if r.tune != nil && r.tune.reapGrace > 0 {
		return r.tune.reapGrace
	}
	return reapGrace
}

// ReapSeen reaps a hub seen in the default registry; see Registry.ReapSeen.
func ReapSeen(shown Entry, pid int, created time.Time) (ReapOutcome, Entry, error) {
	return Default().ReapSeen(shown, pid, created)
}

// ReapSeen reaps the hub that a caller saw for a workspace, typically on a
// page rendered from an earlier listing: shown is the entry it saw, pid the
// hub pid it showed (0: not given) and created the create time it saw of
// that process (zero: not given).
//
// The entry for shown.Cwd is read again, which prunes it if its hub has
// exited or its workspace is gone; without an entry, shown still says which
// hub was meant. An entry file that may not be read is refused with Read's
// error (ErrNotOwned for another user's), an entry with no hub pid with an
// error wrapping ErrNoHub, and one naming another pid than pid with a
// *HubChangedError; nothing is signalled then. Otherwise the entry is
// reaped by ReapEntry with created as the create time seen, which refuses
// another user's process (ErrNotYours) and a hub of another workspace
// (ErrWrongWorkspace). ReapSeen returns ReapEntry's
// outcome, the entry it acted on (the zero Entry if it could not be read)
// and the error.
func (r Registry) ReapSeen(shown Entry, pid int, created time.Time) (ReapOutcome, Entry, error) {
	e, err := r.Read(shown.Cwd)
	if errors.Is(err, ErrNotFound) {
		e, err = shown, nil
	}
	switch {
	case err != nil:
		return 0, Entry{}, err
	case e.HubPID == 0:
		return 0, e, fmt.Errorf("registry reap %s: %w", e.Cwd, ErrNoHub)
	case pid != 0 && pid != e.HubPID:
		return 0, e, &HubChangedError{Cwd: e.Cwd, Seen: pid, Current: e.HubPID}
	}
	outcome, err := r.ReapEntry(e, created)
	return outcome, e, err
}

// ReapPID stops the `bones hub start` process pid as Reap does (polite
// stop, grace, kill) without touching the registry. A dead pid is a no-op.
// pid <= 1, the calling process, any process that is not a bones hub
// (ErrNotHub) and any that runs as another user (ErrNotYours) are refused.
func ReapPID(pid int) error { return reapPID(pid, reapGrace) }

func reapPID(pid int, grace time.Duration) error {
	h, err := pinHub(pid)
	if h == nil || err != nil {
		return err
	}
	defer h.p.Release()
	return stop(h.p, grace)
}

// ReapProcess is ReapPID guarded against pid reuse, for hubs that no entry
// describes: pid must be a live `bones hub start` process (else ErrNotHub)
// of this user (else ErrNotYours) whose create time equals seen, as an earlier scan reported it (else
// ErrProcessChanged; a zero seen never matches).
func ReapProcess(pid int, seen time.Time) error { return reapProcess(pid, seen, reapGrace) }

func reapProcess(pid int, seen time.Time, grace time.Duration) error {
	h, err := pinHub(pid)
	if err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("registry reap pid %d: it has exited: %w", pid, ErrNotHub)
	}
	defer h.p.Release()
	if seen.IsZero() {
		return fmt.Errorf("registry reap pid %d: no create time to compare with: %w", pid, ErrProcessChanged)
	}
	if err := h.matches(seen); err != nil {
		return err
	}
	return stop(h.p, grace)
}

// pinnedHub is a live `bones hub start` process held by a handle, so the
// checks made on it and the signals sent to it concern one process.
type pinnedHub struct {
	p       *os.Process
	created time.Time
	cwd     string // its working directory; "" when cwdErr is set
	deleted bool   // cwd has been removed
	cwdErr  error
}

// pinHub opens a handle on pid and checks, after the handle exists, that it
// is a live `bones hub start` process; reads made before the handle could
// describe a process that the handle does not hold. It returns nil, nil for
// a dead pid or a zombie, ErrNotHub for pid <= 1, the calling process,
// and any process that is not a bones hub, and ErrNotYours for a process
// of another user. The caller releases the handle.
func pinHub(pid int) (*pinnedHub, error) {
	switch {
	case pid <= 1:
		return nil, fmt.Errorf("registry reap: refusing to signal pid %d: %w", pid, ErrNotHub)
	case pid == os.Getpid():
		return nil, fmt.Errorf("registry reap: refusing to signal pid %d, this process: %w", pid, ErrNotHub)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		if pidAlive(pid) {
			return nil, fmt.Errorf("registry reap pid %d: open the process: %w", pid, err)
		}
		return nil, nil
	}
	h, err := inspectHub(p)
	if h == nil {
		p.Release()
	}
	return h, err
}

// inspectHub reads what pinHub judges about the process p holds.
func inspectHub(p *os.Process) (*pinnedHub, error) {
	pid := p.Pid
	if !pidAlive(pid) {
		return nil, nil
	}
	argv, err := (&process.Process{Pid: int32(pid)}).CmdlineSlice()
	if err != nil {
		if !pidAlive(pid) {
			return nil, nil
		}
		return nil, fmt.Errorf("registry reap pid %d: cannot read its command line, so it is left alone: %w", pid, err)
	}
	if !procscan.IsHubCommand(argv) {
		if !pidAlive(pid) {
			return nil, nil // a zombie's command line is empty
		}
		return nil, fmt.Errorf("registry reap pid %d (%.80s): %w", pid, strings.Join(argv, " "), ErrNotHub)
	}
	mine, err := procscan.RunsAsSelf(pid)
	if err != nil {
		if !pidAlive(pid) {
			return nil, nil
		}
		return nil, fmt.Errorf("registry reap pid %d: cannot tell which user it runs as, so it is left alone: %w", pid, err)
	}
	if !mine {
		return nil, fmt.Errorf("registry reap pid %d: it runs as another user, so it is not this user's to stop: %w", pid, ErrNotYours)
	}
	created, err := procscan.CreateTime(pid)
	if err != nil {
		if !pidAlive(pid) {
			return nil, nil
		}
		return nil, fmt.Errorf("registry reap pid %d: cannot read its start time, so it is left alone: %w", pid, err)
	}
	cwd, deleted, cwdErr := procscan.Cwd(pid)
	if gone(p) {
		return nil, nil // the pinned process exited; the reads above may describe a successor
	}
	return &pinnedHub{p: p, created: created, cwd: cwd, deleted: deleted, cwdErr: cwdErr}, nil
}

// inWorkspace checks that h runs in the workspace at cwd, as ReapEntry
// describes.
func (r Registry) inWorkspace(h *pinnedHub, cwd string) error {
	pid := h.p.Pid
	if h.cwdErr != nil {
		return fmt.Errorf("registry reap pid %d: cannot read its working directory, so it is not shown to be the hub of %s; nothing was signalled: %v: %w", pid, cwd, h.cwdErr, ErrWrongWorkspace)
	}
	if resolve(h.cwd) == resolve(cwd) {
		return nil
	}
	if cwdGone(cwd) && inTrash(h.cwd, r.trashDirs()) {
		return nil
	}
	return fmt.Errorf("registry reap pid %d: it runs in %s, not in the entry's workspace %s; nothing was signalled: %w", pid, h.cwd, cwd, ErrWrongWorkspace)
}

// matches checks h's create time against seen, the one an earlier scan
// reported; a zero seen means the caller saw none and matches anything.
func (h *pinnedHub) matches(seen time.Time) error {
	if seen.IsZero() || h.created.Sub(seen).Abs() <= createTimeTolerance {
		return nil
	}
	return fmt.Errorf("registry reap pid %d: started %v, not %v as seen: %w", h.p.Pid, h.created, seen, ErrProcessChanged)
}

// vouches checks that e's StartedAt, as of now, can tell whether the
// process under its pid is the hub that wrote it: a missing started_at
// cannot, and one in the future (beyond the slack) would pass any process
// as old enough, so the file is not trusted.
func vouches(e Entry, now time.Time) error {
	switch {
	case e.StartedAt.IsZero():
		return fmt.Errorf("registry reap pid %d: the entry for %s has no started_at, so a recycled pid cannot be ruled out: %w", e.HubPID, e.Cwd, ErrUnverified)
	case e.StartedAt.After(now.Add(recycleSlack)):
		return fmt.Errorf("registry reap pid %d: the entry for %s has started_at %v, in the future: %w", e.HubPID, e.Cwd, e.StartedAt, ErrUnverified)
	}
	return nil
}

// recycled reports whether a process created at created is too young to be
// the hub that wrote e.
func recycled(e Entry, created time.Time) bool {
	return !e.StartedAt.IsZero() && created.After(e.StartedAt.Add(recycleSlack))
}

// stop asks p to exit, waits up to grace, then kills it and waits for it to
// be gone. A process that exits on its own meanwhile is fine.
func stop(p *os.Process, grace time.Duration) error {
	if err := requestStop(p); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return nil
		}
		return fmt.Errorf("registry reap pid %d: %w", p.Pid, err)
	}
	if waitGone(p, grace) {
		return nil
	}
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("registry reap pid %d: kill: %w", p.Pid, err)
	}
	if !waitGone(p, grace) {
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
