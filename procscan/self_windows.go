package procscan

import (
	"fmt"
	"os/user"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
)

// RunsAsSelf reports whether pid runs as the calling user: Windows has no
// uids, so the account names of the two processes' tokens are compared.
func RunsAsSelf(pid int) (bool, error) {
	if !validPID(pid) {
		return false, fmt.Errorf("user of pid %d: invalid pid", pid)
	}
	name, err := (&process.Process{Pid: int32(pid)}).Username()
	if err != nil {
		return false, fmt.Errorf("user of pid %d: %w", pid, err)
	}
	me, err := user.Current()
	if err != nil {
		return false, fmt.Errorf("current user: %w", err)
	}
	return strings.EqualFold(name, me.Username), nil
}

// owner returns -1, Windows having no uids, and whether pid is known to run
// as another user (see RunsAsSelf).
func owner(pid int32) (uid int, other bool) {
	mine, err := RunsAsSelf(int(pid))
	return -1, err == nil && !mine
}
