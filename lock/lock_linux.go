package lock

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// procLocks is the kernel's table of every file lock on the host. Its
// entries carry the owner's pid (translated into our pid namespace), so the
// holder of a flock is known without touching the lock.
const procLocks = "/proc/locks"

// lockEntry is one held lock from /proc/locks.
type lockEntry struct {
	pid          int // -1 for OFD locks, which have no owning process
	major, minor uint64
	ino          uint64
}

// fileID is the identity of the lock file as stat(2) reports it.
type fileID struct {
	major, minor uint64
	ino          uint64
}

// Table is the host's lock table as read at one moment: on Linux the held
// locks of /proc/locks, parsed once so that probing a thousand workspaces
// reads it once, not a thousand times.
type Table struct {
	entries []lockEntry
	ok      bool // /proc/locks was readable; else probes fall back to the pid file
}

// ReadTable reads the host's lock table. It never fails: without a readable
// /proc/locks, probes through the table rely on the pid file alone.
func ReadTable() *Table {
	data, err := os.ReadFile(procLocks)
	if err != nil {
		return &Table{}
	}
	return &Table{entries: parseProcLocks(data), ok: true}
}

// probe asks the table whether the file at path is locked; the result has
// no Path.
func (t *Table) probe(path, pidPath string) (State, error) {
	id, err := statID(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	filePid, refused := livePidFromFile(pidPath)
	st := State{PidFileRefused: refused}
	if !t.ok {
		st.Held, st.PID = filePid > 0, filePid
		return st, nil
	}
	st.Held, st.PID = findHolder(t.entries, id, filePid)
	return st, nil
}

// holderPID names the process holding the lock at path, 0 when unknown.
func holderPID(path, pidPath string) int {
	st, err := ReadTable().probe(path, pidPath)
	if err != nil {
		pid, _ := livePidFromFile(pidPath)
		return pid
	}
	return st.PID
}

func statID(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, errors.New("no device and inode in file info")
	}
	dev := uint64(st.Dev)
	return fileID{major: uint64(unix.Major(dev)), minor: uint64(unix.Minor(dev)), ino: st.Ino}, nil
}

// findHolder picks the lock on file id out of entries. filePid is the live
// pid the pid file names (0 if none); it stands in for OFD locks, which carry
// no pid, and corroborates an inode-only match: on overlayfs and btrfs
// subvolumes stat(2) reports a device other than the superblock device that
// /proc/locks prints, while the inode number agrees.
func findHolder(entries []lockEntry, id fileID, filePid int) (held bool, pid int) {
	for _, e := range entries {
		if e.ino == id.ino && e.major == id.major && e.minor == id.minor {
			if e.pid > 0 {
				return true, e.pid
			}
			return true, filePid
		}
	}
	if filePid > 0 {
		for _, e := range entries {
			if e.ino == id.ino && e.pid == filePid {
				return true, filePid
			}
		}
	}
	return false, 0
}

// parseProcLocks reads the held flock, POSIX and OFD locks out of
// /proc/locks. Lines of the form
//
//	1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF
//
// describe held locks; lines with "->" after the index are waiters, which
// hold nothing, and leases and delegations do not exclude a flock.
func parseProcLocks(data []byte) []lockEntry {
	var out []lockEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] == "->" {
			continue
		}
		switch f[1] {
		case "FLOCK", "POSIX", "OFDLCK":
		default:
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil {
			continue
		}
		dev := strings.Split(f[5], ":")
		if len(dev) != 3 {
			continue
		}
		major, err1 := strconv.ParseUint(dev[0], 16, 32)
		minor, err2 := strconv.ParseUint(dev[1], 16, 32)
		ino, err3 := strconv.ParseUint(dev[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out = append(out, lockEntry{pid: pid, major: major, minor: minor, ino: ino})
	}
	return out
}
