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
//	err := c.Remove(w)         // POST: act (Register, Remove, ReapWorkspace, ReapProcess,
//	                           // StartHub, StopHub, RestartHub through the bones CLI, Cleanup),
//	s = c.Refresh(ctx)         // then a snapshot that shows the effect
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
//
// The collector also decides what the snapshot means, once for every page
// and API: each workspace's status, why a hub is stopped, whether a reap
// makes sense and whether a hub may be started or stopped (Workspace
// fields), which processes may be reaped (Snapshot.ProcessReapable), what
// an end-of-day cleanup would do (Snapshot.CleanupPlan). Its actions apply
// the same rules and refuse with a *Refusal, changing nothing, when one
// forbids the action.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"boneyard/internal/bonescli"
	"boneyard/internal/journal"
	"boneyard/procscan"
	"boneyard/registry"
)

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
	// RefreshWait bounds how long Refresh waits for a collection, so that a
	// request never hangs on a stuck one; default 5 s. StallAfter is how
	// long a collection may run before it is reported as overrunning;
	// default 3 s.
	RefreshWait, StallAfter time.Duration

	// Registry is the registry collected, watched for changes and acted on;
	// the zero value means registry.Default() at New.
	Registry registry.Registry
	// ListInfo lists the registry with the hub check it is given, for tests;
	// default Registry.ListReport, whose refused files the snapshot names.
	ListInfo func(alive func(registry.Entry) bool) ([]registry.Info, error)
	// Scan lists the live hub processes; default procscan.Scan.
	Scan func() ([]procscan.Process, error)

	// Bones is the bones CLI that starts and stops hubs; nil turns those
	// actions off, for the reason NoBones gives (what bonescli.Find said).
	Bones   *bonescli.CLI
	NoBones error
	// Journal, when set, remembers what happens to the hubs: it observes
	// every complete collection, the actions are recorded in it, and each
	// snapshot carries it as of then (down workspaces, deaths, events,
	// notices). The caller opens and closes it.
	Journal *journal.Journal
	// NoExitWatch turns off watching the live hubs for their exit (pidfd
	// on Linux, kqueue on macOS), which Run otherwise does so that a hub's
	// death is collected at once rather than at the next interval.
	NoExitWatch bool
	// History is how far back each hub's CPU and memory samples reach;
	// default 1h, at one sample per interval, or fewer: at most 720 a hub
	// (5s apart over an hour).
	History time.Duration
}

const (
	defaultInterval = 2 * time.Second
	defaultDebounce = 30 * time.Millisecond
	// maxDelay caps how long a stream of changes can postpone a collection.
	maxDelay = 500 * time.Millisecond
)

// Collector builds snapshots. Its methods are safe for concurrent use.
type Collector struct {
	interval    time.Duration
	debounce    time.Duration
	refreshWait time.Duration
	stallAfter  time.Duration
	log         *slog.Logger
	src         sources

	cur     atomic.Pointer[Snapshot]
	trigger chan struct{} // capacity 1: "a collection is pending"
	running atomic.Bool

	// sem serializes collections (Run's and Refresh's); holding it also
	// guards lastErr.
	sem     chan struct{}
	seq     atomic.Uint64 // the last published Seq; collections and stall reports both draw from it
	lastErr string

	collections atomic.Uint64
	collecting  atomic.Int64 // when the collection under way started (unix ns); 0 when none is
	pubMu       sync.Mutex   // orders publishing a collection against reporting its stall
	active      atomic.Int32 // collections in progress; never above 1
	maxActive   atomic.Int32 // highest value active reached, for tests

	subsMu sync.Mutex
	subs   map[chan *Snapshot]struct{}

	probes    *probeCache
	resources *resourceCache // used only by the collection holding sem
	hubs      *hubs          // hub lifecycle actions: the bones CLI, the workspaces acted on

	journal  *journal.Journal
	notices  *notifier                            // used only by the collection holding sem
	samples  *sampler                             // used only by the collection holding sem
	exits    atomic.Pointer[procscan.ExitWatcher] // Run's, while it runs
	noWatch  bool
	observed bool // the journal has seen a complete collection; guarded by sem
}

