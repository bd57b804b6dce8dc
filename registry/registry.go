// Package registry reads and writes the bones workspace registry,
// ~/.bones/workspaces/<id>.json, interoperably with the bones CLI.
//
// Every `bones hub start` records its workspace in one JSON file named after
// the workspace (see WorkspaceID); `bones up` records an idle row (hub_pid 0).
// The package lists those files, prunes stale ones on read, probes the hubs,
// finds orphaned hub processes and reaps them. Files are shared with bones
// processes that know nothing of this package, so every change to the
// directory is made with whole-file renames and hard links, never by editing
// a file in place, and no step relies on a lock that bones would not take.
//
// A Registry value names the directories it works on; the package-level
// functions work on Default(), the registry of $HOME as it is at the call,
// as http.Get uses http.DefaultClient.
package registry

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"boneyard/lock"
)

// LockFileName and LockPidFileName are the basenames of the workspace lock
// that `bones hub start` takes under <root>/.bones and of the sibling file
// that records its holder.
const (
	LockFileName    = lock.FileName
	LockPidFileName = lock.PidFileName
)

// Registry is one registry directory and the home whose trash makes a
// workspace count as gone. Its methods are the package-level functions of
// the same names, on these directories instead of $HOME's, so registries in
// different directories can be used side by side in one process. Dir must
// be set; a Registry is safe for concurrent use and cheap to copy.
type Registry struct {
	// Dir holds the workspace entry files, <id>.json; for a home directory
	// h, bones uses h/.bones/workspaces.
	Dir string
	// Home is the home directory whose trash directories, Home/.Trash and
	// Home/.local/share/Trash, hold workspaces that are gone; "" for none.
	Home string
	// DataHome, if set, is an XDG data directory whose Trash counts too
	// (the XDG_DATA_HOME of the user).
	DataHome string

	tune *tuning // nil: the defaults
}

// tuning holds what tests change to run faster or to watch the package.
type tuning struct {
	reapGrace time.Duration // zero: reapGrace
	noSync    bool          // skip fsync: only machine crashes need it
	onDiscard func(Entry)   // sees every entry deleted by pruning or settling
}

// Default returns the registry bones uses: $HOME/.bones/workspaces, with
// $HOME's trash and, if XDG_DATA_HOME is an absolute path, its trash. The
// environment is read at every call. Without a home directory the registry
// directory is the relative .bones/workspaces, with a warning.
func Default() Registry {
	home, err := os.UserHomeDir()
	if err != nil {
		slog.Warn("registry: no home directory; using a relative registry path", "err", err)
	}
	r := ForHome(home)
	if xdg := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
		r.DataHome = xdg
	}
	return r
}

// ForHome returns the registry of the user whose home directory is home:
// Dir home/.bones/workspaces, and home's trash.
func ForHome(home string) Registry {
	return Registry{Dir: filepath.Join(home, ".bones", "workspaces"), Home: home}
}

// ErrNotFound is returned by Read when no entry exists for the given cwd.
var ErrNotFound = errors.New("registry: entry not found")

// HealthTimeout bounds one HTTP probe of a hub (see IsAlive).
var HealthTimeout = 500 * time.Millisecond

// ErrLockHeld is returned by AcquireWorkspaceLock when another live process
// holds the workspace lock.
type ErrLockHeld = lock.ErrLockHeld

// Entry is one workspace's registry record, stored as
// ~/.bones/workspaces/<WorkspaceID(Cwd)>.json. Older bones wrote
// <id>-<pid>.json; Read migrates those into the canonical name.
type Entry struct {
	Cwd       string    `json:"cwd"`
	Name      string    `json:"name"`
	HubURL    string    `json:"hub_url"`
	NATSURL   string    `json:"nats_url"`
	HubPID    int       `json:"hub_pid"`
	StartedAt time.Time `json:"started_at"`
}

// HubStatus is a coarse liveness label produced by ListInfo.
type HubStatus string

