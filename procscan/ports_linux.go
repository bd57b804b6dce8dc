package procscan

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// listeners maps the inode of every listening TCP socket to its local port.
// A process's open sockets are links to these inodes under /proc/<pid>/fd,
// so one list serves every process of a batch, and each process costs only
// the reads of its own descriptors.
type listeners map[uint64]int

// readListeners lists the listening TCP sockets of the caller's network
// namespace: through sock_diag, which hands over only listening sockets,
// or, where that is refused (a sandbox filtering netlink, a kernel without
// inet_diag), from /proc/net/tcp and tcp6.
func readListeners() (listeners, error) {
	l, err := diagListeners()
	if err == nil {
		return l, nil
	}
	slog.Debug("sock_diag unavailable, reading /proc/net/tcp", "err", err)
	return procListeners()
}

// socketLinkSize holds the link of a socket descriptor, "socket:[<inode>]".
const socketLinkSize = 64

// portsOf returns the ports pid listens on: the listening sockets among
// its file descriptors. Only pid's own descriptors are read.
func (l listeners) portsOf(pid int32) ([]int, error) {
	if len(l) == 0 {
		return nil, nil
	}
	dir := "/proc/" + strconv.Itoa(int(pid)) + "/fd/"
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("process %d file descriptors: %w", pid, err)
	}
	fds, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("process %d file descriptors: %w", pid, err)
	}
	var ports []int
	buf := make([]byte, socketLinkSize)
	for _, fd := range fds {
		n, err := unix.Readlink(dir+fd, buf)
		if err != nil {
			continue // closed since the directory was read
		}
		if port, ok := l[socketInode(buf[:n])]; ok {
			ports = append(ports, port)
		}
	}
	return sortedPorts(ports), nil
}

// socketInode returns the inode a descriptor link "socket:[<inode>]" names,
// and 0 (never a socket's inode) for any other link.
func socketInode(link []byte) uint64 {
	s, ok := bytes.CutPrefix(link, []byte("socket:["))
	if !ok {
		return 0
	}
	s, ok = bytes.CutSuffix(s, []byte("]"))
	if !ok {
		return 0
	}
	inode, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		return 0
	}
	return inode
}
