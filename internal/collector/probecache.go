package collector

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"boneyard/procscan"
	"boneyard/registry"
)

// revalidateWorkers bounds the background hub probes in flight, as ListInfo
// bounds its own: 32 hung hubs are re-probed in about one HealthTimeout.
const revalidateWorkers = 32

// probeKey identifies one hub run: a restarted hub writes a new started_at,
// so it is probed afresh rather than inheriting its predecessor's answer.
type probeKey struct {
	pid       int
	url       string
	startSec  int64
	startNsec int
}

func keyOf(e registry.Entry) probeKey {
	return probeKey{pid: e.HubPID, url: e.HubURL, startSec: e.StartedAt.Unix(), startNsec: e.StartedAt.Nanosecond()}
}

// probeResult is the last known answer of one hub. Its fields are guarded
// by probeCache.mu.
type probeResult struct {
	alive   bool
	at      time.Time // when the probe that produced alive started
	probing bool      // a background probe is in flight
}

// probeCache remembers each hub's last probe, so that a collection answers
// from memory instead of waiting on hubs it has seen before: only a hub
// never seen is probed while the collection waits (an answering hub takes
// about a millisecond, a hung one up to HealthTimeout). A result older than
// maxAge is still used, and re-probed in the background; when that changes
// the answer, changed is called so that a new collection shows it. Whether
// the hub pid is alive is checked on every collection, so a hub that died is
// reported at once.
type probeCache struct {
	maxAge  time.Duration
	probe   func(context.Context, registry.Entry) bool
	changed func()

	wg         sync.WaitGroup // the goroutine draining queue, while there is one
	syncProbes atomic.Int64   // probes a collection waited for

	mu      sync.Mutex
	results map[probeKey]*probeResult
	seen    map[probeKey]bool // hubs asked about by the listing in progress
	// bg is the context of the running Run; background probes stop with
	// it. Without a Run (nil) stale results are re-probed synchronously, so
	// that no goroutine outlives a Refresh.
	bg       context.Context
	queue    []revalidation // background probes not started yet
	draining bool           // a goroutine is working through queue
}

// revalidation is one background re-probe: of e, whose result r is cached
// under k, until ctx is done.
type revalidation struct {
	ctx context.Context
	k   probeKey
	r   *probeResult
	e   registry.Entry
}

func newProbeCache(maxAge time.Duration, changed func()) *probeCache {
	return &probeCache{
		maxAge:  maxAge,
		probe:   registry.IsAliveContext,
		changed: changed,
		results: make(map[probeKey]*probeResult),
	}
}

// start lets stale results be re-probed in the background until ctx is
// done.
func (p *probeCache) start(ctx context.Context) {
	p.mu.Lock()
	p.bg = ctx
	p.mu.Unlock()
}

// stop ends background probing and waits for the probes in flight, which
// give up once the context passed to start is done.
func (p *probeCache) stop() {
	p.mu.Lock()
	p.bg = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// listInfo is list (registry.ListInfoFunc or the like) answered from the
// cache. Results for hubs the registry no longer lists are dropped.
func (p *probeCache) listInfo(list func(alive func(registry.Entry) bool) (registry.Listing, error)) (registry.Listing, error) {
	p.mu.Lock()
	p.seen = make(map[probeKey]bool)
	p.mu.Unlock()

	listing, err := list(p.alive)

	p.mu.Lock()
	defer p.mu.Unlock()
	// A failed listing says nothing about which hubs are gone.
	if err == nil {
		for k := range p.results {
			if !p.seen[k] {
				delete(p.results, k)
			}
		}
	}
	p.seen = nil
	return listing, err
}

// alive is the hub check of listInfo; ListInfoFunc calls it concurrently.
func (p *probeCache) alive(e registry.Entry) bool {
	if !procscan.Alive(e.HubPID) {
		return false
	}
	k := keyOf(e)
	now := time.Now()
	p.mu.Lock()
	p.seen[k] = true
	r, known := p.results[k]
	if known && (now.Sub(r.at) < p.maxAge || r.probing) {
		defer p.mu.Unlock()
		return r.alive
	}
	if known && p.bg != nil {
		defer p.mu.Unlock()
		r.probing = true
		p.revalidate(p.bg, k, r, e)
		return r.alive
	}
	p.mu.Unlock()

	p.syncProbes.Add(1)
	alive := p.probe(context.Background(), e)
	p.mu.Lock()
	p.results[k] = &probeResult{alive: alive, at: now}
	p.mu.Unlock()
	return alive
}

// revalidate queues a background re-probe of e, whose answer is stored in
// r unless r was dropped or replaced meanwhile. The caller holds mu and has
// marked r as probing.
func (p *probeCache) revalidate(ctx context.Context, k probeKey, r *probeResult, e registry.Entry) {
	p.queue = append(p.queue, revalidation{ctx: ctx, k: k, r: r, e: e})
	if !p.draining {
		p.draining = true
		p.wg.Go(p.drain)
	}
}

// drain runs the queued re-probes on at most revalidateWorkers goroutines
// until the queue stays empty.
func (p *probeCache) drain() {
	var workers errgroup.Group
	workers.SetLimit(revalidateWorkers)
	for {
		for {
			p.mu.Lock()
			if len(p.queue) == 0 {
				p.queue = nil // drop the drained backing array
				p.mu.Unlock()
				break
			}
			v := p.queue[0]
			p.queue = p.queue[1:]
			p.mu.Unlock()
			// Go waits for a free worker.
			workers.Go(func() error { p.reprobe(v); return nil })
		}
		workers.Wait()
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.draining = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// reprobe probes v's hub and stores the answer, calling changed when it
// differs from the cached one. A probe cut short by v.ctx has no answer.
func (p *probeCache) reprobe(v revalidation) {
	at := time.Now()
	alive := v.ctx.Err() == nil && p.probe(v.ctx, v.e)
	done := v.ctx.Err() == nil
	p.mu.Lock()
	v.r.probing = false
	changed := done && p.results[v.k] == v.r && v.r.alive != alive
	if done {
		v.r.alive, v.r.at = alive, at
	}
	p.mu.Unlock()
	if changed {
		p.changed()
	}
}

// size returns how many hubs have a cached result.
func (p *probeCache) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.results)
}
