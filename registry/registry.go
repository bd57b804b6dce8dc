// Package registry reads and writes the bones workspace registry,
// ~/.bones/workspaces/<id>.json, interoperably with the bones CLI.
package registry

import (
	"errors"
	"time"

	"boneyard/lock"
)

const (
	LockFileName    = lock.FileName
	LockPidFileName = lock.PidFileName
)

var ErrNotFound = errors.New("registry: entry not found")

var HealthTimeout = 500 * time.Millisecond

type ErrLockHeld = lock.ErrLockHeld

type Entry struct {
	Cwd       string    `json:"cwd"`
	Name      string    `json:"name"`
	HubURL    string    `json:"hub_url"`
	NATSURL   string    `json:"nats_url"`
	HubPID    int       `json:"hub_pid"`
	StartedAt time.Time `json:"started_at"`
}

type HubStatus string

const (
	HubRunning HubStatus = "running"
	HubStopped HubStatus = "stopped"
	HubUnknown HubStatus = "unknown"
)

type Info struct {
	Entry

	ID          string    `json:"id"`
	AgentID     string    `json:"agent_id"`
	HubStatus   HubStatus `json:"hub_status"`
	LastTouched time.Time `json:"last_touched"`
}

type HubProcess struct {
	PID   int
	ETime string
	Cwd   string
	Cmd   string
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
	// ErrNotHub: the pid is not a live `bones hub start` process.
	ErrNotHub = errors.New("registry: pid is not a live bones hub")
	// ErrProcessChanged: the pid's create time differs from what the caller saw.
	ErrProcessChanged = errors.New("registry: process changed since it was observed")
)

func RegistryDir() string                              { panic("not implemented") }
func WorkspaceID(cwd string) string                    { panic("not implemented") }
func EntryPath(cwd string) string                      { panic("not implemented") }
func LockPath(root string) string                      { panic("not implemented") }
func LockPidPath(root string) string                   { panic("not implemented") }
func AcquireWorkspaceLock(root string) (func(), error) { panic("not implemented") }
func Write(e Entry) error                              { panic("not implemented") }
func Register(cwd, name string) error                  { panic("not implemented") }
func Remove(cwd string) error                          { panic("not implemented") }
func Read(cwd string) (Entry, error)                   { panic("not implemented") }
func List() ([]Entry, error)                           { panic("not implemented") }
func ListInfo() ([]Info, error)                        { panic("not implemented") }
func IsAlive(e Entry) bool                             { panic("not implemented") }
func IsOrphan(e Entry) bool                            { panic("not implemented") }
func Orphans() ([]Entry, error)                        { panic("not implemented") }
func Reap(e Entry) error                               { panic("not implemented") }
func LiveHubProcesses() ([]HubProcess, error)          { panic("not implemented") }

// AllOrphanHubs returns registry-side and process-only orphans under one
// definition, each with a reason.
func AllOrphanHubs() ([]OrphanHub, error) { panic("not implemented") }

// ReapPID terminates a hub process (SIGTERM, grace, SIGKILL); the registry is
// untouched; a dead pid is a no-op.
func ReapPID(pid int) error { panic("not implemented") }

// ReapProcess is ReapPID guarded against pid reuse: pid must be a live
// `bones hub start` process (else ErrNotHub) whose create time equals seen
// (else ErrProcessChanged).
func ReapProcess(pid int, seen time.Time) error { panic("not implemented") }
