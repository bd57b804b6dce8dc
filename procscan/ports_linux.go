package procscan

import "github.com/shirou/gopsutil/v4/net"

// listeningPorts reads only this pid's file descriptors and its network
// namespace's /proc/<pid>/net/tcp{,6}; gopsutil does not walk other
// processes for a single pid.
func listeningPorts(pid int32) ([]int, error) {
	conns, err := net.ConnectionsPidWithoutUids("tcp", pid)
	if err != nil {
		return nil, err
	}
	return portsFrom(conns), nil
}
