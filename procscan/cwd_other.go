//go:build !linux

package procscan

import "github.com/shirou/gopsutil/v4/process"

// cwdOf returns the process's working directory, "" when it cannot be read.
// Only Linux marks removed directories in the path, so deleted is always
// false here; callers find out when they stat the path.
func cwdOf(p *process.Process) (string, bool) {
	cwd, err := p.Cwd()
	if err != nil {
		return "", false
	}
	return cwd, false
}
