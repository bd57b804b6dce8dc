package procscan

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/host"
	"github.com/tklauser/go-sysconf"
	"golang.org/x/sys/unix"
)

// On Linux the files read for every process, or for every match, are read
// here rather than through gopsutil: its readers use os.ReadFile, which
// takes twice the system calls (a stat, and a second read to see EOF), and
// it reads /proc/<pid>/stat again for every field asked for. On a busy host
// the system calls are the whole cost of a scan.

// readProc reads up to len(buf) bytes of a /proc file with one open, one read
// and one close.
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

// procStat is what a scan needs from /proc/<pid>/stat.
type procStat struct {
	state      byte   // R, S, D, Z (zombie), X (dead), ...
	cpuTicks   uint64 // user plus system time, in clock ticks
	startTicks uint64 // start time, in clock ticks after boot
	rssPages   uint64
}

// statSize holds any /proc/<pid>/stat: a 16-byte name and 50 numbers.
const statSize = 2048

// readStat reads /proc/<pid>/stat. A process that is gone yields an error
// wrapping ErrGone.
func readStat(pid int32) (procStat, error) {
	buf := make([]byte, statSize)
	n, err := readProc("/proc/"+strconv.Itoa(int(pid))+"/stat", buf)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return procStat{}, fmt.Errorf("process %d: %w", pid, ErrGone)
	}
	if err != nil {
		return procStat{}, fmt.Errorf("process %d stat: %w", pid, err)
	}
	st, err := parseStat(buf[:n])
	if err != nil {
		return procStat{}, fmt.Errorf("process %d stat: %w", pid, err)
	}
	return st, nil
}

// parseStat decodes the fields of a stat line after the parenthesised name,
// which may itself contain spaces and parentheses.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("no process name in %q", b)
	}
	// f[k] is field k+3 in proc(5): state, ppid, ..., utime (14), stime
	// (15), starttime (22), rss (24).
	f := bytes.Fields(b[i+1:])
	if len(f) < 22 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("truncated stat %q", b)
	}
	var nums [4]uint64
	for k, field := range []int{14, 15, 22, 24} {
		v, err := strconv.ParseUint(string(f[field-3]), 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("stat field %d: %w", field, err)
		}
		nums[k] = v
	}
	return procStat{state: f[0][0], cpuTicks: nums[0] + nums[1], startTicks: nums[2], rssPages: nums[3]}, nil
}

// clockTicks is the kernel's USER_HZ, the unit of the stat times.
var clockTicks = sync.OnceValue(func() uint64 {
	if v, err := sysconf.Sysconf(sysconf.SC_CLK_TCK); err == nil && v > 0 {
		return uint64(v)
	}
	return 100
})

// ticks converts clock ticks to a duration without overflowing for uptimes
// of years.
func ticks(n uint64) time.Duration {
	hz := clockTicks()
	return time.Duration(n/hz)*time.Second + time.Duration(n%hz)*time.Second/time.Duration(hz)
}

// startTime is when the process started, from the boot time gopsutil
// reports (cached, so it is the same on every call).
func (st procStat) startTime() (time.Time, error) {
	boot, err := host.BootTime()
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time: %w", err)
	}
	return time.Unix(int64(boot), 0).Add(ticks(st.startTicks)), nil
}

// gone reports whether a process in this state has exited.
func (st procStat) gone() bool { return st.state == 'Z' || st.state == 'X' }

// pageSize converts rssPages to bytes.
var pageSize = uint64(os.Getpagesize())
