//go:build unix

package registry

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/lock"
)

// plantings make the file at path something a listing must refuse; each
// returns the reason the listing gives, for a cap of limit bytes.
var plantings = []struct {
	name   string
	plant  func(t *testing.T, path string)
	reason func(limit string) string
}{
	{"fifo", func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}, func(string) string { return "is not a regular file (named pipe)" }},
	{"symlink to /dev/zero", func(t *testing.T, path string) {
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
	}, func(string) string { return "is a symbolic link" }},
	{"sparse 1 TiB", func(t *testing.T, path string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(1 << 40); err != nil {
			t.Fatal(err)
		}
	}, func(limit string) string {
		return "is larger than allowed (1099511627776 bytes, at most " + limit + ")"
	}},
	{"symlink out of the directory", func(t *testing.T, path string) {
		// The target is a valid entry of an existing workspace and a valid
		// marker: read through the link, it would be taken for real.
		dir := t.TempDir()
		target := filepath.Join(dir, "target")
		data := `{"cwd":"` + dir + `","name":"planted","hub_pid":0}`
		if err := os.WriteFile(target, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}, func(string) string { return "is a symbolic link" }},
	{"directory", func(t *testing.T, path string) {
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
	}, func(string) string { return "is not a regular file (directory)" }},
}

// bounded runs f and fails the test if it has not returned within 20 s: a
// read that blocks on a FIFO never returns.
func bounded(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return: blocked on a planted file", what)
	}
}

// TestListRefusesUntrustedEntryFiles plants a file that must not be read
// beside a good entry: ListInfo and Read return at once, the good entry is
// listed, the planted one is skipped with its reason and left in place.
func TestListRefusesUntrustedEntryFiles(t *testing.T) {
	t.Parallel()
	for _, p := range plantings {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			r, home := testRegistry(t)
			good := hubtest.Workspace(t, home, "good", true)
			mustWrite(t, r, Entry{Cwd: good, Name: "good"})
			victim := hubtest.Workspace(t, home, "victim", true)
			planted := r.EntryPath(victim)
			p.plant(t, planted)

			var infos []Info
			var err error
			bounded(t, "ListInfo", func() { infos, err = r.ListInfo() })
			if err != nil {
				t.Fatal(err)
			}
			if len(infos) != 1 || infos[0].Cwd != good {
				t.Errorf("ListInfo = %+v, want the good entry only", infos)
			}
			var l Listing
			bounded(t, "ListReport", func() { l, err = r.ListReport(nil) })
			if err != nil {
				t.Fatal(err)
			}
			want := []Skipped{{Path: planted, Reason: p.reason("16384")}}
			if !slices.Equal(l.Skipped, want) {
				t.Errorf("Skipped = %+v, want %+v", l.Skipped, want)
			}
			if len(l.Infos) != 1 || l.Infos[0].Cwd != good {
				t.Errorf("Infos = %+v, want the good entry only", l.Infos)
			}
			bounded(t, "Read", func() { _, err = r.Read(victim) })
			if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), planted) {
				t.Errorf("Read of the planted entry: %v, want an error naming %s", err, planted)
			}
			if _, err := os.Lstat(planted); err != nil {
				t.Errorf("planted file removed: %v", err)
			}
		})
	}
}

// TestListRefusesUntrustedAgentID plants a marker that must not be read: the
// workspace is listed with no agent id and the marker is reported skipped.
func TestListRefusesUntrustedAgentID(t *testing.T) {
	t.Parallel()
	for _, p := range plantings {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			r, home := testRegistry(t)
			good := hubtest.Workspace(t, home, "good", true)
			mustWrite(t, r, Entry{Cwd: good, Name: "good"})
			cwd := hubtest.Workspace(t, home, "ws", false)
			marker := filepath.Join(lock.StateDir(cwd), "agent.id")
			if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
				t.Fatal(err)
			}
			p.plant(t, marker)
			mustWrite(t, r, Entry{Cwd: cwd, Name: "ws"})

			var infos []Info
			var err error
			bounded(t, "ListInfo", func() { infos, err = r.ListInfo() })
			if err != nil {
				t.Fatal(err)
			}
			if len(infos) != 2 || infos[1].Cwd != cwd || infos[1].AgentID != "" || infos[0].AgentID != "agent-good" {
				t.Errorf("ListInfo = %+v, want good (agent-good) and ws (no agent id)", infos)
			}
			var l Listing
			bounded(t, "ListReport", func() { l, err = r.ListReport(nil) })
			if err != nil {
				t.Fatal(err)
			}
			want := []Skipped{{Path: marker, Cwd: cwd, Reason: p.reason("256")}}
			if !slices.Equal(l.Skipped, want) {
				t.Errorf("Skipped = %+v, want %+v", l.Skipped, want)
			}
		})
	}
}

// TestListReportReasons checks the reasons given for files that are
// readable but no entry, and that none of them is deleted.
func TestListReportReasons(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	good := hubtest.Workspace(t, home, "good", true)
	mustWrite(t, r, Entry{Cwd: good, Name: "good"})
	oversized := `{"cwd":"/x","name":"` + strings.Repeat("x", 16384) + `"}`
	files := []struct{ name, data, reason string }{
		{"0000000000000001.json", `{"cwd":`, "is not a valid entry (decode entry: unexpected EOF)"},
		{"0000000000000002.json", `{"name":"no cwd"}`, "is not a valid entry (decode entry: entry has no cwd; set it to the workspace root)"},
		{"0000000000000003.json", oversized, "is larger than allowed (16406 bytes, at most 16384)"},
	}
	var want []Skipped
	for _, f := range files {
		want = append(want, Skipped{Path: writeRaw(t, r, f.name, f.data), Reason: f.reason})
	}
	l, err := r.ListReport(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Skipped, want) {
		t.Errorf("Skipped = %+v\nwant %+v", l.Skipped, want)
	}
	if len(l.Infos) != 1 || l.Infos[0].Cwd != good || len(l.Warnings) != 0 {
		t.Errorf("Infos = %+v, Warnings = %q; want the good entry, no warnings", l.Infos, l.Warnings)
	}
	for _, w := range want {
		if !exists(w.Path) {
			t.Errorf("%s was deleted", w.Path)
		}
	}
}
