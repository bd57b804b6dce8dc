// Package procscan finds live `bones hub start` processes by reading the
// host's process table.
//
// It never runs ps, lsof, pgrep or any other program. Processes are listed,
// and cwds and children read, through gopsutil; on macOS and Windows
// everything goes through it (sysctl and proc_pidinfo, the process APIs,
// the TCP tables). On Linux the files a scan touches for every process, or
// for every match, are read from /proc directly with the fewest system
// calls, which are the whole cost of a scan, and listening ports come from
// one sock_diag query per measurement batch. A scan reads only the start of
// every process's command line and the rest (cwd, times, memory) only for
// the few that match, so a host with thousands of processes stays cheap to
// poll.
package procscan

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/process"
	"golang.org/x/sync/errgroup"
)

func init() {
	// Create times are derived from the boot time. Without the cache gopsutil
	// re-derives it on every call, in containers from the current time minus
	// the uptime, so the same process could report create times a second
	// apart between calls; callers compare create times to detect recycled
	// pids and need them stable.
	process.EnableBootTimeCache(true)
	host.EnableBootTimeCache(true)
}

// ErrGone reports that a process has exited or is a zombie.
var ErrGone = errors.New("process is gone")

// Process is one live hub process.
type Process struct {
	PID int
	// UID is the effective uid it runs as; -1 where the platform has no
	// uids (Windows) or it could not be read.
	UID int
	// OtherUser: it is known to run as another user than the scanning
	// process (see RunsAsSelf). Such a process is not this user's to
	// reap, and its cwd is usually unreadable.
	OtherUser  bool
	ETime      string    // ps-style elapsed time: [[dd-]hh:]mm:ss
	Cwd        string    // "" when unreadable
	CwdDeleted bool      // the cwd was reported as "<path> (deleted)"
	Cmd        string    // full command line
	CreateTime time.Time // process start
	RSS        uint64    // bytes
	CPUPercent float64   // average since start
}

// IsHubCommand reports whether argv is a `bones hub start` invocation: the
// program's base name is bones (bones.exe on Windows) and somewhere after it
// the word hub is immediately followed by start. Matching whole arguments
// keeps editors and greps that merely mention the words (`vim bones hub
// start.md`, `grep bones hub start`) out.
func IsHubCommand(argv []string) bool {
	if len(argv) < 3 || !isBonesName(baseName(argv[0])) {
		return false
	}
	for i := 1; i+1 < len(argv); i++ {
		if argv[i] == "hub" && argv[i+1] == "start" {
			return true
		}
	}
	return false
}

// baseName returns the last element of an argv[0]. Unlike filepath.Base it
// keeps trailing separators meaningful: "bin/bones/" does not name bones.
func baseName(path string) string {
	if i := strings.LastIndexAny(path, pathSeparators); i >= 0 {
		return path[i+1:]
	}
	return path
}

// Scan returns every live hub process on the host, ordered by pid. Processes
// that exit while the scan runs, and zombies, are left out.
func Scan() ([]Process, error) {
	pids, err := process.Pids()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	return scanChunks(pids, pidsPerChunk), nil
}

// pidsPerChunk keeps small hosts on one goroutine, where starting more
// costs more than it saves.
const pidsPerChunk = 256

// scanChunks scans pids in chunks of size pids each. Reading command lines is all
// kernel time spent per process, so on a busy host the chunks are scanned
// on all cores at once; each chunk keeps pid order, and so does their
// concatenation.
func scanChunks(pids []int32, size int) []Process {
	if len(pids) <= size {
		return scanPIDs(pids)
	}
	parts := make([][]Process, (len(pids)+size-1)/size)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range parts {
		chunk := pids[i*size : min((i+1)*size, len(pids))]
		g.Go(func() error {
			parts[i] = scanPIDs(chunk)
			return nil
		})
	}
	g.Wait()
	return slices.Concat(parts...)
}

// scanPIDs returns the hub processes among pids, in their order.
func scanPIDs(pids []int32) []Process {
	var hubs []Process
	buf := newPeekBuffer()
	for _, pid := range pids {
		argv, ok := commandLine(pid, buf)
		if !ok || !IsHubCommand(argv) {
			continue
		}
		// A bare Process avoids NewProcess's existence check and stat read.
		hub, err := describe(&process.Process{Pid: pid}, argv)
		if err != nil {
			continue
		}
		hubs = append(hubs, hub)
	}
	return hubs
}

// describe reads everything but the command line of a matched process.
func describe(p *process.Process, argv []string) (Process, error) {
	u, err := measure(p)
	if err != nil {
		return Process{}, err
	}
	cwd, deleted := cwdOf(p)
	uid, other := owner(p.Pid)
	return Process{
		PID:        int(p.Pid),
		UID:        uid,
		OtherUser:  other,
		ETime:      FormatETime(u.elapsed),
		Cwd:        cwd,
		CwdDeleted: deleted,
		Cmd:        strings.Join(argv, " "),
		CreateTime: u.start,
		RSS:        u.rss,
		CPUPercent: u.cpuPercent,
	}, nil
}

// usage is what both a scan row and a resource measurement report.
type usage struct {
	start      time.Time
	elapsed    time.Duration // never negative
	cpuPercent float64       // total CPU time over elapsed; 100 is one core busy throughout, as in ps
	cpu        time.Duration // total CPU time, user and system
	rss        uint64
}

// newUsage derives elapsed time and the average CPU share from a start time
// and the CPU time used since.
func newUsage(start time.Time, cpu time.Duration, rss uint64) usage {
	u := usage{start: start, rss: rss, cpu: cpu, elapsed: max(time.Since(start), 0)}
	if u.elapsed > 0 {
		u.cpuPercent = float64(cpu) / float64(u.elapsed) * 100
	}
	return u
}

// FormatETime renders d the way `ps -o etime` does: mm:ss under an hour,
// hh:mm:ss under a day, d-hh:mm:ss beyond. Negative durations render as
// 00:00.
func FormatETime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	hours, s := s/3600, s%3600
	mins, secs := s/60, s%60
	switch {
	case days > 0:
		return fmt.Sprintf("%d-%02d:%02d:%02d", days, hours, mins, secs)
	case hours > 0:
		return fmt.Sprintf("%02d:%02d:%02d", hours, mins, secs)
	default:
		return fmt.Sprintf("%02d:%02d", mins, secs)
	}
}
