//go:build !linux

package procscan

// mayBeHub lets every process through to the full command-line read: there
// is no cheaper source of argv[0] on this platform.
func mayBeHub(int32, []byte) bool { return true }

// newPeekBuffer returns the buffer mayBeHub reads into; unused here.
func newPeekBuffer() []byte { return nil }
