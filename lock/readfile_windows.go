package lock

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"

	"boneyard/internal/safefile"
)

// readShared reads the regular file at path, at most max bytes, opened with
// FILE_SHARE_DELETE. os.Open (and so safefile) omits that share mode, and an
// open reader would then make Acquire's rename over the pid file fail: a
// polling Probe must never do that. As safefile does, it refuses a symlink
// (the handle is opened on the link itself, not followed), anything but a
// regular file and a file over max bytes, with safefile's errors.
func readShared(path string, max int64) ([]byte, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(h), path)
	defer f.Close()
	info, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("stat %s: %w", path, err)
	case info.Mode()&fs.ModeSymlink != 0:
		return nil, &fs.PathError{Op: "open", Path: path, Err: safefile.ErrSymlink}
	case !info.Mode().IsRegular():
		return nil, &fs.PathError{Op: "open", Path: path, Err: safefile.ErrNotRegular}
	case info.Size() > max:
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%d bytes, at most %d)", safefile.ErrTooLarge, info.Size(), max)}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (grew beyond %d bytes)", safefile.ErrTooLarge, max)}
	}
	return data, nil
}