// New returns a collector whose Snapshot is empty (Seq 0) until the first
// collection; call Run to start collecting. New does no I/O.
func New(opts Options) *Collector {
	c := &Collector{
		interval: opts.Interval,
		debounce: opts.Debounce,
		log:      opts.Logger,
		src:      sources{reg: opts.Registry, scan: opts.Scan},
		trigger:  make(chan struct{}, 1),
		sem:      make(chan struct{}, 1),
		subs:     make(map[chan *Snapshot]struct{}),
		hubs:     newHubs(opts.Bones, opts.NoBones),
	}
	if c.interval <= 0 {
		c.interval = defaultInterval
	}
	if c.debounce <= 0 {
		c.debounce = defaultDebounce
	}
	c.refreshWait, c.stallAfter = opts.RefreshWait, opts.StallAfter
	if c.refreshWait <= 0 {
		c.refreshWait = defaultRefreshWait
	}
	if c.stallAfter <= 0 {
		c.stallAfter = defaultStallAfter
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.src.reg == (registry.Registry{}) {
		c.src.reg = registry.Default()
	}
	if list := opts.ListInfo; list != nil {
		c.src.list = func(alive func(registry.Entry) bool) (registry.Listing, error) {
			infos, err := list(alive)
			return registry.Listing{Infos: infos}, err
		}
	} else {
		c.src.list = c.src.reg.ListReport
	}
	if c.src.scan == nil {
		c.src.scan = procscan.Scan
	}
	c.journal, c.noWatch = opts.Journal, opts.NoExitWatch
	c.notices = newNotifier()
	c.samples = newSampler(opts.History, c.interval)
	// Half the interval: a result probed during one tick's collection is
	// stale by the next tick, so every tick re-probes every hub.
	c.probes = newProbeCache(c.interval/2, c.Trigger)
	c.resources = &resourceCache{maxAge: c.interval}
	first := &Snapshot{
		RegistryDir: c.src.reg.Dir,
		Workspaces:  []Workspace{},
		Orphans:     []Orphan{},
		Processes:   []HubProcess{},
		Down:        []Workspace{},
	}
	c.remember(first)
	c.cur.Store(first)
	return c
}

// Run collects once, then again on every registry change, Trigger and
// interval, until ctx is done; it then returns nil. Changes are watched with
// fsnotify on the registry directory (created with mode 0700 if missing) and
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

	w := newDirWatch(c.src.reg.Dir, c.log)
	defer w.close()
	exits := c.watchExits()
	defer c.stopWatchingExits()
	go c.watchStalls(ctx)

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
		ok := c.lockAndCollect(ctx, periodic)
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
		case _, ok := <-exits:
			if !ok {
				exits = nil
				continue
			}
			// A hub died: collect now, once for every exit already told.
			drainExits(exits)
			if !collectNow(false) {
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
	ctx, cancel := context.WithTimeout(ctx, c.refreshWait)
	defer cancel()
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		c.log.Warn("collector: a collection is overrunning; answering with the latest snapshot", "running", c.Stalled())
		return c.Snapshot()
	}
	if s := c.Snapshot(); s.Seq > 0 && s.Taken.After(called) {
		<-c.sem
		return s
	}
	// The collection runs on its own: a request that gives up on it leaves
	// it to finish and publish, and goes on with what there is.
	done := make(chan *Snapshot, 1)
	go func() {
		defer func() { <-c.sem }()
		done <- c.collectLocked(false)
	}()
	select {
	case s := <-done:
		return s
	case <-ctx.Done():
		c.log.Warn("collector: a collection is overrunning; answering with the latest snapshot", "running", c.Stalled())
		return c.Snapshot()
	}
}

// watchStalls reports a collection that overruns: the latest snapshot is
// published again with an error saying so, once per stall, so that open
// pages and new ones say the data is older than it looks. The collection
// itself is left to finish (every read it makes is bounded).
func (c *Collector) watchStalls(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var reported int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		since := c.collecting.Load()
		d := c.Stalled()
		if d == 0 || since == reported {
			continue
		}
		reported = since
		c.log.Warn("collector: a collection is overrunning", "running", d.Round(time.Second))
		c.pubMu.Lock()
		if c.collecting.Load() == since {
			cur := *c.Snapshot()
			stall := fmt.Errorf("a collection has been running for %s (a hub or a file is slow to answer); this is the last complete one, from %s",
				d.Round(time.Second), cur.Taken.Format(time.TimeOnly))
			cur.Err = errors.Join(cur.Err, stall)
			cur.Seq = c.seq.Add(1)
			c.cur.Store(&cur)
			c.publish(&cur)
		}
		c.pubMu.Unlock()
	}
}

// Defaults of Options.RefreshWait and Options.StallAfter.
const (
	defaultRefreshWait = 5 * time.Second
	defaultStallAfter  = 3 * time.Second
)

// Stalled returns how long the collection under way has been running, when
// that is longer than a collection should take; 0 otherwise. A page shows
// it, as the latest snapshot is then older than it looks.
func (c *Collector) Stalled() time.Duration {
	since := c.collecting.Load()
	if since == 0 {
		return 0
	}
	if d := time.Since(time.Unix(0, since)); d > c.stallAfter {
		return d
	}
	return 0
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

// lockAndCollect takes the collection lock, collects and publishes; it
// reports false if ctx ended while waiting for the lock. periodic is passed
// on to collectLocked.
func (c *Collector) lockAndCollect(ctx context.Context, periodic bool) bool {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-c.sem }()
	c.collectLocked(periodic)
	return true
}

// collectLocked collects and publishes; the caller holds sem. A periodic
// collection re-measures every hub's resources; any other reuses those
// measured within the last interval.
func (c *Collector) collectLocked(periodic bool) *Snapshot {
	if n := c.active.Add(1); n > c.maxActive.Load() {
		c.maxActive.Store(n)
	}
	defer c.active.Add(-1)
	c.collections.Add(1)
	c.collecting.Store(time.Now().UnixNano())

	s := collect(c.src, c.probes, c.resources, periodic)
	// Numbered and published under pubMu, and no stall is reported for this
	// collection from then on: a stall report never overtakes it.
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	c.collecting.Store(0)
	s.Seq = c.seq.Add(1)
	c.logErr(s.Err)
	if periodic {
		c.samples.add(s)
	}
	c.samples.attach(s)
	c.observe(s)
	c.watch(s)
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
