package procscan

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// netlinkMessage encodes one netlink message with payload, padded to the
// 4-byte alignment netlink uses.
func netlinkMessage(typ uint16, payload []byte) []byte {
	n := unix.SizeofNlMsghdr + len(payload)
	b := make([]byte, (n+3)&^3)
	binary.NativeEndian.PutUint32(b[0:], uint32(n))
	binary.NativeEndian.PutUint16(b[4:], typ)
	copy(b[unix.SizeofNlMsghdr:], payload)
	return b
}

// diagSocket encodes a struct inet_diag_msg reply for one socket.
func diagSocket(state uint8, port uint16, inode uint32) []byte {
	d := make([]byte, diagMsgLen)
	d[0], d[1] = unix.AF_INET, state
	binary.BigEndian.PutUint16(d[diagPortOffset:], port)
	binary.NativeEndian.PutUint32(d[diagInodeOffset:], inode)
	return netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, d)
}

// diagError encodes an NLMSG_ERROR reply carrying errno.
func diagError(errno syscall.Errno) []byte {
	d := make([]byte, 4+unix.SizeofNlMsghdr)
	binary.NativeEndian.PutUint32(d, uint32(-int32(errno)))
	return netlinkMessage(unix.NLMSG_ERROR, d)
}

func concat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestParseDiag(t *testing.T) {
	t.Parallel()
	done := netlinkMessage(unix.NLMSG_DONE, make([]byte, 4))
	tests := []struct {
		name     string
		reply    []byte
		want     listeners
		wantDone bool
		wantErr  error // nil: no error; errAny: any error
	}{
		{"listeners then more to come", concat(diagSocket(tcpListenState, 8080, 679882), diagSocket(tcpListenState, 22, 21387)),
			listeners{679882: 8080, 21387: 22}, false, nil},
		{"last part", concat(diagSocket(tcpListenState, 8080, 679882), done), listeners{679882: 8080}, true, nil},
		{"done only", done, listeners{}, true, nil},
		{"established ignored", concat(diagSocket(1, 54321, 681001), done), listeners{}, true, nil},
		{"no inode ignored", concat(diagSocket(tcpListenState, 8080, 0), done), listeners{}, true, nil},
		{"refused", diagError(syscall.EPERM), listeners{}, true, syscall.EPERM},
		{"short socket", netlinkMessage(unix.SOCK_DIAG_BY_FAMILY, make([]byte, 8)), listeners{}, true, errAny},
		{"torn datagram", diagSocket(tcpListenState, 8080, 679882)[:20], listeners{}, true, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(listeners)
			isDone, err := got.parseDiag(tt.reply)
			switch {
			case tt.wantErr == nil && err != nil,
				tt.wantErr == errAny && err == nil,
				tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("parseDiag error = %v, want %v", err, tt.wantErr)
			}
			if isDone != tt.wantDone || !sameListeners(got, tt.want) {
				t.Errorf("parseDiag = %v, done %v; want %v, done %v", got, isDone, tt.want, tt.wantDone)
			}
		})
	}
}

// errAny stands for any error in TestParseDiag.
var errAny = errors.New("any error")

func sameListeners(a, b listeners) bool {
	if len(a) != len(b) {
		return false
	}
	for inode, port := range a {
		if p, ok := b[inode]; !ok || p != port {
			return false
		}
	}
	return true
}

// TestListenerSourcesAgree checks that sock_diag and the /proc tables list
// the same listening sockets, a fresh listener among them.
func TestListenerSourcesAgree(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	diag, err := diagListeners()
	if err != nil {
		t.Skipf("sock_diag unavailable here: %v", err)
	}
	proc, err := procListeners()
	if err != nil {
		t.Fatal(err)
	}
	inode := inodeOfPort(diag, port)
	if inode == 0 {
		t.Fatalf("sock_diag does not list port %d: %v", port, diag)
	}
	if proc[inode] != port {
		t.Errorf("/proc tables list inode %d as port %d, want %d", inode, proc[inode], port)
	}
	// Other programs may open or close listeners between the two reads, so
	// only the sockets both saw are compared.
	for inode, p := range diag {
		if q, ok := proc[inode]; ok && q != p {
			t.Errorf("inode %d: sock_diag port %d, /proc port %d", inode, p, q)
		}
	}
}

// inodeOfPort returns the inode of the listener on port in l.
func inodeOfPort(l listeners, port int) uint64 {
	for inode, p := range l {
		if p == port {
			return inode
		}
	}
	return 0
}
