package procscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Layouts of linux/inet_diag.h: the request struct inet_diag_req_v2 and
// the reply struct inet_diag_msg, whose struct inet_diag_sockid starts with
// the local port in network byte order at offset 4; the inode is at 68.
const (
	diagRequestLen  = 56
	diagMsgLen      = 72
	diagPortOffset  = 4
	diagInodeOffset = 68
	tcpListenState  = 10 // TCP_LISTEN
)

// diagReadSize is the receive buffer: the kernel fills a dump reply with as
// many sockets as fit.
const diagReadSize = 32 << 10

// diagTimeout bounds each wait for a reply. The kernel answers a dump at
// once; the bound only keeps a broken netlink from stalling a collection.
const diagTimeout = time.Second

// diagListeners asks the kernel's sock_diag interface for the listening TCP
// sockets of the caller's network namespace, IPv4 and IPv6. Asked for the
// listen state alone, the kernel walks only its table of listening sockets;
// /proc/net/tcp walks every bucket of the connection hash table, which
// takes milliseconds on a host with much memory even when it is empty.
func diagListeners() (listeners, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(diagTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("sock_diag socket timeout: %w", err)
	}
	l := make(listeners)
	buf := make([]byte, diagReadSize)
	kernel := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	for i, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := unix.Sendto(fd, diagRequest(family, uint32(i+1)), 0, kernel); err != nil {
			return nil, fmt.Errorf("sock_diag request: %w", err)
		}
		for done := false; !done; {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				return nil, fmt.Errorf("sock_diag reply: %w", err)
			}
			if done, err = l.parseDiag(buf[:n]); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

// diagRequest encodes a dump request for the listening TCP sockets of one
// address family.
func diagRequest(family uint8, seq uint32) []byte {
	b := make([]byte, unix.SizeofNlMsghdr+diagRequestLen)
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(b[8:], seq)
	req := b[unix.SizeofNlMsghdr:]
	req[0], req[1] = family, unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(req[4:], 1<<tcpListenState)
	return b
}

// parseDiag adds the listening sockets of one reply datagram to l and
// reports whether the dump is complete.
func (l listeners) parseDiag(b []byte) (done bool, err error) {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return true, fmt.Errorf("sock_diag reply: %w", err)
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(m.Data) < 4 {
				return true, errors.New("sock_diag reply: truncated error")
			}
			errno := -int32(binary.NativeEndian.Uint32(m.Data))
			return true, fmt.Errorf("sock_diag: %w", syscall.Errno(errno))
		case unix.SOCK_DIAG_BY_FAMILY:
			if len(m.Data) < diagMsgLen {
				return true, fmt.Errorf("sock_diag reply: socket of %d bytes, want %d", len(m.Data), diagMsgLen)
			}
			if m.Data[1] != tcpListenState {
				continue
			}
			port := binary.BigEndian.Uint16(m.Data[diagPortOffset:])
			inode := binary.NativeEndian.Uint32(m.Data[diagInodeOffset:])
			if port != 0 && inode != 0 {
				l[uint64(inode)] = int(port)
			}
		}
	}
	return false, nil
}
