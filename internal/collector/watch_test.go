package collector

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestDirWatchHandle(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "workspaces")
	d := newDirWatch(dir, slog.Default())
	defer d.close()
	if !d.dirOK || !d.parentOK {
		t.Fatalf("watches after start: dir %v, parent %v", d.dirOK, d.parentOK)
	}

	tests := []struct {
		name string
		ev   fsnotify.Event
		want bool
	}{
		{"entry written", fsnotify.Event{Name: filepath.Join(dir, "0123456789abcdef.json"), Op: fsnotify.Write}, true},
		{"entry renamed into place", fsnotify.Event{Name: filepath.Join(dir, "0123456789abcdef.json"), Op: fsnotify.Create}, true},
		{"entry removed", fsnotify.Event{Name: filepath.Join(dir, "0123456789abcdef.json"), Op: fsnotify.Remove}, true},
		{"temporary file", fsnotify.Event{Name: filepath.Join(dir, "0123456789abcdef.json.tmp.123"), Op: fsnotify.Create}, false},
		{"permissions only", fsnotify.Event{Name: filepath.Join(dir, "0123456789abcdef.json"), Op: fsnotify.Chmod}, false},
		{"sibling of the registry", fsnotify.Event{Name: filepath.Join(parent, "boneyard"), Op: fsnotify.Create}, false},
		{"parent written", fsnotify.Event{Name: parent, Op: fsnotify.Write}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.handle(tt.ev); got != tt.want {
				t.Errorf("handle(%v) = %v, want %v", tt.ev, got, tt.want)
			}
		})
	}
}

// A watcher whose channels close is replaced on the next ensure, and the
// new one reports changes.
func TestDirWatchRecoversLostWatcher(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "workspaces")
	d := newDirWatch(dir, slog.Default())
	defer d.close()

	d.w.Close()
	if _, ok := <-d.events(); ok {
		t.Fatal("events still open after the watcher closed")
	}
	d.lost()
	if d.events() != nil {
		t.Fatal("a lost watcher still yields an events channel")
	}
	if !d.ensure() {
		t.Fatal("ensure did not watch the directory again")
	}
	if err := os.WriteFile(filepath.Join(dir, "0123456789abcdef.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-d.events():
			if d.handle(ev) {
				return
			}
		case <-deadline:
			t.Fatal("no event from the new watcher within 10s")
		}
	}
}
