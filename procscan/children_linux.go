package procscan

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/shirou/gopsutil/v4/process"
)

// childrenListed reports whether the kernel exposes
// /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN).
var childrenListed = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/thread-self/children")
	return err == nil
})

// liveChildren counts p's live direct children. The kernel lists children
// per thread that forked them, so every thread's list is read; without that
// file it falls back to scanning every process's parent pid.
func liveChildren(p *process.Process) (int, error) {
	if !childrenListed() {
		pids, err := childrenByPPID(p)
		return countAlive(pids), err
	}
	taskDir := filepath.Join("/proc", strconv.Itoa(int(p.Pid)), "task")
	tasks, err := os.ReadDir(taskDir)
	if err != nil {
		return 0, fmt.Errorf("process %d threads: %w", p.Pid, err)
	}
	var pids []int32
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(taskDir, t.Name(), "children"))
		if err != nil {
			continue // the thread exited since the directory was read
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.ParseInt(f, 10, 32); err == nil {
				pids = append(pids, int32(pid))
			}
		}
	}
	return countAlive(pids), nil
}
