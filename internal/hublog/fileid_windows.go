//go:build windows

package hublog

import (
	"io/fs"
	"os"
	"syscall"
)

// idOf is the open file's volume serial number and file index.
func idOf(f *os.File, fi fs.FileInfo) fileID {
	var d syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(syscall.Handle(f.Fd()), &d); err != nil {
		return nameID(fi.Name())
	}
	return fileID{vol: uint64(d.VolumeSerialNumber), idx: uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow)}
}
