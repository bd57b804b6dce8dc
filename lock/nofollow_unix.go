//go:build unix

package lock

import (
	"errors"
	"syscall"
)

// noFollow makes an open fail on a symlink in the last path component.
const noFollow = syscall.O_NOFOLLOW

// isSymlinkErr reports whether err is an open refused by noFollow.
func isSymlinkErr(err error) bool { return errors.Is(err, syscall.ELOOP) }
