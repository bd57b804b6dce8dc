//go:build !linux && !darwin

package procscan

import "github.com/shirou/gopsutil/v4/process"

// alive falls back to gopsutil's existence check where the process state is
// not available without a subprocess (Windows has no zombies in the Unix
// sense).
func alive(pid int32) bool {
	ok, err := process.PidExists(pid)
	return err == nil && ok
}
