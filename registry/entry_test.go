package registry

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

func TestWorkspaceID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cwd, want string
	}{
		{"/home/u/ws", "59f00c3df4a2af58"},
		{"/home/u/ws/", "59f00c3df4a2af58"},
		{"/home/u/./x/../ws", "59f00c3df4a2af58"},
		{"/srv/a", "b068a6cef8334eeb"},
	}
	for _, tt := range tests {
		if runtime.GOOS == "windows" {
			t.Skip("the expected ids are for slash-separated paths")
		}
		if got := WorkspaceID(tt.cwd); got != tt.want {
			t.Errorf("WorkspaceID(%q) = %q, want %q", tt.cwd, got, tt.want)
		}
	}
}

// TestDefault checks that the package-level functions work on the registry
// of $HOME as it is at each call. It sets HOME, so it cannot run in
// parallel.
func TestDefault(t *testing.T) {
	home := hubtest.SetHome(t)
	xdg := filepath.Join(home, "data")
	t.Setenv("XDG_DATA_HOME", xdg)
	dir := filepath.Join(home, ".bones", "workspaces")
	if got, want := Default(), (Registry{Dir: dir, Home: home, DataHome: xdg}); got != want {
		t.Errorf("Default() = %+v, want %+v", got, want)
	}
	if got := RegistryDir(); got != dir {
		t.Errorf("RegistryDir() = %q, want %q", got, dir)
	}
	cwd := hubtest.Workspace(t, home, "ws", true)
	if got, want := EntryPath(cwd), filepath.Join(dir, WorkspaceID(cwd)+".json"); got != want {
		t.Errorf("EntryPath = %q, want %q", got, want)
	}
	if err := Write(Entry{Cwd: cwd, Name: "ws"}); err != nil {
		t.Fatal(err)
	}
	if e, err := Read(cwd); err != nil || e.Name != "ws" {
		t.Errorf("Read = %+v, %v; want the entry written", e, err)
	}
	if entries, err := List(); err != nil || len(entries) != 1 {
		t.Errorf("List = %+v, %v; want the entry written", entries, err)
	}
	trashed := hubtest.Workspace(t, filepath.Join(xdg, "Trash"), "ws", true)
	if !IsOrphan(Entry{Cwd: trashed, HubPID: os.Getpid()}) {
		t.Error("a workspace in the XDG_DATA_HOME trash is not an orphan")
	}

	// The environment is read at each call.
	other := t.TempDir()
	t.Setenv("HOME", other)
	if got, want := RegistryDir(), filepath.Join(other, ".bones", "workspaces"); got != want {
		t.Errorf("RegistryDir() after HOME changed = %q, want %q", got, want)
	}
	if _, err := Read(cwd); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read in the new HOME: %v, want ErrNotFound", err)
	}
}

func TestForHome(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r := ForHome(home)
	want := Registry{Dir: filepath.Join(home, ".bones", "workspaces"), Home: home}
	if r != want {
		t.Errorf("ForHome = %+v, want %+v", r, want)
	}
	cwd := filepath.Join(home, "ws")
	if got, want := r.EntryPath(cwd), filepath.Join(home, ".bones", "workspaces", WorkspaceID(cwd)+".json"); got != want {
		t.Errorf("EntryPath = %q, want %q", got, want)
	}
}

// TestWriteFormat checks the file bones reads: exactly the six keys,
// started_at in RFC 3339 UTC with nanoseconds, mode 0600.
func TestWriteFormat(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	started := time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.FixedZone("X", 3*3600))
	e := Entry{Cwd: cwd, Name: "ws", HubURL: "http://127.0.0.1:4000", NATSURL: "nats://127.0.0.1:4001", HubPID: 42, StartedAt: started}
	mustWrite(t, r, e)
	path := r.EntryPath(cwd)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"cwd", "hub_pid", "hub_url", "name", "nats_url", "started_at"}; !slices.Equal(keys, want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
	if got, want := raw["started_at"], "2026-03-04T02:06:07.891011121Z"; got != want {
		t.Errorf("started_at = %v, want %v", got, want)
	}
	if got := raw["hub_pid"]; got != float64(42) {
		t.Errorf("hub_pid = %v, want 42", got)
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("mode = %v, want 0600", mode)
		}
	}
}

func TestDecodeEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		want    Entry
		wantErr bool
	}{
		{
			name: "bones row",
			data: `{"cwd":"/w","name":"w","hub_url":"http://127.0.0.1:1","nats_url":"nats://127.0.0.1:2","hub_pid":7,"started_at":"2026-01-02T03:04:05.123456789Z"}`,
			want: Entry{Cwd: "/w", Name: "w", HubURL: "http://127.0.0.1:1", NATSURL: "nats://127.0.0.1:2", HubPID: 7, StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		},
		{
			name: "offset converted to UTC",
			data: `{"cwd":"/w","hub_pid":0,"started_at":"2026-01-02T05:04:05+02:00"}`,
			want: Entry{Cwd: "/w", StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		},
		{name: "unknown keys ignored", data: `{"cwd":"/w","future":true}`, want: Entry{Cwd: "/w"}},
		{name: "empty", data: ``, wantErr: true},
		{name: "null", data: `null`, wantErr: true},
		{name: "torn", data: `{"cwd":"/w","na`, wantErr: true},
		{name: "no cwd", data: `{"name":"w"}`, wantErr: true},
		{name: "negative pid", data: `{"cwd":"/w","hub_pid":-1}`, wantErr: true},
		{name: "pid as string", data: `{"cwd":"/w","hub_pid":"7"}`, wantErr: true},
		{name: "bad time", data: `{"cwd":"/w","started_at":"yesterday"}`, wantErr: true},
		{name: "year beyond RFC 3339 in UTC", data: `{"cwd":"/w","started_at":"9999-12-31T23:59:59-23:59"}`, wantErr: true},
		{name: "trailing data", data: `{"cwd":"/w"}{"cwd":"/x"}`, wantErr: true},
		{name: "array", data: `[]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeEntry([]byte(tt.data))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzDecodeEntry checks that decoding never panics and that whatever
// decodes survives the trip through the on-disk format unchanged: encoded,
// written atomically into a registry directory and read back.
func FuzzDecodeEntry(f *testing.F) {
	for _, seed := range []string{
		`{"cwd":"/w","name":"w","hub_url":"http://127.0.0.1:1","nats_url":"nats://127.0.0.1:2","hub_pid":7,"started_at":"2026-01-02T03:04:05.123456789Z"}`,
		`{"cwd":"/w","name":"","hub_url":"","nats_url":"","hub_pid":0,"started_at":"2026-01-02T05:04:05+02:00"}`,
		`{"cwd":"C:\\w\u00e9","hub_pid":2147483647}`,
		`{"cwd":"/w","name":"\xff"}`,
		`{"cwd":"/w"} `,
		`null`,
		`{`,
	} {
		f.Add([]byte(seed))
	}
	r := ForHome(f.TempDir())
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		if e.Cwd == "" || e.HubPID < 0 || e.StartedAt.Location() != time.UTC {
			t.Fatalf("decoded an entry Write would refuse: %+v", e)
		}
		encoded, err := encodeEntry(e)
		if err != nil {
			t.Fatalf("decoded entry does not encode: %+v: %v", e, err)
		}
		again, err := decodeEntry(encoded)
		if err != nil {
			t.Fatalf("encoded entry does not decode: %s: %v", encoded, err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", e, again)
		}
		if err := r.Write(e); err != nil {
			t.Fatalf("Write(%+v): %v", e, err)
		}
		file, err := readEntryFile(r.EntryPath(e.Cwd))
		if err != nil {
			t.Fatalf("written entry does not read back: %v", err)
		}
		if !reflect.DeepEqual(file.entry, e) {
			t.Fatalf("Write/read changed the entry:\n%+v\n%+v", e, file.entry)
		}
	})
}
