//go:build unix

package bonescli

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the child in a process group of its own, so that a
// signal to boneyard's group (Ctrl-C) does not reach it, and a timeout
// kills the group.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
