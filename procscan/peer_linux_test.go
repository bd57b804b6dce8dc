package procscan

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
)

// loopbackPair returns both ends of a fresh TCP connection on addr.
func loopbackPair(t testing.TB, network, addr string) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	defer ln.Close()
	client, err = net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func addrPort(a net.Addr) netip.AddrPort { return a.(*net.TCPAddr).AddrPort() }

func TestSocketOwner(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		t.Run(tt.network, func(t *testing.T) {
			_, server := loopbackPair(t, tt.network, tt.addr)
			uid, err := SocketOwner(addrPort(server.RemoteAddr()), addrPort(server.LocalAddr()))
			if err != nil || uid != os.Getuid() {
				t.Fatalf("SocketOwner(client end) = %d, %v; want %d", uid, err, os.Getuid())
			}
		})
	}
	_, server := loopbackPair(t, "tcp4", "127.0.0.1:0")
	gone := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 1)
	if _, err := SocketOwner(gone, addrPort(server.LocalAddr())); !errors.Is(err, ErrNoSocket) {
		t.Errorf("SocketOwner of no socket: %v, want ErrNoSocket", err)
	}
}

// BenchmarkSocketOwner is the cost of the per-connection uid check.
func BenchmarkSocketOwner(b *testing.B) {
	_, server := loopbackPair(b, "tcp4", "127.0.0.1:0")
	remote, local := addrPort(server.RemoteAddr()), addrPort(server.LocalAddr())
	for b.Loop() {
		if _, err := SocketOwner(remote, local); err != nil {
			b.Fatal(err)
		}
	}
}
