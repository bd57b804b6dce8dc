//go:build !linux

package procscan

import "net/netip"

// SocketOwner is unsupported here; see the Linux version.
func SocketOwner(local, remote netip.AddrPort) (int, error) { return 0, ErrPeerUnsupported }
