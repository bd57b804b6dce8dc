package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/procscan"
)

// readers are the three calls that prune on read; each reports whether the
// entry for cwd came back.
var readers = []struct {
	name string
	read func(t *testing.T, r Registry, cwd string) bool
}{
	{"List", func(t *testing.T, r Registry, cwd string) bool {
		entries, err := r.List()
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(entries, func(e Entry) bool { return e.Cwd == cwd })
	}},
	{"ListInfo", func(t *testing.T, r Registry, cwd string) bool {
		infos, err := r.ListInfo()
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(infos, func(i Info) bool { return i.Cwd == cwd })
	}},
	{"Read", func(t *testing.T, r Registry, cwd string) bool {
		_, err := r.Read(cwd)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}},
}

func TestPruneOnRead(t *testing.T) {
	t.Parallel()
	dead := deadPID(t)
	tests := []struct {
		name      string
		pid       func() int
		cwdExists bool
		wantKept  bool
	}{
		{"dead hub pid", func() int { return dead }, true, false},
		{"cwd gone", func() int { return os.Getpid() }, false, false},
		{"idle row, cwd gone", func() int { return 0 }, false, false},
		{"idle row, cwd exists", func() int { return 0 }, true, true},
		{"live hub pid", func() int { return os.Getpid() }, true, true},
	}
	for _, rd := range readers {
		for _, tt := range tests {
			t.Run(rd.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				r, home := testRegistry(t)
				cwd := filepath.Join(home, "ws")
				if tt.cwdExists {
					cwd = hubtest.Workspace(t, home, "ws", true)
				}
				mustWrite(t, r, Entry{Cwd: cwd, Name: "ws", HubPID: tt.pid(), StartedAt: time.Now()})
				if got := rd.read(t, r, cwd); got != tt.wantKept {
					t.Errorf("entry returned = %v, want %v", got, tt.wantKept)
				}
				if got := exists(r.EntryPath(cwd)); got != tt.wantKept {
					t.Errorf("file kept = %v, want %v", got, tt.wantKept)
				}
				if tmps := tempFiles(t, r); len(tmps) != 0 {
					t.Errorf("temporary files left: %v", tmps)
				}
			})
		}
	}
}

func TestReadUnknownCwd(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	_, err := r.Read(filepath.Join(home, "nowhere"))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestZombieIsDead(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	cmd := hubtest.Command(hubtest.Bin("bones"), hubtest.ExitMode, "version")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Wait() })
	// Not waited for yet: once it exits it stays a zombie.
	deadline := time.Now().Add(10 * time.Second)
	for procscan.Alive(cmd.Process.Pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join("/proc", itoa(cmd.Process.Pid))); err != nil && exists("/proc/self") {
		t.Fatalf("child is not a zombie: %v", err)
	}
	mustWrite(t, r, Entry{Cwd: cwd, HubPID: cmd.Process.Pid})
	if _, err := r.Read(cwd); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read of a zombie's entry: err = %v, want ErrNotFound", err)
	}
	if exists(r.EntryPath(cwd)) {
		t.Error("a zombie's entry was not pruned")
	}
}

func TestListSkipsCorruptAndTemporaryFiles(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	good := hubtest.Workspace(t, home, "good", true)
	mustWrite(t, r, Entry{Cwd: good, Name: "good"})
	valid := `{"cwd":"` + filepath.ToSlash(good) + `-tmp","name":"tmp"}`
	kept := []string{
		writeRaw(t, r, "0000000000000001.json", `{"cwd":`),
		writeRaw(t, r, "0000000000000002.json", ``),
		writeRaw(t, r, "0000000000000003.json", `{"name":"no cwd"}`),
		writeRaw(t, r, "0000000000000004.json.tmp.write.1", valid),
		writeRaw(t, r, "0000000000000005.tmp.1.json", valid),
	}
	for _, rd := range readers[:2] {
		t.Run(rd.name, func(t *testing.T) {
			if !rd.read(t, r, good) {
				t.Error("the good entry is missing")
			}
			if rd.read(t, r, good+"-tmp") {
				t.Error("a temporary file was read as an entry")
			}
			for _, p := range kept {
				if !exists(p) {
					t.Errorf("%s was deleted", filepath.Base(p))
				}
			}
		})
	}
	if _, err := r.Read(good + "-tmp"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read found a temporary file: %v", err)
	}
}

