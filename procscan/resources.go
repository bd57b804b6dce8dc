package procscan

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// Resources is a point-in-time view of one process's resource use.
type Resources struct {
	CPUPercent float64
	RSS        uint64
	Uptime     time.Duration
	Ports      []int // listening TCP ports
	Children   int
}

// ResourcesOf measures pid: CPU averaged since start, resident memory,
// uptime, the TCP ports it listens on (sorted, without duplicates) and its
// number of live direct children. A process that has exited or is a zombie
// yields an error wrapping ErrGone. Ports and children that cannot be read
// (another user's process, or no support on the platform) are left empty
// rather than failing the whole measurement.
func ResourcesOf(pid int) (Resources, error) {
	if !validPID(pid) {
		return Resources{}, fmt.Errorf("process resources: invalid pid %d", pid)
	}
	p := &process.Process{Pid: int32(pid)}
	if !alive(p.Pid) {
		return Resources{}, fmt.Errorf("process %d resources: %w", pid, ErrGone)
	}
	u, err := measure(p)
	if err != nil {
		return Resources{}, fmt.Errorf("resources: %w", err)
	}
	r := Resources{CPUPercent: u.cpuPercent, RSS: u.rss, Uptime: u.elapsed.Truncate(time.Second)}
	if r.Ports, err = listeningPorts(p.Pid); err != nil {
		slog.Debug("listening ports unavailable", "pid", pid, "err", err)
	}
	if r.Children, err = liveChildren(p); err != nil {
		slog.Debug("child processes unavailable", "pid", pid, "err", err)
	}
	return r, nil
}

// portsFrom keeps the local ports of listening sockets, sorted and without
// duplicates (a dual-stack listener shows up once per address family).
func portsFrom(conns []net.ConnectionStat) []int {
	var ports []int
	for _, c := range conns {
		if c.Status == "LISTEN" && c.Laddr.Port != 0 {
			ports = append(ports, int(c.Laddr.Port))
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}

// countAlive counts the pids that are live processes, zombies excluded.
func countAlive(pids []int32) int {
	n := 0
	for _, pid := range pids {
		if alive(pid) {
			n++
		}
	}
	return n
}

// childrenByPPID asks gopsutil for p's direct children. It scans every
// process's parent pid, so it is the fallback where the kernel cannot list a
// process's children directly.
func childrenByPPID(p *process.Process) ([]int32, error) {
	kids, err := p.Children()
	if err != nil {
		return nil, fmt.Errorf("process %d children: %w", p.Pid, err)
	}
	pids := make([]int32, len(kids))
	for i, k := range kids {
		pids[i] = k.Pid
	}
	return pids, nil
}
