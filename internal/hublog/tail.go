package hublog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

// DefaultMaxBytes is how much of a log's end Tail reads when the caller
// gives no budget.
const DefaultMaxBytes = 256 << 10

// blockSize is how much Tail reads at a time, backwards from the end.
const blockSize = 16 << 10

var (
	// ErrNotRegular reports a log that is a FIFO, a device, a directory or
	// a socket: reading one could block or never end.
	ErrNotRegular = errors.New("not a regular file")
	// ErrSymlink reports a log that is a symbolic link, which could point
	// out of the workspace.
	ErrSymlink = errors.New("is a symbolic link")
)

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
// budget is left out. The file is opened as OpenRegular opens it.
func Tail(path string, n int, maxBytes int64) (Excerpt, error) {
	f, fi, err := OpenRegular(path)
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

// OpenRegular opens path for reading only if it is a regular file: without
// following a symbolic link as its last element (ErrSymlink) and without
// blocking on a FIFO, it checks the opened file and refuses anything else
// (ErrNotRegular). The caller closes the file.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := openNoFollow(path)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, nil, fmt.Errorf("open %s: %w: refusing to follow it", path, ErrSymlink)
		}
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("open %s: %w (%s): refusing to read it", path, ErrNotRegular, kindOf(fi.Mode()))
	}
	return f, fi, nil
}

// kindOf names a non-regular file's type.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "type " + m.Type().String()
}
