//go:build unix

package registry

import (
	"io/fs"
	"syscall"
)

// fileUID returns the uid owning the file info describes.
func fileUID(info fs.FileInfo) (int, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
