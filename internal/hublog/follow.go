package hublog

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
)

// Bounds of following.
const (
	// DefaultReadBudget is how much a follower reads in one Read unless
	// told.
	DefaultReadBudget = 256 << 10
	// maxBehind is how far a file may be ahead of its follower, in
	// multiples of the read budget, before the follower skips to its end:
	// a viewer shown a burst of megabytes a line at a time would never
	// catch up.
	maxBehind = 8
	// maxKnown bounds the files a follower remembers, rotated-out ones
	// included.
	maxKnown = 4 * MaxFiles
)

// Follower reads what is appended to a state directory's logs, one viewer's
// position at a time. It knows each file by its identity, so a rotation
// (hub.log renamed to hub.log.1, a new hub.log created) loses and repeats no
// line: the renamed file is read to its end, lines a hub still writes into
// it included, and the new one from its start. A Follower is not safe for
// concurrent use.
type Follower struct {
	dir   string
	files map[fileID]*forward
	order []fileID // files in the order they were first seen, for forgetting the oldest
	shown []Mark   // where each listed file was left by the last Read, newest file first
}

// Follow follows stateDir's logs from the cursor from (a Page's End, or a
// former Cursor); with the zero Cursor, from the files' current ends. A
// file from does not name was created after it and is read from its start.
func Follow(stateDir string, from Cursor) (*Follower, error) {
	fl := &Follower{dir: stateDir, files: map[fileID]*forward{}}
	if !from.IsZero() {
		for _, m := range from.marks {
			fl.remember(m.id, m.off)
		}
		fl.shown = slices.Clone(from.marks)
		return fl, nil
	}
	files, _, err := openFiles(stateDir)
	if err != nil {
		return nil, err
	}
	defer closeFiles(files)
	for _, lf := range files {
		end, err := lineEnd(lf.f, lf.size)
		if err != nil {
			return nil, fmt.Errorf("hub log %s: %w", filepath.Join(stateDir, lf.name), err)
		}
		fl.remember(lf.id, end)
		fl.shown = append(fl.shown, Mark{id: lf.id, off: end})
	}
	return fl, nil
}

func (fl *Follower) remember(id fileID, off int64) *forward {
	if st := fl.files[id]; st != nil {
		return st
	}
	if len(fl.order) >= maxKnown {
		delete(fl.files, fl.order[0])
		fl.order = fl.order[1:]
	}
	st := &forward{off: off}
	fl.files[id] = st
	fl.order = append(fl.order, id)
	return st
}

// Batch is what one Read returns.
type Batch struct {
	Lines   []Entry // new complete lines, oldest file first, each file's in order
	Skipped int64   // bytes passed over because the reader was too far behind
	More    bool    // the budget ran out: more is already there to read
}

// Read returns the complete lines appended since the last Read (or since
// the cursor Follow started from), reading at most budget bytes (<= 0:
// DefaultReadBudget; a line of MaxLine bytes is always read whole). Blank
// lines are left out. A file that shrank below what was read of it was
// replaced, and is read from its start.
func (fl *Follower) Read(budget int64) (Batch, error) {
	if budget <= 0 {
		budget = DefaultReadBudget
	}
	files, _, err := openFiles(fl.dir)
	if err != nil {
		return Batch{}, err
	}
	defer closeFiles(files)
	var b Batch
	shown := make([]Mark, 0, len(files))
	left := budget
	for i := len(files) - 1; i >= 0; i-- {
		lf := files[i]
		st := fl.remember(lf.id, 0)
		if st.off > lf.size {
			*st = forward{}
		}
		if behind := lf.size - st.off; behind > maxBehind*budget {
			skip := behind - budget
			b.Skipped += skip
			st.off, st.skipping = st.off+skip, true
		}
		if left > 0 && st.off < lf.size {
			if !st.timed {
				st.last, st.timed = timeBefore(lf.f, st.off), true
			}
			lines, n, err := st.read(lf.f, lf.size, left)
			if err != nil {
				return Batch{}, fmt.Errorf("hub log %s: %w", filepath.Join(fl.dir, lf.name), err)
			}
			left -= n
			for _, rl := range lines {
				if len(bytes.TrimSpace(rl.b)) == 0 {
					continue
				}
				e := newEntry(lf, rl)
				if e.Plain {
					e.Time = st.last
				} else {
					st.last = e.Time
				}
				b.Lines = append(b.Lines, e)
			}
		}
		if st.off < lf.size && left <= 0 {
			b.More = true
		}
		shown = append(shown, Mark{id: lf.id, off: st.off})
	}
	slices.Reverse(shown)
	fl.shown = shown
	return b, nil
}

// Cursor is where the follower stands in the files the last Read found
// (those Follow found, before any Read): resuming from it with Follow
// loses and repeats nothing.
func (fl *Follower) Cursor() Cursor { return Cursor{marks: slices.Clone(fl.shown), seen: true} }
