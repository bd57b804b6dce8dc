package procscan

import "errors"

// Errors of SocketOwner.
var (
	// ErrNoSocket: the kernel knows no TCP socket with that address pair.
	ErrNoSocket = errors.New("no such TCP socket")
	// ErrPeerUnsupported: this platform does not say who owns a socket.
	ErrPeerUnsupported = errors.New("this platform cannot tell which user owns a connection")
)
