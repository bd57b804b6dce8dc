package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestReplaceAndCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		existed bool
		op      func(path string, data []byte, perm fs.FileMode) error
		want    string // file content afterwards
		wantErr error
	}{
		{"replace new", false, Replace, "new", nil},
		{"replace existing", true, Replace, "new", nil},
		{"create new", false, Create, "new", nil},
		{"create existing", true, Create, "old", fs.ErrExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if tt.existed {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := tt.op(path, []byte("new"), 0o600)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tt.want {
				t.Fatalf("content %q, %v; want %q", got, err, tt.want)
			}
			if fi, err := os.Stat(path); err == nil && !tt.existed && fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), Marker) {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

// TestCreateOneWinner: of concurrent creators exactly one succeeds and the
// file holds that one's complete content.
func TestCreateOneWinner(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = Create(path, []byte(strings.Repeat(string(rune('a'+i)), 64)), 0o600) })
	}
	wg.Wait()
	winners := 0
	var won string
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
			won = strings.Repeat(string(rune('a'+i)), 64)
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("creator %d: %v", i, err)
		}
	}
	got, _ := os.ReadFile(path)
	if winners != 1 || string(got) != won {
		t.Errorf("%d winners, file %q; want 1 winner and its content", winners, got)
	}
}

func TestWriteTempLeavesNothingOnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := WriteTemp(filepath.Join(dir, "missing", "f"), "write", []byte("x"), 0o600, true); err == nil {
		t.Fatal("WriteTemp into a missing directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %v behind", entries)
	}
}
