package procscan

import (
	"fmt"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// measure reads p's start time, CPU time and resident memory from one read
// of /proc/<pid>/stat. A process that has exited or is a zombie yields an
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
	return newUsage(start, ticks(st.cpuTicks), st.rssPages*pageSize), nil
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
