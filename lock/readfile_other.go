//go:build !windows

package lock

import "boneyard/internal/safefile"

// readShared reads the regular file at path, at most max bytes, as
// safefile.ReadFile does; on Unix readers never block a rename.
func readShared(path string, max int64) ([]byte, error) {
	data, _, err := safefile.ReadFile(path, max)
	return data, err
}
