//go:build unix

package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	regular := filepath.Join(dir, "agent.id")
	os.WriteFile(regular, []byte("agent-1\n"), 0o644)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 300), 0o644)
	sparse := filepath.Join(dir, "sparse")
	f, _ := os.Create(sparse)
	f.Truncate(1 << 40)
	f.Close()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("private\n"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(secret, link)
	zero := filepath.Join(dir, "zero")
	os.Symlink("/dev/zero", zero)

	tests := []struct {
		name   string
		path   string
		want   string
		err    error
		reason string
	}{
		{"regular", regular, "agent-1\n", nil, ""},
		{"over the cap", big, "", ErrTooLarge, "is larger than allowed (300 bytes, at most 256)"},
		{"sparse 1 TiB", sparse, "", ErrTooLarge, "is larger than allowed (1099511627776 bytes, at most 256)"},
		{"fifo", fifo, "", ErrNotRegular, "is not a regular file (named pipe)"},
		{"symlink out", link, "", ErrSymlink, "is a symbolic link"},
		{"symlink to /dev/zero", zero, "", ErrSymlink, "is a symbolic link"},
		{"device", "/dev/zero", "", ErrNotRegular, "is not a regular file (character device)"},
		{"directory", dir, "", ErrNotRegular, "is not a regular file (directory)"},
		{"missing", filepath.Join(dir, "none"), "", fs.ErrNotExist, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var got []byte
			var err error
			go func() {
				got, _, err = ReadFile(tt.path, 256)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadFile blocked")
			}
			if tt.err == nil {
				if err != nil || string(got) != tt.want {
					t.Fatalf("ReadFile = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("ReadFile error %v, want %v", err, tt.err)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q", got, tt.reason)
			}
		})
	}
}
