// Package procscan finds live `bones hub start` processes by reading the
// host's process table through gopsutil.
package procscan

import "time"

// Process is one live hub process.
type Process struct {
	PID        int
	ETime      string    // ps-style elapsed time: [[dd-]hh:]mm:ss
	Cwd        string    // "" when unreadable
	CwdDeleted bool      // the cwd was reported as "<path> (deleted)"
	Cmd        string    // full command line
	CreateTime time.Time // process start
	RSS        uint64    // bytes
	CPUPercent float64   // average since start
}

// IsHubCommand reports whether argv is a `bones hub start` invocation.
func IsHubCommand(argv []string) bool { panic("not implemented") }

// Scan returns every live hub process on the host.
func Scan() ([]Process, error) { panic("not implemented") }

// Resources is a point-in-time view of one process's resource use.
type Resources struct {
	CPUPercent float64
	RSS        uint64
	Uptime     time.Duration
	Ports      []int // listening TCP ports
	Children   int
}

// ResourcesOf measures pid.
func ResourcesOf(pid int) (Resources, error) { panic("not implemented") }
