package registry

import "boneyard/lock"

// LockPath returns the workspace lock file, <root>/.bones/hub.lock,
// honouring BONES_DIR.
func LockPath(root string) string { return lock.Path(root) }

// LockPidPath returns the file recording the lock holder,
// <root>/.bones/hub.lock.pid, honouring BONES_DIR.
func LockPidPath(root string) string { return lock.PidPath(root) }

// AcquireWorkspaceLock takes the exclusive, non-blocking workspace lock that
// `bones hub start` holds for its whole life. It returns a release func, or
// *ErrLockHeld naming the live holder. A holder file naming a dead process
// is recovered with a logged warning.
func AcquireWorkspaceLock(root string) (func(), error) { return lock.Acquire(root) }
