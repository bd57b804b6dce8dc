//go:build unix

package registry

import (
	"errors"
	"log/slog"
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

// listBounded lists r with ListInfo and with ListReport, each bounded in
// time (see hubtest.Bounded), and checks that ListInfo's rows are
// ListReport's.
func listBounded(t *testing.T, r Registry) Listing {
	t.Helper()
	var (
		infos []Info
		l     Listing
		err   error
	)
	hubtest.Bounded(t, "ListInfo", func() { infos, err = r.ListInfo() })
	if err != nil {
		t.Fatal(err)
	}
	hubtest.Bounded(t, "ListReport", func() { l, err = r.ListReport(nil) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(infos, l.Infos) {
		t.Errorf("ListInfo = %+v\nListReport = %+v", infos, l.Infos)
	}
	return l
}

// withGoodEntry returns a registry in a fresh home, the home and the
// workspace "good" of the idle entry it holds.
func withGoodEntry(t *testing.T) (Registry, string, string) {
	t.Helper()
	r, home := testRegistry(t)
	good := hubtest.Workspace(t, home, "good", true)
	mustWrite(t, r, Entry{Cwd: good, Name: "good"})
	return r, home, good
}

// TestListRefusesUntrustedEntryFiles plants a file that must not be read
// beside a good entry: ListInfo and Read return at once, the good entry is
// listed, the planted one is skipped with its reason and left in place.
func TestListRefusesUntrustedEntryFiles(t *testing.T) {
	t.Parallel()
	for _, p := range hubtest.UntrustedFiles {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			r, home, good := withGoodEntry(t)
			victim := hubtest.Workspace(t, home, "victim", true)
			planted := r.EntryPath(victim)
			// Read through a link, the target would be a valid idle row.
			p.Plant(t, planted, `{"cwd":"`+victim+`","name":"planted","hub_pid":0}`)

			l := listBounded(t, r)
			if want := []Skipped{{Path: planted, Reason: p.Reason(16384)}}; !slices.Equal(l.Skipped, want) {
				t.Errorf("Skipped = %+v, want %+v", l.Skipped, want)
			}
			if len(l.Infos) != 1 || l.Infos[0].Cwd != good {
				t.Errorf("Infos = %+v, want the good entry only", l.Infos)
			}
			var err error
			hubtest.Bounded(t, "Read", func() { _, err = r.Read(victim) })
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
	for _, p := range hubtest.UntrustedFiles {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			r, home, _ := withGoodEntry(t)
			cwd := hubtest.Workspace(t, home, "ws", false)
			marker := filepath.Join(lock.StateDir(cwd), "agent.id")
			if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
				t.Fatal(err)
			}
			p.Plant(t, marker, "agent-planted\n")
			mustWrite(t, r, Entry{Cwd: cwd, Name: "ws"})

			l := listBounded(t, r)
			if len(l.Infos) != 2 || l.Infos[1].Cwd != cwd || l.Infos[1].AgentID != "" || l.Infos[0].AgentID != "agent-good" {
				t.Errorf("Infos = %+v, want good (agent-good) and ws (no agent id)", l.Infos)
			}
			if want := []Skipped{{Path: marker, Cwd: cwd, Reason: p.Reason(256)}}; !slices.Equal(l.Skipped, want) {
				t.Errorf("Skipped = %+v, want %+v", l.Skipped, want)
			}
		})
	}
}

// TestListReportReasons checks the reasons given for files that are
// readable but no entry, and that none of them is deleted.
func TestListReportReasons(t *testing.T) {
	t.Parallel()
	r, _, good := withGoodEntry(t)
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

// nobody is the uid that files and processes of another user get in tests
// run as root.
const nobody = 65534

// needRoot skips a test that must create files or processes of another
// user.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to act as another user")
	}
}

