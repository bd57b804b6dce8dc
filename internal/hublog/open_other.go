//go:build !unix

package hublog

import (
	"errors"
	"io/fs"
	"os"
)

// openNoFollow opens path read-only unless it is a symbolic link. Without
// O_NOFOLLOW the link is checked first, and the opened file must be the
// one checked.
func openNoFollow(path string) (*os.File, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if before.Mode()&fs.ModeSymlink != 0 {
		return nil, errors.New("symbolic link")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if after, err := f.Stat(); err != nil || !os.SameFile(before, after) {
		f.Close()
		return nil, errors.New("the file changed while it was opened")
	}
	return f, nil
}
