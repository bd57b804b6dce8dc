package procscan

import (
	"bytes"
	"errors"
	"strconv"

	"golang.org/x/sys/unix"
)

// peekSize is how much of a command line is read to find argv[0]. A longer
// argv[0] is handed to the full read.
const peekSize = 4096

// mayBeHub reports whether pid's argv[0] names bones, from the start of
// /proc/<pid>/cmdline read into buf with one open, one read and one close.
// Every process on the host goes through this check, and on a busy host the
// system calls are the whole cost of a scan: gopsutil's read (os.ReadFile)
// makes twice as many per process. Processes that pass are read again in
// full through gopsutil, so the match itself is decided on gopsutil's argv.
func mayBeHub(pid int32, buf []byte) bool {
	path := "/proc/" + strconv.Itoa(int(pid)) + "/cmdline"
	fd, err := retryEINTR(func() (int, error) { return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return false // gone, or hidden from us; the full read would fail too
	}
	n, err := retryEINTR(func() (int, error) { return unix.Read(fd, buf) })
	unix.Close(fd)
	if err != nil || n <= 0 {
		return false // kernel threads and zombies have no command line
	}
	argv0, _, complete := bytes.Cut(buf[:n], []byte{0})
	if !complete && n == len(buf) {
		return true
	}
	return isBonesName(baseName(string(argv0)))
}

// retryEINTR repeats a system call interrupted by a signal.
func retryEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// newPeekBuffer returns the buffer mayBeHub reads into.
func newPeekBuffer() []byte { return make([]byte, peekSize) }
