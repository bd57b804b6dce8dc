package hublog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"boneyard/internal/safefile"
)

// DefaultMaxBytes is how much of a log's end Tail reads when the caller
// gives no budget.
const DefaultMaxBytes = 256 << 10

// blockSize is how much Tail reads at a time, backwards from the end.
const blockSize = 16 << 10

// Excerpt is the end of a log as Tail read it.
type Excerpt struct {
	Lines     []string // complete lines, oldest first, without line ends
	Size      int64    // the file's size when opened
	BytesRead int64    // what Tail read: at most its budget, whatever Size is
	Truncated bool     // the file holds more before Lines (cut by the line count or the budget)
}

// Tail returns the last n complete lines (n <= 0: as many as the budget
// holds) of the regular file at path, reading at most maxBytes (<= 0:
// DefaultMaxBytes) backwards from its end in blocks. A line longer than the
// budget is left out. The file is opened as safefile.Open opens it: a
// symbolic link (safefile.ErrSymlink), a FIFO or a device
// (safefile.ErrNotRegular) is refused without blocking.
func Tail(path string, n int, maxBytes int64) (Excerpt, error) {
	f, fi, err := safefile.Open(path)
	if err != nil {
		return Excerpt{}, err
	}
	defer f.Close()
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	size := fi.Size()
	limit := min(size, maxBytes)
	var blocks [][]byte // newest first
	filled := int64(0)  // bytes read, from the end
	breaks := 0         // line ends in what is read, the file's last one aside
	for filled < limit && (n <= 0 || breaks < n) {
		blk := make([]byte, min(blockSize, limit-filled))
		if _, err := f.ReadAt(blk, size-filled-int64(len(blk))); err != nil {
			if errors.Is(err, io.EOF) {
				return Excerpt{}, fmt.Errorf("read %s: the file shrank while it was read", path)
			}
			return Excerpt{}, fmt.Errorf("read %s: %w", path, err)
		}
		if filled == 0 && len(blk) > 0 && blk[len(blk)-1] == '\n' {
			breaks--
		}
		breaks += bytes.Count(blk, []byte{'\n'})
		filled += int64(len(blk))
		blocks = append(blocks, blk)
	}
	slices.Reverse(blocks)
	text := bytes.TrimSuffix(bytes.Join(blocks, nil), []byte{'\n'})
	ex := Excerpt{Size: size, BytesRead: filled}
	if len(text) == 0 {
		return ex, nil
	}
	raw := bytes.Split(text, []byte{'\n'})
	if filled < size {
		// The first piece starts before what was read.
		raw, ex.Truncated = raw[1:], true
	}
	if n > 0 && len(raw) > n {
		raw, ex.Truncated = raw[len(raw)-n:], true
	}
	ex.Lines = make([]string, len(raw))
	for i, r := range raw {
		ex.Lines[i] = string(r)
	}
	return ex, nil
}
