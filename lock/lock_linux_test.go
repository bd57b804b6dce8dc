package lock

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestFindHolder(t *testing.T) {
	t.Parallel()
	const table = `1: POSIX  ADVISORY  WRITE 1001 08:01:555 0 EOF
2: FLOCK  ADVISORY  WRITE 1002 fd:01:777 0 EOF
2: -> FLOCK  ADVISORY  WRITE 1003 fd:01:888 0 EOF
3: OFDLCK ADVISORY  READ  -1 00:2a:999 0 EOF
4: LEASE  ACTIVE    READ  1004 fd:01:444 0 EOF
5: DELEG  ACTIVE    READ  1005 fd:01:333 0 EOF
garbage line
6: FLOCK  ADVISORY  WRITE notapid fd:01:222 0 EOF
7: FLOCK  ADVISORY  WRITE 1007 zz:01:111 0 EOF
8: FLOCK  ADVISORY  WRITE 1008 00:31:666 0 EOF
`
	entries := parseProcLocks([]byte(table))
	tests := []struct {
		name     string
		id       fileID
		filePid  int
		wantHeld bool
		wantPID  int
	}{
		{"flock exact match", fileID{0xfd, 1, 777}, 0, true, 1002},
		{"flock match ignores pid file", fileID{0xfd, 1, 777}, 4242, true, 1002},
		{"posix lock", fileID{8, 1, 555}, 0, true, 1001},
		{"ofd lock takes pid file", fileID{0, 0x2a, 999}, 4242, true, 4242},
		{"ofd lock without pid file", fileID{0, 0x2a, 999}, 0, true, 0},
		{"waiter holds nothing", fileID{0xfd, 1, 888}, 0, false, 0},
		{"lease does not count", fileID{0xfd, 1, 444}, 0, false, 0},
		{"delegation does not count", fileID{0xfd, 1, 333}, 0, false, 0},
		{"unparsable pid skipped", fileID{0xfd, 1, 222}, 0, false, 0},
		{"unparsable device skipped", fileID{0xfd, 1, 111}, 0, false, 0},
		{"other device same inode", fileID{0xfd, 1, 555}, 0, false, 0},
		{"other device same inode, pid file agrees", fileID{0xfd, 9, 666}, 1008, true, 1008},
		{"other device same inode, pid file disagrees", fileID{0xfd, 9, 666}, 4242, false, 0},
		{"no entry", fileID{0xfd, 1, 123}, 4242, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			held, pid := findHolder(entries, tc.id, tc.filePid)
			if held != tc.wantHeld || pid != tc.wantPID {
				t.Fatalf("findHolder = (%v, %d), want (%v, %d)", held, pid, tc.wantHeld, tc.wantPID)
			}
		})
	}
}

// TestProbeOFDLock holds an open-file-description lock on the lock file,
// which /proc/locks lists with pid -1: Probe must see it as held and take
// the holder from the pid file.
func TestProbeOFDLock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pidFile bool
		wantPID int
	}{
		{"pid file names holder", true, os.Getpid()},
		{"no pid file", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.MkdirAll(StateDir(root), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(Path(root), os.O_CREATE|os.O_RDWR, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			lk := unix.Flock_t{Type: unix.F_WRLCK}
			if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
				t.Skipf("kernel without OFD locks: %v", err)
			}
			if tc.pidFile {
				if err := os.WriteFile(PidPath(root), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Probe(root)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if want := (State{Held: true, PID: tc.wantPID, Path: Path(root)}); got != want {
				t.Fatalf("Probe = %+v, want %+v", got, want)
			}
		})
	}
}

// TestTableIsOneRead shows a table answers from the lock table as it was
// read: a lock taken afterwards shows only in a new table.
func TestTableIsOneRead(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mustAcquire(t, root)()
	before := ReadTable()
	mustAcquire(t, root)
	tests := []struct {
		name  string
		table *Table
		held  bool
	}{
		{"table read before Acquire", before, false},
		{"table read after Acquire", ReadTable(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.table.Probe(root)
			if err != nil {
				t.Fatal(err)
			}
			if got.Held != tc.held {
				t.Fatalf("Held = %v, want %v", got.Held, tc.held)
			}
		})
	}
}
