//go:build windows

package registry

// syncDirectory is a no-op: Windows cannot open a directory for flushing,
// and NTFS journals the rename itself.
func syncDirectory(string) error { return nil }
