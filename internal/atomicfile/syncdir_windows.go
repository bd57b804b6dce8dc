//go:build windows

package atomicfile

// SyncDir is a no-op: Windows cannot open a directory for flushing, and NTFS
// journals the rename itself.
func SyncDir(string) error { return nil }
