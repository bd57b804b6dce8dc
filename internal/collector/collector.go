// Package collector owns the dashboard's immutable snapshot of the registry,
// the live hub processes, lock states and per-hub resources. One goroutine
// re-collects on registry changes, on demand and on an interval; readers only
// ever see a complete snapshot.
//
// A server runs one collector and never waits on a probe in a GET:
//
//	c := collector.New(collector.Options{Interval: interval, Logger: log})
//	go c.Run(ctx)
//
//	s := c.Snapshot()          // GET: never blocks; Seq 0 until the first collection
//	w, ok := s.Workspace(id)   // detail page; s.Process(pid), s.Orphan(pid) likewise
//	n := s.Counts()            // header; n.Problems() for the page title
//
//	s = c.Refresh(ctx)         // POST: after acting, a snapshot that shows the effect
//
//	ch, cancel := c.Subscribe() // live updates: latest snapshot wins
//	defer cancel()
//	for {
//		select {
//		case s := <-ch:
//			... // re-render from s; the caller decides what changed
//		case <-req.Context().Done():
//			return
//		}
//	}
//
// A snapshot with Seq 0 has not been collected yet: show "collecting", not
// "nothing registered". ListErr set means the same for a failed registry
// listing.
package collector

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
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

// Statuses returns every status in display order: problems first (orphan,
// stopped), then unknown, idle, running. Workspaces are sorted by it.
func Statuses() []Status {
	return []Status{StatusOrphan, StatusStopped, StatusUnknown, StatusIdle, StatusRunning}
}

// Problem reports whether a workspace with this status needs the user's
// attention: an orphan or a stopped hub.
func (s Status) Problem() bool { return s == StatusOrphan || s == StatusStopped }

// Rank is the status's position in Statuses, for sorting problems first;
// unknown strings sort last.
func (s Status) Rank() int {
	for i, st := range Statuses() {
		if st == s {
			return i
		}
	}
	return len(Statuses())
}

// Workspace is one registry row with everything the pages show.
type Workspace struct {
	registry.Info
	Status       Status              // the badge; HubStatus keeps the registry's own label
	OrphanReason string              // why the hub is an orphan; "" unless Status is orphan
	Lock         lock.State          // the workspace lock as probed (never taken)
	Resources    *procscan.Resources // nil unless the hub pid is alive; shared by entries naming the same pid
}

// Snapshot is immutable once published: the collector never modifies a
// published snapshot, and no slice or pointer in it is shared with another
// snapshot's mutable state. Readers must treat it as read-only; its slices
// have no spare capacity, so an append by one reader never writes into
// memory another reader sees.
type Snapshot struct {
	Seq        uint64               // increases with every published snapshot; 0 before the first collection
	Taken      time.Time            // when this collection started
	Took       time.Duration        // how long it took
	Workspaces []Workspace          // sorted problems first, then name, cwd
	Orphans    []registry.OrphanHub // process-only orphans, sorted by pid
	Processes  []procscan.Process   // every live hub process, sorted by pid
	Err        error                // errors of this collection's parts, if any (the other parts are still filled)
	ListErr    error                // the registry listing failed: Workspaces and Orphans are empty for want of it (also in Err)
	ScanErr    error                // the process scan failed: Processes and Orphans are incomplete (also in Err)

	// hubs is Processes with what the registry says of each, built once at
	// collection; see HubProcesses.
	hubs []HubProcess
}

// Options configure a Collector. The zero value is ready to use.
type Options struct {
	// Interval between periodic re-collections, which notice hubs that die
	// without touching the registry; default 2s. Collections answer hub
	// probes from memory and re-probe in the background, so a hub that
	// stops answering shows as stopped within about one interval plus
	// registry.HealthTimeout; a dead hub pid shows at the next collection.
	// Hub resources are re-measured by the periodic collections, and
	// reused by others for up to one interval.
	Interval time.Duration
	// Debounce is the quiet period after a registry change or Trigger before
	// collecting, so that a burst of changes causes one collection; default
	// 30ms. Under a continuous stream of changes a collection still happens
	// at least every 500ms.
	Debounce time.Duration
	// Logger receives collection errors and watcher problems; default
	// slog.Default().
	Logger *slog.Logger
}

