// Package collector owns the dashboard's immutable snapshot of the registry,
// the live hub processes, lock states and per-hub resources. One goroutine
// re-collects on registry changes, on demand and on an interval; readers only
// ever see a complete snapshot.
package collector

import (
	"context"
	"time"

	"boneyard/lock"
	"boneyard/procscan"
	"boneyard/registry"
)

// Status is the dashboard's badge for a workspace.
type Status string

const (
	StatusRunning Status = "running" // pid alive, hub answers
	StatusStopped Status = "stopped" // entry has a hub, but it does not answer
	StatusIdle    Status = "idle"    // pid 0: registered by `bones up`
	StatusUnknown Status = "unknown" // not enough info to probe
	StatusOrphan  Status = "orphan"  // pid alive, workspace gone
)

// Workspace is one registry row with everything the pages show.
type Workspace struct {
	registry.Info
	Status       Status
	OrphanReason string
	Lock         lock.State
	Resources    *procscan.Resources // nil unless the hub pid is alive
}

// Snapshot is immutable once published.
type Snapshot struct {
	Seq        uint64 // increases with every published snapshot
	Taken      time.Time
	Took       time.Duration
	Workspaces []Workspace          // sorted problems first, then name, cwd
	Orphans    []registry.OrphanHub // process-only orphans
	Processes  []procscan.Process   // every live hub process
	Err        error                // last collection error, if any
}

// Options configure a Collector.
type Options struct {
	Interval time.Duration // periodic re-collection; default 2s
}

// Collector builds snapshots.
type Collector struct{}

// New returns a collector; call Run to start it.
func New(opts Options) *Collector { panic("not implemented") }

// Run collects until ctx is done.
func (c *Collector) Run(ctx context.Context) error { panic("not implemented") }

// Snapshot returns the latest snapshot; never nil after New.
func (c *Collector) Snapshot() *Snapshot { panic("not implemented") }

// Trigger asks for a re-collection soon; bursts are coalesced.
func (c *Collector) Trigger() { panic("not implemented") }

// Refresh re-collects now and returns the new snapshot (used right after an
// action so the answer reflects it).
func (c *Collector) Refresh(ctx context.Context) *Snapshot { panic("not implemented") }

// Subscribe returns a channel that receives each newly published snapshot
// (latest wins: a slow reader skips intermediate ones) and a cancel func.
func (c *Collector) Subscribe() (<-chan *Snapshot, func()) { panic("not implemented") }
