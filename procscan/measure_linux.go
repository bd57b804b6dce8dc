package procscan

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// measure reads p's start time, CPU time and resident memory from one read
// of /proc/<pid>/stat (two for a process that has only just started). A
// process that has exited or is a zombie yields an
// error wrapping ErrGone.
func measure(p *process.Process) (usage, error) {
	st, err := readStat(p.Pid)
	if err != nil {
		return usage{}, err
	}
	if st.gone() {
		return usage{}, fmt.Errorf("process %d: %w", p.Pid, ErrGone)
	}
	start, err := st.startTime()
	if err != nil {
		return usage{}, fmt.Errorf("process %d: %w", p.Pid, err)
	}
	rss := st.rssPages * pageSize
	if rss == 0 {
		rss = exactRSS(p.Pid)
	}
	return newUsage(start, ticks(st.cpuTicks), rss), nil
}

// statusSize holds all of /proc/<pid>/status.
const statusSize = 4096

// exactRSS reads VmRSS from /proc/<pid>/status, 0 when it cannot. The rss
// in stat is the kernel's cheap reading of per-CPU counters, which lags by
// up to a batch of pages per CPU and so reads 0 just after an exec; status
// sums the counters exactly. Only that case pays for the second read.
func exactRSS(pid int32) uint64 {
	buf := make([]byte, statusSize)
	n, err := readProc("/proc/"+strconv.Itoa(int(pid))+"/status", buf)
	if err != nil {
		return 0
	}
	kb, _ := strings.CutSuffix(string(statusField(buf[:n], "VmRSS:")), " kB")
	v, err := strconv.ParseUint(strings.TrimSpace(kb), 10, 64)
	if err != nil {
		return 0
	}
	return v << 10
}

// createTime reads pid's start time the same way measure does, so the two
// agree exactly.
func createTime(pid int32) (time.Time, error) {
	st, err := readStat(pid)
	if err != nil {
		return time.Time{}, err
	}
	return st.startTime()
}
