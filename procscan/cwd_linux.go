package procscan

import (
	"os"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
)

// deletedSuffix is what the kernel appends to /proc/<pid>/cwd when the
// directory has been removed.
const deletedSuffix = " (deleted)"

// cwdOf returns the process's working directory, "" when it cannot be read
// (another user's process), and whether that directory has been removed.
func cwdOf(p *process.Process) (string, bool) {
	cwd, err := p.Cwd()
	if err != nil {
		return "", false
	}
	trimmed, found := strings.CutSuffix(cwd, deletedSuffix)
	if !found {
		return cwd, false
	}
	// A directory may really be named "x (deleted)"; only a path that no
	// longer exists under its reported name is gone.
	if _, err := os.Stat(cwd); err == nil {
		return cwd, false
	}
	return trimmed, true
}
