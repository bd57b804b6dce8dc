package procscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// Offsets in struct inet_diag_sockid (which starts at byte 4 of both the
// request body and the reply) and of the uid in struct inet_diag_msg.
const (
	diagSockIDOffset = 4  // in the request: after family, protocol, ext, pad
	diagIDSrcOffset  = 4  // inet_diag_sockid: sport(2) dport(2) src[16] dst[16] if(4) cookie[8]
	diagIDDstOffset  = 20 //
	diagIDCookieOff  = 40 //
	diagUIDOffset    = 64 // inet_diag_msg: after the sockid, expires, rqueue, wqueue
)

// SocketOwner returns the uid owning the TCP socket whose own address is
// local and whose peer is remote, as the kernel's sock_diag interface
// reports it for that exact 4-tuple. A socket its process has already
// closed has no owner and is ErrNoSocket. For a connection a server accepted on
// loopback, SocketOwner(conn's remote, conn's local) is the uid of the
// client process: both ends live in this network namespace.
func SocketOwner(local, remote netip.AddrPort) (int, error) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	family := uint8(unix.AF_INET6)
	if local.Addr().Is4() {
		family = unix.AF_INET
	}
	if local.Addr().Is4() != remote.Addr().Is4() {
		return 0, fmt.Errorf("sock_diag: %s and %s are of different address families", local, remote)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(diagTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return 0, fmt.Errorf("sock_diag socket timeout: %w", err)
	}
	if err := unix.Sendto(fd, exactRequest(family, local, remote), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("sock_diag request: %w", err)
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, fmt.Errorf("sock_diag reply: %w", err)
	}
	return parseOwner(buf[:n])
}

// exactRequest encodes a lookup of one TCP socket by its 4-tuple (no dump),
// any state, with no cookie to match.
func exactRequest(family uint8, local, remote netip.AddrPort) []byte {
	b := make([]byte, unix.SizeofNlMsghdr+diagRequestLen)
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(b[8:], 1)
	req := b[unix.SizeofNlMsghdr:]
	req[0], req[1] = family, unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(req[4:], ^uint32(0)) // every state
	id := req[diagSockIDOffset+4:]
	binary.BigEndian.PutUint16(id[0:], local.Port())
	binary.BigEndian.PutUint16(id[2:], remote.Port())
	src, dst := local.Addr().As16(), remote.Addr().As16()
	if family == unix.AF_INET {
		l4, r4 := local.Addr().As4(), remote.Addr().As4()
		copy(id[diagIDSrcOffset:], l4[:])
		copy(id[diagIDDstOffset:], r4[:])
	} else {
		copy(id[diagIDSrcOffset:], src[:])
		copy(id[diagIDDstOffset:], dst[:])
	}
	binary.NativeEndian.PutUint32(id[diagIDCookieOff:], ^uint32(0)) // INET_DIAG_NOCOOKIE
	binary.NativeEndian.PutUint32(id[diagIDCookieOff+4:], ^uint32(0))
	return b
}

func parseOwner(b []byte) (int, error) {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return 0, fmt.Errorf("sock_diag reply: %w", err)
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case unix.NLMSG_ERROR:
			if len(m.Data) < 4 {
				return 0, errors.New("sock_diag reply: truncated error")
			}
			errno := syscall.Errno(-int32(binary.NativeEndian.Uint32(m.Data)))
			if errno == syscall.ENOENT {
				return 0, ErrNoSocket
			}
			return 0, fmt.Errorf("sock_diag: %w", errno)
		case unix.SOCK_DIAG_BY_FAMILY:
			if len(m.Data) < diagMsgLen {
				return 0, fmt.Errorf("sock_diag reply: socket of %d bytes, want %d", len(m.Data), diagMsgLen)
			}
			// A socket closed by its process lingers as a time-wait
			// mini-socket with no inode, reported as uid 0: it has no owner
			// left to vouch for, so it counts as gone.
			if binary.NativeEndian.Uint32(m.Data[diagInodeOffset:]) == 0 {
				return 0, ErrNoSocket
			}
			return int(binary.NativeEndian.Uint32(m.Data[diagUIDOffset:])), nil
		}
	}
	return 0, errors.New("sock_diag reply: no socket in the answer")
}
