//go:build !unix

package safefile

import (
	"io/fs"
	"os"
)

// openNoFollow checks for a symlink before opening: without O_NOFOLLOW a
// swap between the two steps is possible, which Open's type check after the
// open narrows to another regular file.
func openNoFollow(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	return os.Open(path)
}
