//go:build !unix

package lock

// noFollow is 0: Windows opens have no such flag; a symlinked lock file is
// followed there.
const noFollow = 0

// isSymlinkErr reports whether err is an open refused by noFollow: never.
func isSymlinkErr(error) bool { return false }