const (
	defaultInterval = 2 * time.Second
	defaultDebounce = 30 * time.Millisecond
	// maxDelay caps how long a stream of changes can postpone a collection.
	maxDelay = 500 * time.Millisecond
)

// Collector builds snapshots. Its methods are safe for concurrent use.
type Collector struct {
	interval time.Duration
	debounce time.Duration
	log      *slog.Logger

	cur     atomic.Pointer[Snapshot]
	trigger chan struct{} // capacity 1: "a collection is pending"
	running atomic.Bool

	// sem serializes collections (Run's and Refresh's); holding it also
	// guards seq and lastErr.
	sem     chan struct{}
	seq     uint64
	lastErr string

	collections atomic.Uint64
	active      atomic.Int32 // collections in progress; never above 1
	maxActive   atomic.Int32 // highest value active reached, for tests

	subsMu sync.Mutex
	subs   map[chan *Snapshot]struct{}

	probes    *probeCache
	resources *resourceCache // used only by the collection holding sem
}

// New returns a collector whose Snapshot is empty (Seq 0) until the first
// collection; call Run to start collecting. New does no I/O.
func New(opts Options) *Collector {
	c := &Collector{
		interval: opts.Interval,
		debounce: opts.Debounce,
		log:      opts.Logger,
		trigger:  make(chan struct{}, 1),
		sem:      make(chan struct{}, 1),
		subs:     make(map[chan *Snapshot]struct{}),
	}
	if c.interval <= 0 {
		c.interval = defaultInterval
	}
	if c.debounce <= 0 {
		c.debounce = defaultDebounce
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	// Half the interval: a result probed during one tick's collection is
	// stale by the next tick, so every tick re-probes every hub.
	c.probes = newProbeCache(c.interval/2, c.Trigger)
	c.resources = &resourceCache{maxAge: c.interval}
	c.cur.Store(&Snapshot{
		Workspaces: []Workspace{},
		Orphans:    []registry.OrphanHub{},
		Processes:  []procscan.Process{},
	})
	return c
}

// Run collects once, then again on every registry change, Trigger and
// interval, until ctx is done; it then returns nil. Changes are watched with
// fsnotify on registry.RegistryDir (created with mode 0700 if missing) and
// its parent, so the directory may be deleted and re-created; if watching
// fails, Run logs it, relies on the interval and retries the watch on every
// tick. Only one Run may be active
// at a time: a second concurrent call returns an error at once.
func (c *Collector) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("collector: Run is already running")
	}
	defer c.running.Store(false)
	c.probes.start(ctx)
	defer c.probes.stop()

	w := newDirWatch(registry.RegistryDir(), c.log)
	defer w.close()

	ticker := time.NewTicker(c.interval)
	defer ticker.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()

	var (
		pending         bool
		firstAt, lastAt time.Time // first and latest change since the last collection
	)
	markPending := func() {
		now := time.Now()
		lastAt = now
		if !pending {
			pending = true
			firstAt = now
			debounce.Reset(c.debounce)
		}
	}
	collectNow := func(periodic bool) bool {
		pending = false
		debounce.Stop()
		ok := c.collectLocked(ctx, periodic)
		ticker.Reset(c.interval)
		return ok
	}

	if !collectNow(true) {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			if w.ensure() {
				c.log.Debug("collector: registry directory watched again", "dir", w.dir)
			}
			if !collectNow(true) {
				return nil
			}
		case <-c.trigger:
			markPending()
		case ev, ok := <-w.events():
			if !ok {
				w.lost()
			} else if w.handle(ev) {
				markPending()
			}
		case err, ok := <-w.errs():
			if !ok {
				w.lost()
				continue
			}
			// An overflow means changes were lost: collect to catch up.
			c.log.Warn("collector: watching the registry directory", "dir", w.dir, "err", err)
			markPending()
		case <-debounce.C:
			now := time.Now()
			due := lastAt.Add(c.debounce)
			if limit := firstAt.Add(maxDelay); limit.Before(due) {
				due = limit
			}
			if now.Before(due) {
				debounce.Reset(due.Sub(now))
				continue
			}
			if !collectNow(false) {
				return nil
			}
		}
	}
}

