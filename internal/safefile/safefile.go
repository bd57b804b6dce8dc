// Package safefile reads files that other programs, or other users, may have
// planted: registry entries and a workspace's agent.id, hub.lock.pid and
// hub.log. Every open refuses a symlink in the last path component and never
// blocks (a FIFO or a device is refused after a non-blocking open), and
// every read is bounded, so no such file can hang or flood boneyard.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Errors of Open and ReadFile, wrapped with the path; errors.Is tells them
// apart.
var (
	ErrSymlink    = errors.New("is a symbolic link")
	ErrNotRegular = errors.New("is not a regular file")
	ErrTooLarge   = errors.New("is larger than allowed")
)

// Open opens path for reading without following a symlink in its last
// component and without blocking, and returns it only if it is a regular
// file, with its FileInfo taken from the open descriptor (so it describes
// the bytes that will be read even if the name is replaced meanwhile).
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(info.Mode()))}
	}
	return f, info, nil
}

// ReadFile reads the regular file at path, as Open opens it, refusing one
// of more than max bytes (ErrTooLarge) instead of reading a prefix.
func ReadFile(path string, max int64) ([]byte, fs.FileInfo, error) {
	f, info, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if info.Size() > max {
		return nil, nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%d bytes, at most %d)", ErrTooLarge, info.Size(), max)}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (grew beyond %d bytes)", ErrTooLarge, max)}
	}
	return data, info, nil
}

// Reason is a short account of why a file was refused, for a page: "is a
// symbolic link", "is not a regular file (named pipe)"; "" when err is not
// a refusal of this package.
func Reason(err error) string {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return ""
	}
	for _, e := range []error{ErrSymlink, ErrNotRegular, ErrTooLarge} {
		if errors.Is(err, e) {
			return pe.Err.Error()
		}
	}
	return ""
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return m.Type().String()
}
