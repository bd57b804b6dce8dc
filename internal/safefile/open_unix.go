//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens with O_NOFOLLOW, so a symlink fails with ELOOP, and
// O_NONBLOCK, so a FIFO without a writer opens at once instead of waiting
// for one (it is then refused as not regular). On a regular file O_NONBLOCK
// changes nothing.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrSymlink}
	}
	return f, err
}
