//go:build unix

package hublog

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"boneyard/internal/safefile"
	"time"
)

// TestTailRefusesSpecialFiles: a FIFO with no writer and /dev/zero are
// refused at once, without blocking or reading forever.
func TestTailRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), FileName)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path string }{
		{"FIFO", fifo},
		{"/dev/zero", "/dev/zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				t.Skip(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := Tail(tt.path, 10, 0)
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, safefile.ErrNotRegular) {
					t.Fatalf("Tail = %v, want ErrNotRegular", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Tail blocked")
			}
		})
	}
}
