//go:build windows

package registry

import "os"

// requestStop kills p: Windows has no signal a console-less hub could catch.
func requestStop(p *os.Process) error { return p.Kill() }

// gone reports whether p has exited.
func gone(p *os.Process) bool { return !pidAlive(p.Pid) }
