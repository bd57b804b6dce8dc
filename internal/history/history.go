// Package history keeps each hub's recent resource samples (CPU percent and
// resident memory) in a fixed-size ring, so that a page can draw the last
// hour of a hub without the memory growing with its uptime or the number
// of collections.
package history

import (
	"math"
	"sync"
	"time"
)

// Sample is one measurement of a hub process.
type Sample struct {
	Time       time.Time
	CPUPercent float64 // of one CPU
	RSS        uint64  // bytes
}

// sample is a Sample as stored: 16 bytes, at millisecond, 1/2^24-relative
// CPU and KiB memory precision, which is finer than anyone reads a graph.
type sample struct {
	unixMilli int64
	cpu       float32
	rssKiB    uint32 // up to 4 TiB
}

func pack(s Sample) sample {
	return sample{
		unixMilli: s.Time.UnixMilli(),
		cpu:       float32(s.CPUPercent),
		rssKiB:    uint32(min(s.RSS/1024, math.MaxUint32)),
	}
}

func (p sample) unpack() Sample {
	return Sample{Time: time.UnixMilli(p.unixMilli), CPUPercent: float64(p.cpu), RSS: uint64(p.rssKiB) * 1024}
}

// Ring holds the last Cap samples added. It is not safe for concurrent use;
// Set is.
type Ring struct {
	buf  []sample
	next int // where the next sample goes once buf is full
	size int
}

// NewRing returns an empty ring of capacity samples (at least 1). Its
// memory is allocated with the first Add.
func NewRing(capacity int) *Ring { return &Ring{size: max(capacity, 1)} }

// Add appends s, dropping the oldest sample when the ring is full.
func (r *Ring) Add(s Sample) {
	if r.buf == nil {
		r.buf = make([]sample, 0, r.size)
	}
	if len(r.buf) < r.size {
		r.buf = append(r.buf, pack(s))
		return
	}
	r.buf[r.next] = pack(s)
	r.next = (r.next + 1) % r.size
}

// Len returns the number of samples held.
func (r *Ring) Len() int { return len(r.buf) }

// Cap returns the most samples the ring holds.
func (r *Ring) Cap() int { return r.size }

// Samples returns the samples held, oldest first, in a new slice.
func (r *Ring) Samples() []Sample {
	out := make([]Sample, 0, len(r.buf))
	for _, p := range r.buf[r.next:] {
		out = append(out, p.unpack())
	}
	for _, p := range r.buf[:r.next] {
		out = append(out, p.unpack())
	}
	return out
}

// Last returns the newest sample.
func (r *Ring) Last() (Sample, bool) {
	if len(r.buf) == 0 {
		return Sample{}, false
	}
	// next stays 0 until the ring is full.
	return r.buf[(r.next-1+len(r.buf))%len(r.buf)].unpack(), true
}

// Series returns the samples held up to until (the zero time: all of
// them), oldest first, averaged into at most n points of consecutive
// samples each (n of at least 1): what a chart n points wide draws. A
// point's time is its last sample's.
func (r *Ring) Series(n int, until time.Time) []Sample {
	n = max(n, 1)
	held := len(r.buf)
	at := func(i int) sample { return r.buf[(r.next+i)%held] }
	total := held
	if !until.IsZero() {
		limit := until.UnixMilli()
		for total > 0 && at(total-1).unixMilli > limit {
			total--
		}
	}
	if total == 0 {
		return nil
	}
	points := min(n, total)
	out := make([]Sample, 0, points)
	var cpu float64
	var rss uint64
	count := 0
	for i := range total {
		p := at(i)
		cpu += float64(p.cpu)
		rss += uint64(p.rssKiB)
		count++
		// Sample i closes its point when the next sample belongs to the next.
		if i == total-1 || (i+1)*points/total != i*points/total {
			out = append(out, Sample{
				Time:       time.UnixMilli(p.unixMilli),
				CPUPercent: cpu / float64(count),
				RSS:        rss / uint64(count) * 1024,
			})
			cpu, rss, count = 0, 0, 0
		}
	}
	return out
}

// Key identifies one hub process: its pid and start time, so that a
// recycled pid starts a history of its own.
type Key struct {
	PID     int
	Created int64 // process start, Unix milliseconds
}

// KeyOf returns the key of the process pid started at created.
func KeyOf(pid int, created time.Time) Key { return Key{PID: pid, Created: created.UnixMilli()} }

// Set is the rings of every hub, safe for one writer (the collector) and
// many readers (the pages).
type Set struct {
	mu    sync.RWMutex
	size  int
	rings map[Key]*Ring
}

// NewSet returns a set whose rings cover window at one sample every
// interval: window/interval samples a hub (at least 1).
func NewSet(window, interval time.Duration) *Set {
	n := 1
	if interval > 0 {
		n = max(int(window/interval), 1)
	}
	return &Set{size: n, rings: make(map[Key]*Ring)}
}

// Cap returns the samples kept a hub.
func (s *Set) Cap() int { return s.size }

// Add records a sample of hub k.
func (s *Set) Add(k Key, x Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[k]
	if r == nil {
		r = NewRing(s.size)
		s.rings[k] = r
	}
	r.Add(x)
}

// Samples returns hub k's samples, oldest first; nil when it has none.
func (s *Set) Samples(k Key) []Sample {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r := s.rings[k]; r != nil {
		return r.Samples()
	}
	return nil
}

// Series returns hub k's samples up to until averaged into at most n
// points, as Ring.Series does; nil when it has none.
func (s *Set) Series(k Key, n int, until time.Time) []Sample {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r := s.rings[k]; r != nil {
		return r.Series(n, until)
	}
	return nil
}

// Retain drops the history of every hub not in keep: the hubs no longer
// running.
func (s *Set) Retain(keep []Key) {
	want := make(map[Key]bool, len(keep))
	for _, k := range keep {
		want[k] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.rings {
		if !want[k] {
			delete(s.rings, k)
		}
	}
}

// Len returns the number of hubs with a history.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.rings)
}