// Snapshot returns the latest snapshot without blocking; never nil.
func (c *Collector) Snapshot() *Snapshot { return c.cur.Load() }

// Trigger asks Run for a re-collection soon (after the debounce); bursts are
// coalesced. It never blocks. Without a running Run it has no effect until
// Run starts (which collects anyway).
func (c *Collector) Trigger() {
	select {
	case c.trigger <- struct{}{}:
	default:
	}
}

// Refresh re-collects now and returns the new snapshot (used right after an
// action so the answer reflects it). It works with or without Run and never
// overlaps another collection: it waits for one in progress, and if a
// collection that started after the call completed meanwhile, returns that
// one instead of collecting again. If ctx is done before the collection
// starts, Refresh returns the latest snapshot.
func (c *Collector) Refresh(ctx context.Context) *Snapshot {
	called := time.Now()
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return c.Snapshot()
	}
	defer func() { <-c.sem }()
	if s := c.Snapshot(); s.Seq > 0 && s.Taken.After(called) {
		return s
	}
	return c.collectHeld(false)
}

// Subscribe returns a channel that receives each newly published snapshot
// (latest wins: a slow reader skips intermediate ones) and a cancel func.
// The channel starts out holding the current snapshot if one was collected,
// so a reader that looked at Snapshot just before subscribing misses
// nothing; skip snapshots whose Seq you have seen. Publishing never waits for
// a reader. Cancel unsubscribes and closes the channel; calling it again is
// harmless.
func (c *Collector) Subscribe() (<-chan *Snapshot, func()) {
	ch := make(chan *Snapshot, 1)
	c.subsMu.Lock()
	if s := c.Snapshot(); s.Seq > 0 {
		ch <- s
	}
	c.subs[ch] = struct{}{}
	c.subsMu.Unlock()
	cancel := sync.OnceFunc(func() {
		c.subsMu.Lock()
		delete(c.subs, ch)
		close(ch)
		c.subsMu.Unlock()
	})
	return ch, cancel
}

// collectLocked takes the collection lock, collects and publishes; it
// reports false if ctx ended while waiting for the lock. periodic is passed
// on to collectHeld.
func (c *Collector) collectLocked(ctx context.Context, periodic bool) bool {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-c.sem }()
	c.collectHeld(periodic)
	return true
}

// collectHeld collects and publishes; the caller holds sem. A periodic
// collection re-measures every hub's resources; any other reuses those
// measured within the last interval.
func (c *Collector) collectHeld(periodic bool) *Snapshot {
	if n := c.active.Add(1); n > c.maxActive.Load() {
		c.maxActive.Store(n)
	}
	defer c.active.Add(-1)
	c.collections.Add(1)

	s := collect(c.probes, c.resources, periodic)
	c.seq++
	s.Seq = c.seq
	c.logErr(s.Err)
	c.cur.Store(s)
	c.publish(s)
	return s
}

// logErr logs a collection error when it first appears or changes, and once
// when collections succeed again, so a persistent problem does not flood the
// log every interval.
func (c *Collector) logErr(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	switch {
	case msg == c.lastErr:
	case msg == "":
		c.log.Info("collector: collection succeeds again")
	default:
		c.log.Warn("collector: collection incomplete", "err", err)
	}
	c.lastErr = msg
}

// publish hands s to every subscriber without blocking, replacing a snapshot
// the subscriber has not read yet.
func (c *Collector) publish(s *Snapshot) {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	for ch := range c.subs {
		select {
		case ch <- s:
			continue
		default:
		}
		select {
		case <-ch:
		default:
		}
		// Only publish sends, under subsMu, so the slot is free now.
		ch <- s
	}
}
