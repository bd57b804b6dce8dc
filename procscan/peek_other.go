//go:build !linux

package procscan

import "github.com/shirou/gopsutil/v4/process"

// commandLine returns pid's argv, false when it cannot be read; there is no
// cheaper source of argv[0] than the whole command line on this platform.
func commandLine(pid int32, _ []byte) ([]string, bool) {
	argv, err := (&process.Process{Pid: pid}).CmdlineSlice()
	return argv, err == nil
}

// newPeekBuffer returns the buffer commandLine reads into; unused here.
func newPeekBuffer() []byte { return nil }
