package hublog

import (
	"sync"

	"golang.org/x/sync/errgroup"
)

// Source is one state directory of a merged search or feed, under its key
// (its workspace's id: letters and digits).
type Source struct {
	Key string
	Dir string
}

// Tagged is an entry with the key of its source.
type Tagged struct {
	Key string
	Entry
}

// MergedPage is a page of a merged search.
type MergedPage struct {
	Lines  []Tagged         // every source's page, merged by time, oldest first
	Older  Marks            // where each source with older lines goes on; empty when none has
	End    Cursors          // each searched source's Page.End
	Pages  map[string]*Page // each searched source's page, its Lines moved to Lines
	Failed map[string]error // sources that could not be read; the others are on the page
}

// searchWorkers bounds the sources searched at once.
const searchWorkers = 4

// SearchMerged searches every source as Search does, each for its own o.Limit
// newest lines within its own o.Budget, and merges the pages by time: the
// last lines of each hub, so that a quiet hub is not crowded out by a busy
// one. With before (a former page's Older), only the sources it names are
// searched, each from its mark. Lines of one source keep their order.
func SearchMerged(srcs []Source, f *Filter, before Marks, o Options) MergedPage {
	mp := MergedPage{Older: Marks{}, End: Cursors{}, Pages: map[string]*Page{}, Failed: map[string]error{}}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(searchWorkers)
	for _, src := range srcs {
		so := o
		if before != nil {
			m, ok := before[src.Key]
			if !ok {
				continue
			}
			so.Before = m
		}
		g.Go(func() error {
			p, err := Search(src.Dir, f, so)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				mp.Failed[src.Key] = err
				return nil
			}
			mp.Pages[src.Key] = &p
			return nil
		})
	}
	g.Wait()
	lists := make([][]Tagged, 0, len(mp.Pages))
	for _, src := range srcs {
		p := mp.Pages[src.Key]
		if p == nil {
			continue
		}
		mp.End[src.Key] = p.End
		if !p.Older.IsZero() {
			mp.Older[src.Key] = p.Older
		}
		list := make([]Tagged, len(p.Lines))
		for i, e := range p.Lines {
			list[i] = Tagged{Key: src.Key, Entry: e}
		}
		lists = append(lists, list)
		p.Lines = nil
	}
	mp.Lines = mergeByTime(lists)
	return mp
}

// mergeByTime merges lists each in order, oldest first, taking at each step
// the head with the earliest time (the first list's on a tie); a line of
// unknown time goes with the line before it in its list.
func mergeByTime(lists [][]Tagged) []Tagged {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]Tagged, 0, n)
	heads := make([]int, len(lists))
	for len(out) < n {
		best := -1
		for i, l := range lists {
			if heads[i] == len(l) {
				continue
			}
			if t := l[heads[i]].Time; best < 0 || t.IsZero() || t.Before(lists[best][heads[best]].Time) {
				best = i
				if t.IsZero() {
					break
				}
			}
		}
		out = append(out, lists[best][heads[best]])
		heads[best]++
	}
	return out
}
