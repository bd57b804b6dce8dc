//go:build unix

package hublog

import (
	"os"
	"syscall"
)

// openNoFollow opens path read-only; O_NOFOLLOW fails on a symbolic link,
// and O_NONBLOCK keeps the open of a FIFO without a writer from waiting.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}
