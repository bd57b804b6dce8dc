//go:build !linux

package procscan

import (
	"fmt"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// measure reads p's start time, CPU time and resident memory through
// gopsutil. A process that has exited or is a zombie yields an error
// wrapping ErrGone.
func measure(p *process.Process) (usage, error) {
	if !alive(p.Pid) {
		return usage{}, fmt.Errorf("process %d: %w", p.Pid, ErrGone)
	}
	start, err := createTime(p.Pid)
	if err != nil {
		return usage{}, err
	}
	times, err := p.Times()
	if err != nil {
		return usage{}, fmt.Errorf("process %d cpu times: %w", p.Pid, err)
	}
	mem, err := p.MemoryInfo()
	if err != nil {
		return usage{}, fmt.Errorf("process %d memory: %w", p.Pid, err)
	}
	cpu := time.Duration((times.User + times.System) * float64(time.Second))
	return newUsage(start, cpu, mem.RSS), nil
}

// createTime returns pid's start time.
func createTime(pid int32) (time.Time, error) {
	ms, err := (&process.Process{Pid: pid}).CreateTime()
	if err != nil {
		return time.Time{}, fmt.Errorf("process %d create time: %w", pid, err)
	}
	return time.UnixMilli(ms), nil
}
