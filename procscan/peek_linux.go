package procscan

import (
	"bytes"
	"strconv"

	"github.com/shirou/gopsutil/v4/process"
)

// peekSize is how much of a command line one read takes. Nearly every
// command line fits; a longer one is read again in full when its argv[0]
// may name bones.
const peekSize = 4096

// commandLine returns pid's argv if its argv[0] may name bones (the caller
// still applies IsHubCommand), and false for any other process or one that
// is gone. Every process on the host goes through here, so it is one open,
// one read and one close of /proc/<pid>/cmdline, with no allocation for
// the processes it turns away. Kernel threads and zombies have an empty
// command line.
func commandLine(pid int32, buf []byte) ([]string, bool) {
	n, err := readProc("/proc/"+strconv.Itoa(int(pid))+"/cmdline", buf)
	if err != nil || n <= 0 {
		return nil, false
	}
	argv0, _, complete := bytes.Cut(buf[:n], []byte{0})
	switch {
	case complete && !isBonesName(baseName(string(argv0))):
		return nil, false
	case n == len(buf):
		// Cut short: read it all, as the arguments or argv[0] itself go on.
		argv, err := (&process.Process{Pid: pid}).CmdlineSlice()
		return argv, err == nil
	case !complete:
		return nil, false // one argument, rewritten by the process: no hub
	default:
		return splitCmdline(buf[:n]), true
	}
}

// splitCmdline splits NUL-separated arguments the way gopsutil does,
// dropping trailing NULs.
func splitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	argv := make([]string, len(parts))
	for i, p := range parts {
		argv[i] = string(p)
	}
	return argv
}

// newPeekBuffer returns the buffer commandLine reads into.
func newPeekBuffer() []byte { return make([]byte, peekSize) }
