package hublog

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// Bounds of a search.
const (
	DefaultLimit  = 200       // lines a page holds unless told
	MaxLimit      = 1000      // lines a page may hold
	DefaultBudget = 128 << 20 // bytes a search reads unless told: six full rotations of bones' 10 MiB
	// resolveLines bounds the lines read past a full page only to find the
	// time its oldest plain lines inherit.
	resolveLines = 1000
)

// Options bound a search and say where it starts.
type Options struct {
	Before Mark  // the page holds lines before this place (a page's Older); zero: the newest lines
	Limit  int   // lines at most; <= 0: DefaultLimit; at most MaxLimit
	Budget int64 // bytes read at most; <= 0: DefaultBudget
}

// Page is a page of search results.
type Page struct {
	Lines   []Entry   // the newest matching lines before Options.Before, oldest first
	Older   Mark      // where the next older page starts; zero when nothing older is left
	Partial bool      // the budget ran out before the page was full: Older goes on from where it stopped
	Reached time.Time // the time of the oldest line read, when known: how far back the page looked
	End     Cursor    // where each file's complete lines ended when the search began: following from End continues a page of the newest lines without a gap
	Scanned int64     // bytes read
	Refused []string  // files that were not read, and why ("hub.log.2 is a symbolic link")
	Gone    bool      // Options.Before names a file that is no longer there (rotated out, or removed)
}

// Search returns the newest lines of stateDir's logs that f keeps (nil: every
// line), reading hub.log and then its rotations backwards from the end (or
// from o.Before), newest first, until o.Limit lines match, o.Budget bytes are
// read, f.Since is passed, or the oldest file begins. Blank lines are left
// out. Only complete lines are read: a last piece without its line end is
// still being written.
//
// A plain line takes the time of the nearest timed line before it, in its
// file or the rotation before; a search reads past a full page, within
// bounds, to find it.
func Search(stateDir string, f *Filter, o Options) (Page, error) {
	if f == nil {
		f = &Filter{}
	}
	o.Limit = min(o.Limit, MaxLimit)
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	files, refused, err := openFiles(stateDir)
	if err != nil {
		return Page{}, err
	}
	defer closeFiles(files)
	p := Page{Refused: refused, End: Cursor{seen: true}}
	ends := make([]int64, len(files))
	for i, lf := range files {
		if ends[i], err = lineEnd(lf.f, lf.size); err != nil {
			return Page{}, fmt.Errorf("hub log %s: %w", filepath.Join(stateDir, lf.name), err)
		}
		p.End.marks = append(p.End.marks, Mark{id: lf.id, off: ends[i]})
	}
	first := 0
	if !o.Before.IsZero() {
		first = slices.IndexFunc(files, func(lf logFile) bool { return lf.id == o.Before.id })
		if first < 0 || o.Before.off > files[first].size {
			p.Gone = true
			return p, nil
		}
		ends[first] = o.Before.off
	}
	s := searcher{f: f, o: o, page: &p}
	for i := first; i < len(files) && !s.stop; i++ {
		if err := s.scan(files[i], ends[i]); err != nil {
			return Page{}, fmt.Errorf("hub log %s: %w", filepath.Join(stateDir, files[i].name), err)
		}
	}
	slices.Reverse(s.found)
	p.Lines = s.found
	if !p.Older.IsZero() && p.Older.off == 0 {
		// Older is the start of its file: the next page begins at the end
		// of the file before it, if there is one.
		i := slices.IndexFunc(files, func(lf logFile) bool { return lf.id == p.Older.id })
		p.Older = Mark{}
		if i >= 0 && i+1 < len(files) {
			p.Older = Mark{id: files[i+1].id, off: ends[i+1]}
		}
	}
	return p, nil
}

// searcher is the state of one Search.
type searcher struct {
	f       *Filter
	o       Options
	page    *Page
	found   []Entry // newest first
	pending []int   // indexes in found of plain lines whose time is not known yet
	full    bool    // found holds o.Limit lines: read on only to resolve pending
	resolve int     // lines read since the page filled
	stop    bool
	scratch []byte
}

// scan reads lf's lines that end at or before end, newest first.
func (s *searcher) scan(lf logFile, end int64) error {
	sc := newBackScanner(lf.f, end, s.o.Budget-s.page.Scanned)
	defer func() { s.page.Scanned += sc.read }()
	last := end // the start of the last line read
	for n := 0; ; n++ {
		rl, ok := sc.next()
		if !ok {
			break
		}
		last = rl.off
		if len(bytes.TrimSpace(rl.b)) == 0 {
			continue
		}
		if s.full {
			if s.resolve++; s.resolve > resolveLines {
				s.stop = true
				return nil
			}
		}
		kept := !s.full && s.f.mayMatch(rl.b, &s.scratch)
		timed := !s.f.q.Since.IsZero() && n%64 == 0
		if !kept && len(s.pending) == 0 && !timed {
			continue
		}
		var e Entry
		var t time.Time
		var hasTime bool
		if kept {
			e = newEntry(lf, rl)
			t, hasTime = e.Time, !e.Plain
			kept = s.f.matchParsed(e.Line)
		} else {
			t, hasTime = lineTime(rl.b)
		}
		if hasTime {
			s.page.Reached = t
			s.settle(t)
			if !s.f.matchTime(t) {
				s.stop = true
				s.page.Older = Mark{}
				return nil
			}
		}
		if s.full && len(s.pending) == 0 {
			s.stop = true
			return nil
		}
		if !kept {
			continue
		}
		if e.Plain {
			s.pending = append(s.pending, len(s.found))
		}
		s.found = append(s.found, e)
		if len(s.found) == s.o.Limit {
			s.full = true
			s.page.Older = Mark{id: lf.id, off: rl.off}
			if len(s.pending) == 0 {
				s.stop = true
				return nil
			}
		}
	}
	switch {
	case sc.err != nil:
		return sc.err
	case sc.out && !s.full:
		s.page.Partial, s.page.Older, s.stop = true, Mark{id: lf.id, off: last}, true
	case sc.out:
		s.stop = true
	}
	return nil
}

// settle gives the pending plain lines the time t of the timed line before
// them, dropping those that this time puts before Since.
func (s *searcher) settle(t time.Time) {
	if len(s.pending) == 0 {
		return
	}
	drop := !s.f.matchTime(t)
	for _, i := range s.pending {
		s.found[i].Time = t
	}
	if drop {
		s.found = s.found[:s.pending[0]]
		// What is dropped frees room on the page.
		s.full = false
	}
	s.pending = s.pending[:0]
}
