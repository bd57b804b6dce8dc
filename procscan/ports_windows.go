package procscan

import "github.com/shirou/gopsutil/v4/net"

// listeningPorts filters the system TCP tables (GetExtendedTcpTable) by pid.
func listeningPorts(pid int32) ([]int, error) {
	conns, err := net.ConnectionsPid("tcp", pid)
	if err != nil {
		return nil, err
	}
	return portsFrom(conns), nil
}
