package hublog

import (
	"slices"
	"sync/atomic"
)

// Feed is one viewer's live view of the logs of one or more state
// directories: a Follower per source, woken by the Watcher, and a filter.
// Its methods are for one goroutine (the viewer's stream); the Watcher
// only signals Ready.
type Feed struct {
	w      *Watcher
	filter *Filter
	ready  chan struct{}
	srcs   map[string]*feedSource
	keys   []string // in the order they were added
}

type feedSource struct {
	dir    string
	fl     *Follower
	dirty  atomic.Bool
	cancel func()
}

// NewFeed returns an empty feed keeping the lines f keeps (nil: all).
func (w *Watcher) NewFeed(f *Filter) *Feed {
	return &Feed{w: w, filter: f, ready: make(chan struct{}, 1), srcs: map[string]*feedSource{}}
}

// Follow adds the source key, the logs of dir, from the cursor from (the
// zero Cursor: from now). It is read at the next Read. A key already
// followed is left as it is.
func (fd *Feed) Follow(key, dir string, from Cursor) error {
	if fd.srcs[key] != nil {
		return nil
	}
	fl, err := Follow(dir, from)
	if err != nil {
		return err
	}
	src := &feedSource{dir: dir, fl: fl}
	src.cancel = fd.w.Watch(dir, func() { fd.mark(src) })
	fd.srcs[key] = src
	fd.keys = append(fd.keys, key)
	fd.mark(src)
	return nil
}

// Drop stops following key.
func (fd *Feed) Drop(key string) {
	if src := fd.srcs[key]; src != nil {
		src.cancel()
		delete(fd.srcs, key)
		fd.keys = slices.DeleteFunc(fd.keys, func(k string) bool { return k == key })
	}
}

// Keys returns the sources followed, in the order they were added.
func (fd *Feed) Keys() []string { return slices.Clone(fd.keys) }

// Ready is signalled when a source may have new lines.
func (fd *Feed) Ready() <-chan struct{} { return fd.ready }

func (fd *Feed) mark(src *feedSource) {
	src.dirty.Store(true)
	select {
	case fd.ready <- struct{}{}:
	default:
	}
}

// FeedBatch is what one Feed.Read returns.
type FeedBatch struct {
	Lines   []Tagged         // the new lines the filter keeps, merged by time (each source's in order)
	Skipped map[string]int64 // bytes passed over per source, too far behind to show
	Failed  map[string]error // sources that could not be read this time
}

// Read returns the new lines of every source that may have some, reading
// at most budget bytes of each (<= 0: DefaultReadBudget). A source with
// more to read is marked for the next Read, and Ready signalled.
func (fd *Feed) Read(budget int64) FeedBatch {
	var fb FeedBatch
	var lists [][]Tagged
	for _, key := range fd.keys {
		src := fd.srcs[key]
		if !src.dirty.Swap(false) {
			continue
		}
		b, err := src.fl.Read(budget)
		if err != nil {
			if fb.Failed == nil {
				fb.Failed = map[string]error{}
			}
			fb.Failed[key] = err
			continue
		}
		var list []Tagged
		for _, e := range b.Lines {
			if fd.filter.Match(e.Line) {
				list = append(list, Tagged{Key: key, Entry: e})
			}
		}
		lists = append(lists, list)
		if b.Skipped > 0 {
			if fb.Skipped == nil {
				fb.Skipped = map[string]int64{}
			}
			fb.Skipped[key] = b.Skipped
		}
		if b.More {
			fd.mark(src)
		}
	}
	fb.Lines = mergeByTime(lists)
	return fb
}

// Cursors returns where the feed stands in each source: a viewer that
// comes back with them misses and repeats nothing.
func (fd *Feed) Cursors() Cursors {
	out := make(Cursors, len(fd.srcs))
	for key, src := range fd.srcs {
		out[key] = src.fl.Cursor()
	}
	return out
}

// Close drops every source.
func (fd *Feed) Close() {
	for _, key := range fd.Keys() {
		fd.Drop(key)
	}
}
