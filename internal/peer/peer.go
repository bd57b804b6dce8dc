// Package peer admits only this user's processes to boneyard's loopback
// listener. On loopback both ends of a TCP connection live in this network
// namespace, so the kernel can say which uid owns the client's socket
// (procscan.SocketOwner); a connection from any other uid is closed before a
// byte of HTTP is read, which makes a stolen token or cookie useless to
// another account and stops its floods at the door.
package peer

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"boneyard/procscan"
)

// Listener is a net.Listener whose Accept returns only connections from
// the allowed uids: this process's own and root's (root can read the token
// file anyway).
type Listener struct {
	net.Listener
	self    int
	log     *slog.Logger
	refused atomic.Int64

	mu       sync.Mutex
	lastWarn map[int]time.Time // uid -> when a refusal was last logged
}

// warnEvery bounds the log lines one refused uid causes.
const warnEvery = time.Minute

// Guard wraps ln. It first checks, with a connection to ln from this
// process, that the platform can tell a connection's owner; when it cannot,
// it returns ln unchanged and an error saying why, for the caller to log
// once: the token alone then guards the server.
func Guard(ln net.Listener, log *slog.Logger) (net.Listener, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := selfCheck(ln.Addr()); err != nil {
		return ln, err
	}
	return &Listener{Listener: ln, self: os.Getuid(), log: log, lastWarn: map[int]time.Time{}}, nil
}

// selfCheck looks up the owner of a connection of this process's to addr.
// It dials without accepting: the kernel completes the handshake on its own,
// and the lookup is of the client's socket.
func selfCheck(addr net.Addr) error {
	conn, err := net.DialTimeout("tcp", addr.String(), time.Second)
	if err != nil {
		return fmt.Errorf("peer check: dial %s: %w", addr, err)
	}
	defer conn.Close()
	tc := conn.(*net.TCPConn)
	uid, err := procscan.SocketOwner(tc.LocalAddr().(*net.TCPAddr).AddrPort(), remoteAddr(tc))
	if err != nil {
		return err
	}
	if uid != os.Getuid() {
		return fmt.Errorf("peer check: own connection reported as uid %d, want %d", uid, os.Getuid())
	}
	return nil
}

// clientOwner is the uid of the client of an accepted connection.
func clientOwner(conn *net.TCPConn) (int, error) {
	return procscan.SocketOwner(remoteAddr(conn), conn.LocalAddr().(*net.TCPAddr).AddrPort())
}

// Accept returns the next connection from an allowed uid. Others are closed
// at once, counted, and logged at most once a minute per uid. A client
// whose socket is already closed is dropped too: it has no owner to vouch
// for what it sent.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc, ok := conn.(*net.TCPConn)
		if !ok {
			return conn, nil
		}
		uid, err := clientOwner(tc)
		if err == nil && (uid == l.self || uid == 0) {
			return conn, nil
		}
		conn.Close()
		if errors.Is(err, procscan.ErrNoSocket) {
			continue // the client closed before it could be checked
		}
		l.refused.Add(1)
		l.warn(uid, err, remoteAddr(tc))
	}
}

// Refused is how many connections Accept has closed for their owner (not
// counting clients that were gone before they could be checked).
func (l *Listener) Refused() int64 { return l.refused.Load() }

func (l *Listener) warn(uid int, err error, from netip.AddrPort) {
	key := uid
	if err != nil {
		key = -1
	}
	now := time.Now()
	l.mu.Lock()
	quiet := now.Sub(l.lastWarn[key]) < warnEvery
	if !quiet {
		l.lastWarn[key] = now
	}
	l.mu.Unlock()
	if quiet {
		return
	}
	if err != nil {
		l.log.Warn("refused a connection whose owner could not be checked", "from", from, "err", err)
		return
	}
	l.log.Warn("refused a connection from another local user", "uid", uid, "from", from)
}

func remoteAddr(c *net.TCPConn) netip.AddrPort { return c.RemoteAddr().(*net.TCPAddr).AddrPort() }
