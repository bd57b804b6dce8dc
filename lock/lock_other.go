//go:build !linux

package lock

// probe reads the pid file: outside Linux the kernel offers no way to ask
// who holds a flock without trying to take it. A live recorded holder counts
// as held.
func probe(_, pidPath string) (held bool, pid int, err error) {
	pid = livePidFromFile(pidPath)
	return pid > 0, pid, nil
}

// holderPID names the process holding the lock, 0 when unknown.
func holderPID(_, pidPath string) int { return livePidFromFile(pidPath) }
