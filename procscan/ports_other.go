//go:build !linux && !windows

package procscan

import "errors"

// listeningPorts is unsupported here: gopsutil lists a process's sockets on
// macOS and the BSDs by running lsof, which is too slow and heavy to run on
// every collection.
func listeningPorts(int32) ([]int, error) {
	return nil, errors.New("listening ports are not available on this platform")
}