func TestNoRegistryDirectory(t *testing.T) {
	t.Parallel()
	r, _ := testRegistry(t)
	entries, err := r.List()
	if err != nil || len(entries) != 0 {
		t.Errorf("List = %v, %v; want empty, nil", entries, err)
	}
	infos, err := r.ListInfo()
	if err != nil || len(infos) != 0 {
		t.Errorf("ListInfo = %v, %v; want empty, nil", infos, err)
	}
	orphans, err := r.Orphans()
	if err != nil || len(orphans) != 0 {
		t.Errorf("Orphans = %v, %v; want empty, nil", orphans, err)
	}
}

func TestLegacyMigration(t *testing.T) {
	t.Parallel()
	dead := deadPID(t)
	live := os.Getpid()
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	type file struct {
		name    string // "" canonical, else the pid suffix
		pid     int
		started time.Time
		label   string
	}
	tests := []struct {
		name      string
		files     []file
		wantLabel string // "" means ErrNotFound
	}{
		{"single legacy file", []file{{"123", live, t1, "only"}}, "only"},
		{"live pid beats newer dead pid", []file{{"1", live, t1, "live"}, {"2", dead, t2, "dead"}}, "live"},
		{"newest among live", []file{{"1", live, t1, "older"}, {"2", live, t2, "newer"}}, "newer"},
		{"newest among idle", []file{{"1", 0, t2, "newer"}, {"2", 0, t1, "older"}}, "newer"},
		{"canonical beats legacy", []file{{"", 0, t1, "canonical"}, {"1", live, t2, "legacy"}}, "canonical"},
		{"dead winner is migrated then pruned", []file{{"1", dead, t1, "dead"}}, ""},
		{"corrupt legacy is skipped", []file{{"1", live, t1, "good"}, {"2", -1, t2, "corrupt"}}, "good"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, home := testRegistry(t)
			cwd := hubtest.Workspace(t, home, "ws", true)
			id := WorkspaceID(cwd)
			for _, f := range tt.files {
				name := id + ".json"
				if f.name != "" {
					name = id + "-" + f.name + ".json"
				}
				data := "{corrupt"
				if f.pid >= 0 {
					b, err := encodeEntry(Entry{Cwd: cwd, Name: f.label, HubPID: f.pid, StartedAt: f.started})
					if err != nil {
						t.Fatal(err)
					}
					data = string(b)
				}
				writeRaw(t, r, name, data)
			}
			got, err := r.Read(cwd)
			switch {
			case tt.wantLabel == "":
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("Read = %+v, %v; want ErrNotFound", got, err)
				}
			case err != nil:
				t.Fatal(err)
			case got.Name != tt.wantLabel:
				t.Errorf("Read chose %q, want %q", got.Name, tt.wantLabel)
			}
			if names, _ := legacyNames(r.Dir, id, true); len(names) != 0 {
				t.Errorf("legacy files left: %v", names)
			}
			if raw, ok := readRaw(t, r, cwd); ok != (tt.wantLabel != "") || raw.Name != tt.wantLabel {
				t.Errorf("canonical file = %+v (present %v), want %q", raw, ok, tt.wantLabel)
			}
		})
	}
}

// TestListInfoLegacyID checks that a workspace known only by a legacy file
// is listed once, under its id without the -<pid> suffix.
func TestListInfoLegacyID(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	id := WorkspaceID(cwd)
	for _, pid := range []int{0, os.Getpid()} {
		b, err := encodeEntry(Entry{Cwd: cwd, Name: "legacy", HubPID: pid})
		if err != nil {
			t.Fatal(err)
		}
		writeRaw(t, r, id+"-"+itoa(pid)+".json", string(b))
	}
	infos, err := r.ListInfo()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].ID != id || infos[0].HubPID != os.Getpid() {
		t.Fatalf("ListInfo = %+v, want one row with id %s and the live pid", infos, id)
	}
}

