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
)

// tcpTables are the TCP socket tables of the caller's network namespace
// (/proc/net is /proc/self/net). Rendering them walks the kernel's whole
// connection hash table, whatever state the sockets are in, so they are
// read only where sock_diag is unavailable, and then once per batch.
var tcpTables = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// tableReadSize is the buffer the tables are read through: the kernel
// renders them line by line into whatever room each read offers, so a large
// buffer keeps the system calls few on a host with many connections.
const tableReadSize = 64 << 10

// procListeners lists the listening TCP sockets of the caller's network
// namespace from its /proc tables. A missing tcp6 table means IPv6 is
// disabled.
func procListeners() (listeners, error) {
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
