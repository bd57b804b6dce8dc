package procscan

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// Resources is a point-in-time view of one process's resource use.
type Resources struct {
	CPUPercent float64       // average since start
	CPUTime    time.Duration // total CPU time used, from which two measurements give the share in between
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
//
// To measure several processes, call ResourcesOfMany once: finding
// listening ports lists the host's listening sockets, which it does once
// for all of them.
func ResourcesOf(pid int) (Resources, error) {
	res, errs := ResourcesOfMany([]int{pid})
	if err, failed := errs[pid]; failed {
		return Resources{}, err
	}
	return res[pid], nil
}

// ResourcesOfMany measures every pid in pids as ResourcesOf does. Each
// distinct pid ends up in exactly one of the two maps: its resources, or
// the error that kept it from being measured (wrapping ErrGone for a
// process that has exited or is a zombie). The host's listening TCP sockets
// are listed once per call, so measuring n processes costs one listing plus
// a few small reads per process rather than n listings.
//
// On Linux the listing comes from the kernel's sock_diag interface (or,
// where that is refused, /proc/net/tcp and tcp6) for the caller's network
// namespace, so a process listening inside another network namespace (a
// container) shows no ports. On Windows it is the system TCP table. On
// macOS and the BSDs ports are not reported: gopsutil lists sockets there
// by running lsof, too heavy for every collection.
func ResourcesOfMany(pids []int) (map[int]Resources, map[int]error) {
	res := make(map[int]Resources, len(pids))
	errs := make(map[int]error)
	// Read on first need: a batch of dead processes does not pay for it.
	listing := sync.OnceValues(func() (listeners, error) {
		l, err := readListeners()
		if err != nil {
			slog.Debug("listening ports unavailable", "err", err)
		}
		return l, err
	})
	for _, pid := range pids {
		_, measured := res[pid]
		_, failed := errs[pid]
		if measured || failed {
			continue
		}
		if r, err := resourcesOf(pid, listing); err != nil {
			errs[pid] = err
		} else {
			res[pid] = r
		}
	}
	return res, errs
}

// resourcesOf measures one pid, taking its listening ports from the
// listing the batch shares.
func resourcesOf(pid int, listing func() (listeners, error)) (Resources, error) {
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
	r := Resources{CPUPercent: u.cpuPercent, CPUTime: u.cpu, RSS: u.rss, Uptime: u.elapsed.Truncate(time.Second)}
	if l, err := listing(); err == nil {
		if r.Ports, err = l.portsOf(p.Pid); err != nil {
			slog.Debug("listening ports unavailable", "pid", pid, "err", err)
		}
	}
	if r.Children, err = liveChildren(p); err != nil {
		slog.Debug("child processes unavailable", "pid", pid, "err", err)
	}
	return r, nil
}

// portsFrom keeps the local ports of listening sockets, sorted and without
// duplicates, from connections gopsutil listed.
func portsFrom(conns []net.ConnectionStat) []int {
	var ports []int
	for _, c := range conns {
		if c.Status == "LISTEN" && c.Laddr.Port != 0 {
			ports = append(ports, int(c.Laddr.Port))
		}
	}
	return sortedPorts(ports)
}

// sortedPorts sorts ports and drops duplicates: a dual-stack listener shows
// up once per address family.
func sortedPorts(ports []int) []int {
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