// HubRunning: the recorded pid is alive and its hub_url answered a probe.
// HubStopped: the entry names a hub that is not reachable.
// HubUnknown: the entry has nothing to probe (idle row, no or non-loopback
// hub_url).
const (
	HubRunning HubStatus = "running"
	HubStopped HubStatus = "stopped"
	HubUnknown HubStatus = "unknown"
)

// Info is one registry entry enriched with its file id, the file's mtime,
// the workspace's agent.id marker and a hub liveness label.
type Info struct {
	Entry

	ID          string    `json:"id"`
	AgentID     string    `json:"agent_id"`
	HubStatus   HubStatus `json:"hub_status"`
	LastTouched time.Time `json:"last_touched"`
}

// HubProcess is a live `bones hub start` process found on this host.
type HubProcess struct {
	PID   int
	ETime string // ps-style elapsed time, e.g. "2-14:05:09" or "19:23"
	Cwd   string // absolute path, or "" when unreadable
	Cmd   string // full command line
}

// OrphanHub is a live hub process whose workspace is gone or unknown.
type OrphanHub struct {
	PID         int
	Cwd         string // "" when unknown
	Cmd         string
	ETime       string
	CreateTime  time.Time
	Reason      string // human-readable, e.g. "cwd no longer exists"
	ProcessOnly bool   // true: no registry entry refers to it
	Entry       *Entry // the registry entry, when not ProcessOnly
	ID          string // WorkspaceID of Entry, when not ProcessOnly
}

var (
	// ErrNotHub is returned by the reap functions when the pid is not a
	// live `bones hub start` process that may be signalled: another
	// program, an exited process (ReapProcess), pid <= 1 or the caller.
	ErrNotHub = errors.New("registry: pid is not a live bones hub")
	// ErrProcessChanged is returned by ReapProcess and ReapEntry when the
	// pid's create time differs from what the caller saw: the pid now names
	// another process.
	ErrProcessChanged = errors.New("registry: process changed since it was observed")
	// ErrUnverified is returned by ReapEntry when the entry's started_at is
	// missing or in the future, so the file cannot show that the live
	// process under its pid is the hub that wrote it.
	ErrUnverified = errors.New("registry: the entry cannot vouch for its hub pid")
	// ErrNoHub is returned by ReapSeen when the workspace's entry is an
	// idle row (hub_pid 0): there is no hub to stop, and Remove drops the
	// entry.
	ErrNoHub = errors.New("registry: the entry names no hub process")
	// ErrHubChanged is matched (errors.Is) by every *HubChangedError.
	ErrHubChanged = errors.New("registry: the workspace's hub changed since it was seen")
	// ErrNotYours is returned by every reap function when the process runs
	// as another user (or as root, for a caller that is not root): it is
	// never signalled, even by a caller that could.
	ErrNotYours = errors.New("registry: the process runs as another user")
	// ErrWrongWorkspace is returned by ReapEntry and ReapSeen when the hub
	// under the entry's pid does not run in the entry's workspace (its cwd,
	// symlinks resolved, is another directory, or cannot be read): the
	// entry names another workspace's hub, which is left alone, and the
	// entry stays.
	ErrWrongWorkspace = errors.New("registry: the hub runs in another workspace than the entry's")
)

// HubChangedError is returned by ReapSeen when the workspace's entry names
// another hub pid than the caller saw: a hub restarted meanwhile, and
// nothing was signalled.
type HubChangedError struct {
	Cwd     string
	Seen    int // the pid the caller saw
	Current int // the pid the entry names now
}

func (e *HubChangedError) Error() string {
	return fmt.Sprintf("registry reap %s: the hub changed since it was seen (pid %d, now %d); nothing was signalled", e.Cwd, e.Seen, e.Current)
}

// Unwrap makes errors.Is(err, ErrHubChanged) hold.
func (e *HubChangedError) Unwrap() error { return ErrHubChanged }
