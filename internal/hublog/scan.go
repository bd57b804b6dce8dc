package hublog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxLine is the longest line read whole; a longer one is cut to its first
// MaxLine bytes (and judged by them: a cut JSON line reads as plain).
const MaxLine = 2 << 20

// scanBlock is how much the search and follow readers read at a time.
const scanBlock = 64 << 10

// rawLine is one line as read: its bytes without the line end, where it
// starts, and how many bytes past MaxLine were left out.
type rawLine struct {
	b   []byte
	off int64
	cut int64
}

// appendLines appends the lines of b, which starts at offset base, to dst
// in file order; a last piece without a line end is a line too. Lines are
// cut at MaxLine.
func appendLines(dst []rawLine, b []byte, base int64) []rawLine {
	for len(b) > 0 {
		n := bytes.IndexByte(b, '\n')
		line, next := b, len(b)
		if n >= 0 {
			line, next = b[:n], n+1
		}
		l := rawLine{b: line, off: base}
		if len(line) > MaxLine {
			l.b, l.cut = line[:MaxLine], int64(len(line)-MaxLine)
		}
		dst = append(dst, l)
		b, base = b[next:], base+int64(next)
	}
	return dst
}

// backScanner returns the lines of a file that end at or before a given
// offset, from the last to the first, reading blocks backwards. It holds
// at most two blocks and one line of MaxLine bytes, however large the
// file.
type backScanner struct {
	r     io.ReaderAt
	pos   int64     // the bytes before pos are not read yet
	work  []byte    // bytes [pos, pos+len(work)) read and not yet returned: the end of a line that starts before pos
	spare []byte    // the other buffer work alternates with
	blk   []byte    // the block being read
	lines []rawLine // the complete lines of the last split, in file order; next takes them from the end
	long  int64     // > 0: the end (after its line end) of a line longer than MaxLine whose start is sought
	limit int64     // the most bytes to read
	read  int64     // bytes read so far
	done  bool      // the start of the file is read: no block is left
	out   bool      // the limit stopped the scan before the start of the file
	err   error
}

// newBackScanner scans the lines of r that end at or before end, reading
// at most limit bytes.
func newBackScanner(r io.ReaderAt, end, limit int64) *backScanner {
	return &backScanner{r: r, pos: end, blk: make([]byte, scanBlock), limit: limit}
}

// next returns the line before the one it returned last; its bytes are
// valid until the following call. ok is false at the start of the file,
// when the limit is reached (s.out), or on a read error (s.err).
func (s *backScanner) next() (rawLine, bool) {
	for {
		if n := len(s.lines); n > 0 {
			l := s.lines[n-1]
			s.lines = s.lines[:n-1]
			return l, true
		}
		if s.done || s.out || s.err != nil {
			return rawLine{}, false
		}
		if s.pos == 0 {
			// work begins the file, so its first line is whole.
			s.lines, s.work, s.done = appendLines(s.lines[:0], s.work, 0), s.work[:0], true
			continue
		}
		n := min(int64(len(s.blk)), s.pos)
		if s.read+n > s.limit {
			s.out = true
			continue
		}
		blk := s.blk[:n]
		if _, err := s.r.ReadAt(blk, s.pos-n); err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the file shrank while it was read")
			}
			s.err = err
			continue
		}
		s.read += n
		s.pos -= n
		if s.long > 0 {
			s.seekLongStart(blk)
			continue
		}
		// work becomes the block followed by what is left of the block after it.
		w := append(append(s.spare[:0], blk...), s.work...)
		s.spare, s.work = s.work, w
		s.split()
	}
}

// split moves the complete lines of work to s.lines, keeping in work the
// end of the line that starts before pos. A line end too far from any
// other is a line longer than MaxLine: its start is sought without keeping
// its bytes.
func (s *backScanner) split() {
	i := -1 // the end of the line that starts before pos
	if s.pos > 0 {
		i = bytes.IndexByte(s.work, '\n')
		if i < 0 {
			i = len(s.work) - 1
		}
	}
	s.lines = appendLines(s.lines[:0], s.work[i+1:], s.pos+int64(i+1))
	s.work = s.work[:i+1]
	if s.pos > 0 && len(s.work) > MaxLine+1 {
		s.long, s.work = s.pos+int64(len(s.work)), s.work[:0]
	}
}

// seekLongStart looks for the start of the long line in blk, the block
// before what was read; found, the line is returned by its head, and the
// rest of the block is split as usual.
func (s *backScanner) seekLongStart(blk []byte) {
	p := bytes.LastIndexByte(blk, '\n')
	if p < 0 && s.pos > 0 {
		return
	}
	start := s.pos + int64(p) + 1
	size := s.long - start - 1 // without its line end
	head := make([]byte, MaxLine)
	if _, err := s.r.ReadAt(head, start); err != nil && !errors.Is(err, io.EOF) {
		s.err = err
		return
	}
	long := rawLine{b: head, off: start, cut: size - MaxLine}
	s.long = 0
	w := append(s.spare[:0], blk[:p+1]...)
	s.spare, s.work = s.work[:0], w
	s.split()
	s.lines = append(s.lines, long)
}

// lineEnd returns the offset just past the last line end of r within its
// first size bytes: the end of its complete lines, which a writer does not
// change again. A last piece without a line end is left out, unless no line
// end is found within MaxLine of the end.
func lineEnd(r io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, min(size, scanBlock))
	for end := size; end > 0 && size-end <= MaxLine; {
		n := min(int64(len(buf)), end)
		if _, err := r.ReadAt(buf[:n], end-n); err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	if size > MaxLine {
		return size, nil
	}
	return 0, nil
}

// forward is how far a follower has read one file.
type forward struct {
	off      int64     // the next byte to read
	skipping bool      // off is inside a line longer than MaxLine whose head was returned
	last     time.Time // the time of the last timed line before off, which a plain line takes
	timed    bool      // last is known (looked up once for a follower that starts mid-file)
}

// timeBefore is the time of the last timed line of r that ends at or
// before end, looking back at most four blocks; zero when there is none.
func timeBefore(r io.ReaderAt, end int64) time.Time {
	sc := newBackScanner(r, end, 4*scanBlock)
	for {
		rl, ok := sc.next()
		if !ok {
			return time.Time{}
		}
		if t, ok := lineTime(rl.b); ok {
			return t
		}
	}
}

// read returns the complete lines of r between st.off and size, reading at
// most budget bytes (at least MaxLine+1, so that any line can complete), and
// advances st past them. A piece without a line end is left for later,
// unless it is longer than MaxLine: then its head is returned, cut, and the
// rest skipped up to its line end.
func (st *forward) read(r io.ReaderAt, size, budget int64) ([]rawLine, int64, error) {
	n := min(size-st.off, max(budget, MaxLine+1))
	if n <= 0 {
		return nil, 0, nil
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, st.off); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("read: %w", err)
	}
	base := st.off
	if st.skipping {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			st.off += n
			return nil, n, nil
		}
		buf, base, st.skipping = buf[i+1:], base+int64(i)+1, false
	}
	complete := bytes.LastIndexByte(buf, '\n') + 1
	lines := appendLines(nil, buf[:complete], base)
	st.off = base + int64(complete)
	if rest := buf[complete:]; len(rest) > MaxLine {
		lines = append(lines, rawLine{b: rest[:MaxLine], off: st.off, cut: int64(len(rest) - MaxLine)})
		st.off, st.skipping = base+int64(len(buf)), true
	}
	return lines, n, nil
}
