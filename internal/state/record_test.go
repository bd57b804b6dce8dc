//go:build unix

package state

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

const testToken = "0123456789abcdef0123456789abcdef"

// listen returns the address of a 127.0.0.1 listener of this process.
func listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// child starts a process that lingers until the test ends, as cred (nil:
// this user), and returns its pid.
func child(t *testing.T, cred *syscall.Credential) int {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

func TestRunning(t *testing.T) {
	t.Parallel()
	live := listen(t)
	free := listen(t) // a port this process holds, but no record names it with that pid
	dead := func() int {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		return cmd.ProcessState.Pid()
	}()
	self := os.Getpid()
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

	tests := []struct {
		name    string
		records []Record
		want    string // the addr Running returns, "" for none
	}{
		{"none", nil, ""},
		{"this server", []Record{{Addr: live, PID: self, Started: base}}, live},
		{"dead pid", []Record{{Addr: live, PID: dead, Started: base}}, ""},
		{"pid not listening there", []Record{{Addr: "127.0.0.1:1", PID: self, Started: base}}, ""},
		{"another process of this user", []Record{{Addr: live, PID: child(t, nil), Started: base}}, ""},
		{"newest live wins", []Record{
			{Addr: live, PID: self, Started: base},
			{Addr: free, PID: dead, Started: base.Add(time.Hour)},
		}, live},
	}
	if os.Getuid() == 0 {
		tests = append(tests, struct {
			name    string
			records []Record
			want    string
		}{"another user's process", []Record{{Addr: live, PID: child(t, &syscall.Credential{Uid: 65534, Gid: 65534}), Started: base}}, ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, r := range tt.records {
				r.TokenHash = HashToken(testToken)
				if _, err := Publish(dir, r); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Running(dir)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Running = %+v, want ErrNotRunning", got)
				}
				return
			}
			if err != nil || got.Addr != tt.want {
				t.Fatalf("Running = %+v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestPublishRemovesOnlyItsOwn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := listen(t)
	removeOther, err := Publish(dir, Record{Addr: "127.0.0.1:9", PID: 1 << 22})
	if err != nil {
		t.Fatal(err)
	}
	removeSelf, err := Publish(dir, Record{Addr: addr, PID: os.Getpid(), TokenHash: HashToken(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "servers", strconv.Itoa(os.Getpid())+".json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record file: %v, %v; want mode 0600", fi, err)
	}
	removeOther()
	r, err := Running(dir)
	if err != nil || r.Addr != addr || !r.Accepts(testToken) || r.Accepts("not-"+testToken) {
		t.Fatalf("after another server's exit: %+v, %v; want this server's record, accepting only its token", r, err)
	}
	removeSelf()
	if _, err := Running(dir); err == nil {
		t.Error("record left after its server's remove")
	}
}

func TestRunningSkipsBadRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sdir := filepath.Join(dir, "servers")
	os.MkdirAll(sdir, 0o700)
	self := strconv.Itoa(os.Getpid())
	os.WriteFile(filepath.Join(sdir, self+".json"), []byte(`{"addr":"192.0.2.1:80","pid":`+self+`}`), 0o600)
	os.WriteFile(filepath.Join(sdir, "1.json"), []byte(`{"addr":"127.0.0.1:80","pid":`+self+`}`), 0o600)
	if err := syscall.Mkfifo(filepath.Join(sdir, "2.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Running(dir); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Running accepted a non-loopback, a mismatched or a FIFO record")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Running blocked on a FIFO record")
	}
}
