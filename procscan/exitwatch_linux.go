package procscan

import (
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// pidfdBackend watches each pid through a pidfd, which becomes readable
// when the process exits. The pidfd is handed to the Go runtime's poller
// (epoll), so a watched pid costs one file descriptor and one parked
// goroutine, and nothing runs until the kernel reports the exit.
type pidfdBackend struct {
	flags int // PIDFD_NONBLOCK, or 0 on kernels before 5.10 (set by fcntl instead)
	wg    sync.WaitGroup
}

// newBackend returns the pidfd backend, or nil on kernels without
// pidfd_open (before 5.3) or where a sandbox refuses it.
func newBackend() backend {
	for _, flags := range []int{unix.PIDFD_NONBLOCK, 0} {
		fd, err := unix.PidfdOpen(os.Getpid(), flags)
		if err == nil {
			unix.Close(fd)
			return &pidfdBackend{flags: flags}
		}
		if !errors.Is(err, unix.EINVAL) {
			return nil
		}
	}
	return nil
}

func (b *pidfdBackend) method() string { return "pidfd" }

func (b *pidfdBackend) watch(pid int, exited func()) (func(), error) {
	fd, err := unix.PidfdOpen(pid, b.flags)
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil, errExited
	case err != nil:
		return nil, errUnwatchable
	}
	if b.flags == 0 {
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return nil, errUnwatchable
		}
	}
	// A non-blocking descriptor given to NewFile joins the poller.
	f := os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid))
	// Deadlines work only on files in the poller: this proves it is there.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, errUnwatchable
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, errUnwatchable
	}
	var once sync.Once
	stop := func() { once.Do(func() { f.Close() }) }
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		// Read calls the function, and while it returns false parks the
		// goroutine until epoll reports the pidfd readable.
		err := rc.Read(func(fd uintptr) bool { return pidfdExited(int(fd)) })
		if err == nil || (!errors.Is(err, os.ErrClosed) && !Alive(pid)) {
			exited()
		}
	}()
	return stop, nil
}

// pidfdExited asks, without waiting, whether the pidfd is readable: its
// process has exited.
func pidfdExited(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n > 0
	}
}

// close waits for every watch goroutine; Close has stopped them all.
func (b *pidfdBackend) close() { b.wg.Wait() }
