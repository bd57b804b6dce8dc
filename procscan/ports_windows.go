package procscan

import (
	"fmt"

	"github.com/shirou/gopsutil/v4/net"
)

// listeners holds every process's listening TCP ports, by pid.
type listeners map[int32][]int

// readListeners reads the system TCP tables (GetExtendedTcpTable), which
// name each socket's owning pid, once for the whole batch.
func readListeners() (listeners, error) {
	conns, err := net.Connections("tcp")
	if err != nil {
		return nil, fmt.Errorf("list TCP sockets: %w", err)
	}
	byPID := make(map[int32][]net.ConnectionStat)
	for _, c := range conns {
		byPID[c.Pid] = append(byPID[c.Pid], c)
	}
	l := make(listeners, len(byPID))
	for pid, cs := range byPID {
		if ports := portsFrom(cs); len(ports) > 0 {
			l[pid] = ports
		}
	}
	return l, nil
}

// portsOf returns the ports pid listens on.
func (l listeners) portsOf(pid int32) ([]int, error) { return l[pid], nil }
