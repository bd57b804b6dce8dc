package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotOwned is matched (errors.Is) by the error of reading an entry file
// that another user owns. Such a file is ignored: never listed, pruned,
// migrated or acted on, since anyone able to write to the registry
// directory could have planted it.
var ErrNotOwned = errors.New("registry: the entry file is owned by another user")

// ownerError is the error of an entry file owned by uid, not by self.
type ownerError struct {
	path      string
	uid, self int
}

func (e *ownerError) Error() string {
	return fmt.Sprintf("registry %s: owned by uid %d, not by this user (uid %d); ignored", e.path, e.uid, e.self)
}

func (e *ownerError) Unwrap() error { return ErrNotOwned }

// reason is the account of the refusal for a page.
func (e *ownerError) reason() string {
	return fmt.Sprintf("is owned by uid %d, not by this user (uid %d)", e.uid, e.self)
}

// checkOwner refuses a file, described by info, that this user does not
// own. Where files have no uid (Windows) every file passes.
func checkOwner(path string, info fs.FileInfo) error {
	uid, ok := fileUID(info)
	if self := os.Geteuid(); ok && uid != self {
		return &ownerError{path: path, uid: uid, self: self}
	}
	return nil
}

// dirWarnings says what makes the registry directory dir, described by
// info, unsafe to trust: writable by group or others, or owned by another
// user. Either lets someone else plant or replace entries; planted files
// are ignored (ErrNotOwned), but replaced ones are lost. Windows has no
// such modes, and gets no warnings.
func dirWarnings(dir string, info fs.FileInfo) []string {
	uid, ok := fileUID(info)
	if !ok {
		return nil
	}
	var warns []string
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		warns = append(warns, fmt.Sprintf("registry directory %s is writable by group or others (mode %04o), so other users can plant or replace entries: run chmod go-w %s", dir, perm, dir))
	}
	if self := os.Geteuid(); uid != self {
		warns = append(warns, fmt.Sprintf("registry directory %s is owned by uid %d, not by this user (uid %d), so its owner can plant or replace entries: use a registry directory of your own", dir, uid, self))
	}
	return warns
}
