package procscan

import (
	"bytes"
	"strconv"
)

// peekSize is how much of a command line is read to find argv[0]. A longer
// argv[0] is handed to the full read.
const peekSize = 4096

// mayBeHub reports whether pid's argv[0] names bones, from the start of
// /proc/<pid>/cmdline read into buf. Every process on the host goes through
// this check, so it is kept to the fewest system calls; processes that pass
// are read again in full through gopsutil, and the match itself is decided
// on gopsutil's argv.
func mayBeHub(pid int32, buf []byte) bool {
	n, err := readProc("/proc/"+strconv.Itoa(int(pid))+"/cmdline", buf)
	if err != nil || n <= 0 {
		return false // gone, hidden from us, or a kernel thread or zombie with no command line
	}
	argv0, _, complete := bytes.Cut(buf[:n], []byte{0})
	if !complete && n == len(buf) {
		return true
	}
	return isBonesName(baseName(string(argv0)))
}

// newPeekBuffer returns the buffer mayBeHub reads into.
func newPeekBuffer() []byte { return make([]byte, peekSize) }
