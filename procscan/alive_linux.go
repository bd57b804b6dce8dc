package procscan

import (
	"bytes"
	"strconv"
)

// statusHead is enough of /proc/<pid>/status to hold its State and Tgid
// lines, which come right after the (escaped, at most 64-byte) Name line.
const statusHead = 512

// alive reads the head of /proc/<pid>/status once; a missing entry means the
// process is gone. gopsutil reads the whole file once per field asked for
// (and the command line as well for long names), and callers check every
// registry entry on each collection. Thread ids share the pid space and have
// /proc entries of their own, so a dead process's pid reused for another
// process's thread must not count: only a thread-group leader (Tgid equal to
// the pid) is a process.
func alive(pid int32) bool {
	buf := make([]byte, statusHead)
	n, err := readProc("/proc/"+strconv.Itoa(int(pid))+"/status", buf)
	if err != nil {
		return false
	}
	state, tgid := statusField(buf[:n], "State:"), statusField(buf[:n], "Tgid:")
	if len(state) == 0 || state[0] == 'Z' || state[0] == 'X' {
		return false
	}
	return string(tgid) == strconv.Itoa(int(pid))
}

// statusField returns the trimmed value of the line starting with key.
func statusField(status []byte, key string) []byte {
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte(key)); ok {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}