// TestListIgnoresOtherUsersEntries plants entries owned by another user: a
// stale one (its pid is dead), a live-looking one and a legacy one. None is
// listed, pruned, migrated or acted on; each is reported with its owner.
func TestListIgnoresOtherUsersEntries(t *testing.T) {
	t.Parallel()
	needRoot(t)
	r, home, good := withGoodEntry(t)
	stale := hubtest.Workspace(t, home, "stale", true)
	live := hubtest.Workspace(t, home, "live", true)
	legacy := hubtest.Workspace(t, home, "legacy", true)
	plant := func(name string, e Entry) string {
		data, err := encodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		path := writeRaw(t, r, name, string(data))
		if err := os.Chown(path, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		return path
	}
	planted := []string{
		plant(WorkspaceID(stale)+".json", Entry{Cwd: stale, Name: "stale", HubPID: deadPID(t), StartedAt: time.Now()}),
		plant(WorkspaceID(live)+".json", Entry{Cwd: live, Name: "live", HubPID: os.Getpid(), StartedAt: time.Now()}),
		plant(WorkspaceID(legacy)+"-"+itoa(os.Getpid())+".json", Entry{Cwd: legacy, Name: "legacy", HubPID: os.Getpid(), StartedAt: time.Now()}),
	}
	slices.Sort(planted)
	const reason = "is owned by uid 65534, not by this user (uid 0)"

	l, err := r.ListReport(nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []Skipped
	for _, p := range planted {
		want = append(want, Skipped{Path: p, Reason: reason})
	}
	if !slices.Equal(l.Skipped, want) {
		t.Errorf("Skipped = %+v\nwant %+v", l.Skipped, want)
	}
	if len(l.Infos) != 1 || l.Infos[0].Cwd != good {
		t.Errorf("Infos = %+v, want the good entry only", l.Infos)
	}
	for _, cwd := range []string{stale, live} {
		if _, err := r.Read(cwd); !errors.Is(err, ErrNotOwned) {
			t.Errorf("Read(%s) = %v, want ErrNotOwned", filepath.Base(cwd), err)
		}
		if _, err := r.RegisterIdle(cwd, "mine"); !errors.Is(err, ErrNotOwned) {
			t.Errorf("RegisterIdle(%s) = %v, want ErrNotOwned", filepath.Base(cwd), err)
		}
	}
	if _, _, err := r.ReapSeen(Entry{Cwd: live, HubPID: os.Getpid()}, os.Getpid(), time.Time{}); !errors.Is(err, ErrNotOwned) {
		t.Errorf("ReapSeen of another user's entry = %v, want ErrNotOwned", err)
	}
	if err := r.RemoveEntry(Entry{Cwd: stale, HubPID: 0}); err != nil {
		t.Errorf("RemoveEntry: %v", err)
	}
	if _, err := r.Read(legacy); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read(legacy) = %v, want ErrNotFound: another user's legacy file is not migrated", err)
	}
	for _, p := range planted {
		if !exists(p) {
			t.Errorf("%s was removed", filepath.Base(p))
		}
	}
}

// TestListWarnsAboutUnsafeDirectory checks the warnings about a registry
// directory that others may write to.
func TestListWarnsAboutUnsafeDirectory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		mode  os.FileMode
		owner int // -1: this user
		want  func(dir string) []string
	}{
		{"private", 0o700, -1, func(string) []string { return nil }},
		{"readable by all", 0o755, -1, func(string) []string { return nil }},
		{"group-writable", 0o770, -1, func(dir string) []string {
			return []string{"registry directory " + dir + " is writable by group or others (mode 0770), so other users can plant or replace entries: run chmod go-w " + dir}
		}},
		{"world-writable, sticky", 0o777 | os.ModeSticky, -1, func(dir string) []string {
			return []string{"registry directory " + dir + " is writable by group or others (mode 0777), so other users can plant or replace entries: run chmod go-w " + dir}
		}},
		{"another user's", 0o755, nobody, func(dir string) []string {
			return []string{"registry directory " + dir + " is owned by uid 65534, not by this user (uid 0), so its owner can plant or replace entries: use a registry directory of your own"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.owner >= 0 {
				needRoot(t)
			}
			r, home := testRegistry(t)
			cwd := hubtest.Workspace(t, home, "ws", true)
			mustWrite(t, r, Entry{Cwd: cwd, Name: "ws"})
			if err := os.Chmod(r.Dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.owner >= 0 {
				if err := os.Chown(r.Dir, tt.owner, tt.owner); err != nil {
					t.Fatal(err)
				}
			}
			l, err := r.ListReport(nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want(r.Dir); !slices.Equal(l.Warnings, want) {
				t.Errorf("Warnings = %q\nwant %q", l.Warnings, want)
			}
			if len(l.Infos) != 1 {
				t.Errorf("Infos = %+v, want the entry listed all the same", l.Infos)
			}
		})
	}
}

// TestListLogsWarningOnce replaces the default logger, so it cannot run in
// parallel: a directory warning and a refused file are logged once, not at
// every listing.
func TestListLogsWarningOnce(t *testing.T) {
	buf := &hubtest.LockedBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	r, _ := testRegistry(t)
	writeRaw(t, r, "0000000000000001.json", `{"cwd":`)
	if err := os.Chmod(r.Dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := r.ListReport(nil); err != nil {
			t.Fatal(err)
		}
	}
	log := buf.String()
	for _, want := range []string{"chmod go-w " + r.Dir, "0000000000000001.json"} {
		if n := strings.Count(log, want); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", want, n, log)
		}
	}
}

// BenchmarkListInfoAgentID measures ListInfo over 10 idle workspaces, one of
// whose agent.id is a regular file or a FIFO, which is refused without
// waiting for a writer.
func BenchmarkListInfoAgentID(b *testing.B) {
	for _, fifo := range []bool{false, true} {
		name := "regular"
		if fifo {
			name = "fifo"
		}
		b.Run(name, func(b *testing.B) {
			r := benchRegistry(b, 10, nil)
			infos, err := r.ListInfo()
			if err != nil {
				b.Fatal(err)
			}
			marker := filepath.Join(lock.StateDir(infos[0].Cwd), "agent.id")
			if fifo {
				if err := os.Remove(marker); err != nil {
					b.Fatal(err)
				}
				if err := syscall.Mkfifo(marker, 0o644); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if infos, err := r.ListInfo(); err != nil || len(infos) != 10 {
					b.Fatalf("ListInfo: %d rows, %v", len(infos), err)
				}
			}
		})
	}
}
