package hublog

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"boneyard/internal/safefile"
)

// MaxFiles bounds how many of a state directory's log files are read:
// hub.log and its rotations (bones keeps 5, BONES_LOG_MAX_FILES).
const MaxFiles = 32

// LogFile is one of a state directory's log files.
type LogFile struct {
	Name    string // hub.log, hub.log.1, …
	Size    int64
	ModTime time.Time
	Refused string // why it is not read ("is a symbolic link", "is not a regular file (named pipe)"); "" when readable
}

// rotated is the name of the n-th rotation of hub.log, hub.log itself for 0.
func rotated(n int) string {
	if n == 0 {
		return FileName
	}
	return FileName + "." + strconv.Itoa(n)
}

// IsLogName reports whether name is hub.log or one of its rotations
// (hub.log.1 … hub.log.<MaxFiles-1>).
func IsLogName(name string) bool {
	if name == FileName {
		return true
	}
	rest, ok := strings.CutPrefix(name, FileName+".")
	if !ok || rest == "" || rest[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n > 0 && n < MaxFiles
}

// Files lists the log files of stateDir, newest first: hub.log, then
// hub.log.1, hub.log.2, … up to the first rotation that is missing (bones
// shifts them without leaving gaps; hub.log itself is missing between a
// rotation and the next line). A file that would not be read, a symbolic
// link or a FIFO, is listed with the reason. A missing directory has no
// files.
func Files(stateDir string) ([]LogFile, error) {
	var out []LogFile
	for n := range MaxFiles {
		fi, err := os.Lstat(filepath.Join(stateDir, rotated(n)))
		if errors.Is(err, fs.ErrNotExist) {
			if n == 0 {
				continue
			}
			break
		}
		if err != nil {
			return out, fmt.Errorf("hub log %s: %w", filepath.Join(stateDir, rotated(n)), err)
		}
		lf := LogFile{Name: rotated(n), Size: fi.Size(), ModTime: fi.ModTime()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			lf.Refused, lf.Size = safefile.ErrSymlink.Error(), 0
		case !fi.Mode().IsRegular():
			lf.Refused, lf.Size = safefile.ErrNotRegular.Error(), 0
		}
		out = append(out, lf)
	}
	return out, nil
}

// OpenFile opens the log file name (hub.log or a rotation) of stateDir
// for reading, as safefile.Open does, and returns it with its size at
// opening: a download serves that many bytes, whatever is appended
// meanwhile.
func OpenFile(stateDir, name string) (*os.File, int64, error) {
	if !IsLogName(name) {
		return nil, 0, fmt.Errorf("%q is not the name of a hub log: %w", name, fs.ErrNotExist)
	}
	f, fi, err := safefile.Open(filepath.Join(stateDir, name))
	if err != nil {
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// fileID identifies a file on this host while it exists, whatever its
// name: a rotation renames hub.log to hub.log.1 and keeps its identity.
type fileID struct{ vol, idx uint64 }

// nameID stands in for a file identity where the platform has none.
func nameID(name string) fileID {
	h := fnv.New64a()
	h.Write([]byte(name))
	return fileID{idx: h.Sum64()}
}

// logFile is one log file, open for reading.
type logFile struct {
	name string
	f    *os.File
	size int64 // when opened
	id   fileID
}

// openFiles opens the log files of stateDir, newest first. Files that
// are refused or vanish meanwhile are left out; refused says which were
// refused and why. The caller closes the files.
func openFiles(stateDir string) (files []logFile, refused []string, err error) {
	list, err := Files(stateDir)
	if err != nil {
		return nil, nil, err
	}
	for _, lf := range list {
		if lf.Refused != "" {
			refused = append(refused, lf.Name+" "+lf.Refused)
			continue
		}
		f, fi, err := safefile.Open(filepath.Join(stateDir, lf.Name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			if r := safefile.Reason(err); r != "" {
				refused = append(refused, lf.Name+" "+r)
				continue
			}
			closeFiles(files)
			return nil, nil, fmt.Errorf("hub log: %w", err)
		}
		id := idOf(f, fi)
		if slices.ContainsFunc(files, func(o logFile) bool { return o.id == id }) {
			// Renamed by a rotation between two looks: it is listed once.
			f.Close()
			continue
		}
		files = append(files, logFile{name: lf.Name, f: f, size: fi.Size(), id: id})
	}
	return files, refused, nil
}

func closeFiles(files []logFile) {
	for _, lf := range files {
		lf.f.Close()
	}
}

// Mark is a place in one log file: the file, by identity, and a byte
// offset in it. A mark survives rotation, since the file keeps its
// identity when it is renamed.
type Mark struct {
	id  fileID
	off int64
}

// IsZero reports the zero Mark, which names no place.
func (m Mark) IsZero() bool { return m == Mark{} }

// String encodes the mark for a URL: three base-36 numbers joined by dots.
func (m Mark) String() string {
	if m.IsZero() {
		return ""
	}
	return strconv.FormatUint(m.id.vol, 36) + "." + strconv.FormatUint(m.id.idx, 36) + "." + strconv.FormatInt(m.off, 36)
}

// ParseMark decodes what Mark.String encoded; "" is the zero Mark.
func ParseMark(s string) (Mark, error) {
	if s == "" {
		return Mark{}, nil
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Mark{}, fmt.Errorf("log position %q: want three dot-separated numbers", s)
	}
	vol, err1 := strconv.ParseUint(parts[0], 36, 64)
	idx, err2 := strconv.ParseUint(parts[1], 36, 64)
	off, err3 := strconv.ParseInt(parts[2], 36, 64)
	if err := errors.Join(err1, err2, err3); err != nil || off < 0 {
		return Mark{}, fmt.Errorf("log position %q is not one boneyard wrote", s)
	}
	return Mark{id: fileID{vol: vol, idx: idx}, off: off}, nil
}

// Cursor is where a reader stands in a state directory's logs: for each
// file it knows, by identity, how far it has read. A file the cursor does
// not name was created after it. The zero Cursor knows nothing, not even
// that there was no file: following from it starts at the files' ends.
type Cursor struct {
	marks []Mark
	seen  bool // the directory was looked at: a cursor of no marks means there was no file
}

// IsZero reports the zero Cursor.
func (c Cursor) IsZero() bool { return len(c.marks) == 0 && !c.seen }

// String encodes the cursor for a URL: its marks joined by "_"; "0" when
// there was no file.
func (c Cursor) String() string {
	if len(c.marks) == 0 && c.seen {
		return "0"
	}
	parts := make([]string, len(c.marks))
	for i, m := range c.marks {
		parts[i] = m.String()
	}
	return strings.Join(parts, "_")
}

// maxCursor bounds an encoded cursor: MaxFiles marks of three 64-bit
// numbers in base 36.
const maxCursor = MaxFiles * 3 * 14

// ParseCursor decodes what Cursor.String encoded; "" is the zero Cursor.
func ParseCursor(s string) (Cursor, error) {
	switch s {
	case "":
		return Cursor{}, nil
	case "0":
		return Cursor{seen: true}, nil
	}
	if len(s) > maxCursor || strings.Count(s, "_") >= MaxFiles {
		return Cursor{}, errors.New("log position is longer than any boneyard writes")
	}
	c := Cursor{seen: true}
	for part := range strings.SplitSeq(s, "_") {
		m, err := ParseMark(part)
		if err != nil {
			return Cursor{}, err
		}
		if m.IsZero() {
			return Cursor{}, fmt.Errorf("log position %q has an empty part", s)
		}
		c.marks = append(c.marks, m)
	}
	return c, nil
}

// offset is how far c has read the file id; ok is false for a file c does
// not know.
func (c Cursor) offset(id fileID) (int64, bool) {
	for _, m := range c.marks {
		if m.id == id {
			return m.off, true
		}
	}
	return 0, false
}
