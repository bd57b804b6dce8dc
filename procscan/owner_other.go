//go:build !linux

package procscan

import (
	"fmt"

	"github.com/shirou/gopsutil/v4/process"
)

// OwnerUID returns the uid a process runs as (its effective uid).
func OwnerUID(pid int) (int, error) {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return 0, fmt.Errorf("owner of pid %d: %w", pid, err)
	}
	uids, err := p.Uids()
	if err != nil || len(uids) < 2 {
		return 0, fmt.Errorf("owner of pid %d: %v", pid, err)
	}
	return int(uids[1]), nil
}
