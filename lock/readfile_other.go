//go:build !windows

package lock

import "os"

// readShared reads a whole file; on Unix readers never block a rename.
func readShared(path string) ([]byte, error) { return os.ReadFile(path) }
