package procscan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// listeners maps the inode of every listening TCP socket to its local port.
// A process's open sockets are links to these inodes under
// /proc/<pid>/fd, which is how its ports are found without gopsutil's
// per-process read of the whole tables.
type listeners map[uint64]int

// tcpTables are the TCP socket tables of the caller's network namespace
// (/proc/net is /proc/self/net). Every socket of the namespace is listed,
// connected ones included, which is why a batch reads them only once.
var tcpTables = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// tableReadSize is the buffer the tables are read through: the kernel
// renders them line by line into whatever room each read offers, so a large
// buffer keeps the system calls few on a host with many connections.
const tableReadSize = 64 << 10

// readListeners lists the listening TCP sockets of the caller's network
// namespace. A missing tcp6 table means IPv6 is disabled.
func readListeners() (listeners, error) {
	l := make(listeners)
	buf := make([]byte, tableReadSize)
	for i, path := range tcpTables {
		f, err := os.Open(path)
		if i > 0 && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list TCP sockets: %w", err)
		}
		err = l.parse(f, buf)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("list TCP sockets in %s: %w", path, err)
		}
	}
	return l, nil
}

// parse adds the listening sockets of one table in the format of
// /proc/net/tcp to l, reading through buf.
func (l listeners) parse(r io.Reader, buf []byte) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(buf, len(buf))
	for sc.Scan() {
		if inode, port, ok := parseListenLine(sc.Bytes()); ok {
			l[inode] = port
		}
	}
	return sc.Err()
}

// tcpListen is the kernel's TCP_LISTEN state as the tables print it.
var tcpListen = []byte("0A")

// parseListenLine decodes one row of a TCP table, such as
//
//	0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 12345 1 ...
//
// (slot, local address:port in hex, remote address:port, state, queues,
// timer, retransmits, uid, timeout, inode). Only listening sockets are
// reported; the header, other states and malformed rows are not.
func parseListenLine(line []byte) (inode uint64, port int, ok bool) {
	var f [10][]byte
	n := 0
	for rest := line; n < len(f); n++ {
		rest = bytes.TrimLeft(rest, " ")
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			break
		}
		f[n], rest = rest[:end], rest[end:]
	}
	if n < len(f) || !bytes.Equal(f[3], tcpListen) {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(f[1], ':')
	if i < 0 {
		return 0, 0, false
	}
	p, err := strconv.ParseUint(string(f[1][i+1:]), 16, 16)
	if err != nil || p == 0 {
		return 0, 0, false
	}
	inode, err = strconv.ParseUint(string(f[9]), 10, 64)
	if err != nil || inode == 0 {
		return 0, 0, false
	}
	return inode, int(p), true
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
