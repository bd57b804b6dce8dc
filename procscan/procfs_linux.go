package procscan

import (
	"errors"

	"golang.org/x/sys/unix"
)

// readProc reads up to len(buf) bytes of a /proc file with one open, one read
// and one close. os.ReadFile needs twice as many system calls (it also stats
// the file and reads until EOF), and on a busy host system calls are the
// whole cost of checking every process.
func readProc(path string, buf []byte) (int, error) {
	fd, err := retryEINTR(func() (int, error) { return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return 0, err
	}
	n, err := retryEINTR(func() (int, error) { return unix.Read(fd, buf) })
	unix.Close(fd)
	return n, err
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
