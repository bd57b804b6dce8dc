package procscan

import (
	"fmt"
	"math"
	"time"
)

// Alive reports whether pid is a live (non-zombie) process. A zombie has
// exited and only waits for its parent to collect its status, so for anyone
// asking "is the hub still there" it is dead.
func Alive(pid int) bool {
	if !validPID(pid) {
		return false
	}
	return alive(int32(pid))
}

// CreateTime returns the start time of pid, as Scan reports it.
func CreateTime(pid int) (time.Time, error) {
	if !validPID(pid) {
		return time.Time{}, fmt.Errorf("process create time: invalid pid %d", pid)
	}
	return createTime(int32(pid))
}

// validPID rejects pids that cannot name a real process: 0 and negative
// values mean "process group" or "everyone" to kill(2), and gopsutil stores
// pids as int32.
func validPID(pid int) bool {
	return pid > 0 && pid <= math.MaxInt32
}
