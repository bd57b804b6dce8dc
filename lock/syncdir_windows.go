package lock

// syncDir is a no-op: Windows cannot fsync a directory, and NTFS journals
// the rename itself.
func syncDir(string) error { return nil }
