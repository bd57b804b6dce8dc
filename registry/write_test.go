package registry

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

func TestWriteCreatesDirLeavesNoTempLastWriterWins(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	for i, name := range []string{"first", "second", "third"} {
		mustWrite(t, r, Entry{Cwd: cwd, Name: name, HubPID: i, StartedAt: time.Now()})
	}
	got, ok := readRaw(t, r, cwd)
	if !ok || got.Name != "third" || got.HubPID != 2 {
		t.Errorf("entry = %+v (present %v), want the last write", got, ok)
	}
	if tmps := tempFiles(t, r); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

func TestWriteErrorsLeaveNothing(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	// A directory in the entry's place makes the final rename fail.
	if err := os.MkdirAll(filepath.Join(r.EntryPath(cwd), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    Registry
		e    Entry
	}{
		{"rename fails", r, Entry{Cwd: cwd, Name: "ws"}},
		{"no registry directory", Registry{}, Entry{Cwd: cwd + "-other", Name: "ws"}},
		{"no cwd", r, Entry{Name: "ws"}},
		{"negative pid", r, Entry{Cwd: cwd + "-other", HubPID: -5}},
		{"unencodable time", r, Entry{Cwd: cwd + "-other", StartedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.r.Write(tt.e); err == nil {
				t.Fatal("Write succeeded")
			}
			if tmps := tempFiles(t, r); len(tmps) != 0 {
				t.Errorf("temporary files left: %v", tmps)
			}
			if tt.e.Cwd != cwd && tt.e.Cwd != "" && exists(tt.r.EntryPath(tt.e.Cwd)) {
				t.Error("an entry was written")
			}
		})
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		existing func(cwd string) Entry // nil: no entry
		legacy   bool                   // existing entry written as <id>-<pid>.json
		wantName string
		wantPID  func(existing Entry) int
	}{
		{
			name:     "no entry gets an idle row",
			wantName: "fresh",
		},
		{
			name:     "idle row is refreshed",
			existing: func(cwd string) Entry { return Entry{Cwd: cwd, Name: "stale", StartedAt: old} },
			wantName: "fresh",
		},
		{
			name: "live hub entry is left alone",
			existing: func(cwd string) Entry {
				return Entry{Cwd: cwd, Name: "hub", HubURL: "http://127.0.0.1:9", HubPID: os.Getpid(), StartedAt: old}
			},
			wantName: "hub",
			wantPID:  func(e Entry) int { return e.HubPID },
		},
		{
			name: "legacy live hub entry is migrated and left alone",
			existing: func(cwd string) Entry {
				return Entry{Cwd: cwd, Name: "legacy-hub", HubURL: "http://127.0.0.1:9", HubPID: os.Getpid(), StartedAt: old}
			},
			legacy:   true,
			wantName: "legacy-hub",
			wantPID:  func(e Entry) int { return e.HubPID },
		},
		{
			name:     "dead hub entry is replaced",
			existing: func(cwd string) Entry { return Entry{Cwd: cwd, Name: "dead", HubPID: deadPID(t), StartedAt: old} },
			wantName: "fresh",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, home := testRegistry(t)
			cwd := hubtest.Workspace(t, home, "ws", true)
			var existing Entry
			if tt.existing != nil {
				existing = tt.existing(cwd)
				if tt.legacy {
					data, err := encodeEntry(existing)
					if err != nil {
						t.Fatal(err)
					}
					writeRaw(t, r, WorkspaceID(cwd)+"-"+strconv.Itoa(existing.HubPID)+".json", string(data))
				} else {
					mustWrite(t, r, existing)
				}
			}
			before := time.Now()
			kept, err := r.RegisterIdle(cwd, "fresh")
			if err != nil {
				t.Fatal(err)
			}
			got, ok := readRaw(t, r, cwd)
			if !ok {
				t.Fatal("no entry after Register")
			}
			wantPID := 0
			if tt.wantPID != nil {
				wantPID = tt.wantPID(existing)
			}
			if (kept != nil) != (wantPID != 0) || (kept != nil && (kept.HubPID != wantPID || kept.Name != tt.wantName)) {
				t.Errorf("RegisterIdle reported kept entry %+v, want one with pid %d", kept, wantPID)
			}
			if got.Name != tt.wantName || got.HubPID != wantPID {
				t.Errorf("entry = %+v, want name %q pid %d", got, tt.wantName, wantPID)
			}
			if tt.wantName == "fresh" && (got.HubURL != "" || got.NATSURL != "" || got.StartedAt.Before(before.Add(-time.Second))) {
				t.Errorf("idle row = %+v, want no URLs and a fresh started_at", got)
			}
			if names, _ := legacyNames(r.Dir, WorkspaceID(cwd), true); len(names) != 0 {
				t.Errorf("legacy files left: %v", names)
			}
			if tmps := tempFiles(t, r); len(tmps) != 0 {
				t.Errorf("temporary files left: %v", tmps)
			}
		})
	}
}

func TestRegisterRefusesMissingCwd(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := filepath.Join(home, "missing")
	if err := r.Register(cwd, "x"); err == nil {
		t.Fatal("Register of a missing cwd succeeded")
	}
	if exists(r.EntryPath(cwd)) {
		t.Error("an entry was written")
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	other := hubtest.Workspace(t, home, "other", true)
	id := WorkspaceID(cwd)
	mustWrite(t, r, Entry{Cwd: cwd, Name: "ws"})
	mustWrite(t, r, Entry{Cwd: other, Name: "other"})
	legacy := []string{
		writeRaw(t, r, id+"-123.json", `{"cwd":"`+cwd+`"}`),
		writeRaw(t, r, id+"-456.json", `corrupt`),
	}
	inFlight := writeRaw(t, r, id+".json"+tmpMarker+"write.1", `{"cwd":"`+cwd+`"}`)

	if err := r.Remove(cwd); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(legacy, r.EntryPath(cwd)) {
		if exists(p) {
			t.Errorf("%s survived Remove", filepath.Base(p))
		}
	}
	if !exists(r.EntryPath(other)) {
		t.Error("another workspace's entry was removed")
	}
	if !exists(inFlight) {
		t.Error("another writer's temporary file was removed")
	}
	if err := r.Remove(cwd); err != nil {
		t.Errorf("removing nothing: %v", err)
	}
}

func TestRemoveEntry(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	id := WorkspaceID(cwd)
	tests := []struct {
		name      string
		onDisk    Entry
		remove    Entry
		wantEntry bool
	}{
		{"same pid", Entry{Cwd: cwd, HubPID: 42}, Entry{Cwd: cwd, HubPID: 42}, false},
		{"newer hub", Entry{Cwd: cwd, HubPID: 43}, Entry{Cwd: cwd, HubPID: 42}, true},
		{"idle row", Entry{Cwd: cwd}, Entry{Cwd: cwd, HubPID: 42}, true},
		{"idle row for idle row", Entry{Cwd: cwd}, Entry{Cwd: cwd}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustWrite(t, r, tt.onDisk)
			legacy := writeRaw(t, r, id+"-42.json", `{"cwd":"x"}`)
			if err := r.RemoveEntry(tt.remove); err != nil {
				t.Fatal(err)
			}
			if got := exists(r.EntryPath(cwd)); got != tt.wantEntry {
				t.Errorf("entry exists = %v, want %v", got, tt.wantEntry)
			}
			if exists(legacy) == (tt.remove.HubPID == 42) {
				t.Errorf("legacy file of pid 42 exists = %v", exists(legacy))
			}
			os.Remove(legacy)
		})
	}
}
