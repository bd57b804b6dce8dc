//go:build !linux

package lock

// Table is the host's lock table as read at one moment. Outside Linux the
// kernel offers no way to ask who holds a flock without trying to take it,
// so the table is empty and probes read the pid file.
type Table struct{}

// ReadTable reads the host's lock table; it never fails.
func ReadTable() *Table { return &Table{} }

// probe reads the pid file: a live recorded holder counts as held. The
// result has no Path.
func (*Table) probe(_, pidPath string) (State, error) {
	pid, refused := livePidFromFile(pidPath)
	return State{Held: pid > 0, PID: pid, PidFileRefused: refused}, nil
}

// holderPID names the process holding the lock, 0 when unknown.
func holderPID(_, pidPath string) int {
	pid, _ := livePidFromFile(pidPath)
	return pid
}
