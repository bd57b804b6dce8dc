//go:build unix

package hublog

import (
	"io/fs"
	"os"
	"syscall"
)

// idOf is the open file's device and inode.
func idOf(_ *os.File, fi fs.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{vol: uint64(st.Dev), idx: uint64(st.Ino)}
	}
	return nameID(fi.Name())
}
