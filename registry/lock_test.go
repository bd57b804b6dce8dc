package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLockPaths(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name, bonesDir, wantDir string
	}{
		{"default", "", filepath.Join(root, ".bones")},
		{"BONES_DIR", filepath.Join(root, "elsewhere"), filepath.Join(root, "elsewhere")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BONES_DIR", tt.bonesDir)
			if got, want := LockPath(root), filepath.Join(tt.wantDir, LockFileName); got != want {
				t.Errorf("LockPath = %q, want %q", got, want)
			}
			if got, want := LockPidPath(root), filepath.Join(tt.wantDir, LockPidFileName); got != want {
				t.Errorf("LockPidPath = %q, want %q", got, want)
			}
		})
	}
}

func TestAcquireWorkspaceLock(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	release, err := AcquireWorkspaceLock(root)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(LockPidPath(root))
	if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("holder file = %q, %v; want this pid", data, err)
	}
	_, err = AcquireWorkspaceLock(root)
	var held *ErrLockHeld
	if !errors.As(err, &held) || held.PID != os.Getpid() || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Errorf("second acquire: err = %v, want *ErrLockHeld naming this pid", err)
	}
	release()
	if exists(LockPidPath(root)) {
		t.Error("release left the holder file")
	}
	release, err = AcquireWorkspaceLock(root)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	release()
}
