package collector

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"boneyard/procscan"
	"boneyard/registry"
)

// revalidateWorkers bounds the background hub probes in flight, as ListInfo
// bounds its own: a registry full of hung hubs is re-probed in about one
// HealthTimeout.
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

	sem        chan struct{} // bounds background probes
	wg         sync.WaitGroup
	syncProbes atomic.Int64 // probes a collection waited for

	mu      sync.Mutex
	results map[probeKey]*probeResult
	seen    map[probeKey]bool // hubs asked about by the listing in progress
	// bg is the context of the running Run; background probes stop with
	// it. Without a Run (nil) stale results are re-probed synchronously, so
	// that no goroutine outlives a Refresh.
	bg context.Context
}

func newProbeCache(maxAge time.Duration, changed func()) *probeCache {
	return &probeCache{
		maxAge:  maxAge,
		probe:   registry.IsAliveContext,
		changed: changed,
		sem:     make(chan struct{}, revalidateWorkers),
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

// listInfo is registry.ListInfo answered from the cache. Results for hubs
// the registry no longer lists are dropped.
func (p *probeCache) listInfo() ([]registry.Info, error) {
	p.mu.Lock()
	p.seen = make(map[probeKey]bool)
	p.mu.Unlock()

	infos, err := registry.ListInfoFunc(p.alive)

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
	return infos, err
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

// revalidate re-probes e in the background and stores the answer in r
// unless r was dropped or replaced meanwhile. The caller holds mu and has
// marked r as probing.
func (p *probeCache) revalidate(ctx context.Context, k probeKey, r *probeResult, e registry.Entry) {
	p.wg.Go(func() {
		var (
			alive, done bool
			at          time.Time
		)
		select {
		case p.sem <- struct{}{}:
			at = time.Now()
			alive = p.probe(ctx, e)
			<-p.sem
			// A probe cut short by ctx has no answer.
			done = ctx.Err() == nil
		case <-ctx.Done():
		}
		p.mu.Lock()
		r.probing = false
		changed := done && p.results[k] == r && r.alive != alive
		if done {
			r.alive, r.at = alive, at
		}
		p.mu.Unlock()
		if changed {
			p.changed()
		}
	})
}

// size returns how many hubs have a cached result.
func (p *probeCache) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.results)
}
