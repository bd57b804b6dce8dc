//go:build !unix

package bonescli

import "os/exec"

// setProcessGroup leaves the child in boneyard's group where the platform
// has no process groups; a timeout kills the child itself.
func setProcessGroup(*exec.Cmd) {}