func TestListInfoFields(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	live := os.Getpid()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	closed := hubtest.ClosedURL(t)

	type row struct {
		dir, name string
		marked    bool
		pid       int
		url       string
		want      HubStatus
	}
	rows := []row{
		{"b-running", "b", true, live, srv.URL, HubRunning},
		{"a-idle", "a", true, 0, "", HubUnknown},
		{"a-stopped", "a", false, live, closed, HubStopped},
		{"c-no-url", "c", true, live, "", HubUnknown},
		{"c-remote-url", "c", true, live, "http://10.255.255.1:80", HubUnknown},
	}
	for _, row := range rows {
		cwd := hubtest.Workspace(t, home, row.dir, row.marked)
		mustWrite(t, r, Entry{Cwd: cwd, Name: row.name, HubURL: row.url, HubPID: row.pid, StartedAt: time.Now()})
	}
	// A generous probe timeout: this test is about the fields, and a loaded
	// machine can take longer than HealthTimeout to answer a live server.
	infos, err := r.ListInfoFunc(func(e Entry) bool { return isAlive(context.Background(), e, 10*time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, info := range infos {
		order = append(order, filepath.Base(info.Cwd))
	}
	if want := []string{"a-idle", "a-stopped", "b-running", "c-no-url", "c-remote-url"}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v (by name, then cwd)", order, want)
	}
	for _, info := range infos {
		row := rows[slices.IndexFunc(rows, func(r row) bool { return r.dir == filepath.Base(info.Cwd) })]
		t.Run(row.dir, func(t *testing.T) {
			if info.HubStatus != row.want {
				t.Errorf("status = %s, want %s", info.HubStatus, row.want)
			}
			if info.ID != WorkspaceID(info.Cwd) {
				t.Errorf("ID = %s, want %s", info.ID, WorkspaceID(info.Cwd))
			}
			wantAgent := ""
			if row.marked {
				wantAgent = "agent-" + row.dir
			}
			if info.AgentID != wantAgent {
				t.Errorf("AgentID = %q, want %q", info.AgentID, wantAgent)
			}
			st, err := os.Stat(r.EntryPath(info.Cwd))
			if err != nil {
				t.Fatal(err)
			}
			if !info.LastTouched.Equal(st.ModTime()) {
				t.Errorf("LastTouched = %v, want mtime %v", info.LastTouched, st.ModTime())
			}
		})
	}
}

// TestAgentIDHonoursBonesDir sets BONES_DIR, so it cannot run in parallel.
func TestAgentIDHonoursBonesDir(t *testing.T) {
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", false)
	state := filepath.Join(cwd, "state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "agent.id"), []byte("  relocated \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BONES_DIR", state)
	mustWrite(t, r, Entry{Cwd: cwd, Name: "ws"})
	infos, err := r.ListInfo()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].AgentID != "relocated" {
		t.Errorf("ListInfo = %+v, want agent id from BONES_DIR", infos)
	}
}

func TestListRemovesAbandonedTemporaryWrites(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	mustWrite(t, r, Entry{Cwd: cwd, Name: "ws"})
	old := time.Now().Add(-time.Hour)
	id := WorkspaceID(cwd)
	tests := []struct {
		name     string
		age      time.Time
		wantKept bool
	}{
		{id + ".json.tmp.write.1", old, false},
		{id + ".json.tmp.1234", old, false},
		{id + ".json.tmp.write.2", time.Now(), true},
		{id + ".json.tmp.aside.3", old, true},
	}
	for _, tt := range tests {
		path := writeRaw(t, r, tt.name, `{"cwd":"x"}`)
		if err := os.Chtimes(path, tt.age, tt.age); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.List(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if got := exists(filepath.Join(r.Dir, tt.name)); got != tt.wantKept {
			t.Errorf("%s kept = %v, want %v", tt.name, got, tt.wantKept)
		}
	}
}
