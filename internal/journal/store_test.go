package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// fixedClock sets o's clock to sec(900), near the tests' event times.
func fixedClock(o Options) Options {
	o.Now = func() time.Time { return sec(900) }
	return o
}

// logFiles returns the journal's event files that exist, oldest first.
func logFiles(dir string) []string {
	var files []string
	for i := 1000; i >= 1; i-- {
		p := filepath.Join(dir, FileName+"."+strconv.Itoa(i))
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err == nil {
		files = append(files, filepath.Join(dir, FileName))
	}
	return files
}

// readAll decodes every line of the files, failing on any line that is
// not a whole event.
func readAll(t *testing.T, files []string) []Event {
	t.Helper()
	var evs []Event
	for _, f := range files {
		data, err := os.ReadFile(f)
		must(t, err)
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			if len(sc.Bytes()) == 0 {
				continue
			}
			e, ok := decode(sc.Bytes())
			if !ok {
				t.Fatalf("%s:%d is not an event: %q", f, n, sc.Text())
			}
			evs = append(evs, e)
		}
	}
	return evs
}

func TestRotateBySize(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, fixedClock(Options{MaxSize: 1024, Keep: 2}))
	must(t, err)
	for i := range 60 {
		must(t, j.Record(Event{Time: sec(i), Kind: KindReaped, PID: i + 1, Detail: strings.Repeat("d", 80)}))
	}
	files := logFiles(dir)
	want := []string{filepath.Join(dir, FileName+".2"), filepath.Join(dir, FileName+".1"), filepath.Join(dir, FileName)}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Fatalf("files %v, want %v", files, want)
	}
	for _, f := range files[:2] {
		fi, err := os.Stat(f)
		must(t, err)
		// Rotated once over 1024 bytes: at most one line over.
		if fi.Size() <= 1024 || fi.Size() > 1024+200 {
			t.Errorf("%s holds %d bytes, want just over 1024", f, fi.Size())
		}
	}
	evs := readAll(t, files)
	for i, e := range evs {
		if want := 60 - len(evs) + i + 1; e.PID != want {
			t.Fatalf("event %d has pid %d, want %d: the kept events are the newest, in order", i, e.PID, want)
		}
	}
	if len(evs) < 12 {
		t.Errorf("%d events kept, want at least two full files' worth", len(evs))
	}
	// Reopened, memory holds the newest across the files.
	j, err = Open(dir, fixedClock(Options{MaxSize: 1024, Keep: 2}))
	must(t, err)
	if got := j.Query(Filter{Limit: 1000}); len(got) != len(evs) || got[0].PID != 60 {
		t.Errorf("reloaded %d events, newest pid %d; want %d, 60", len(got), got[0].PID, len(evs))
	}
}

func TestRotateByAge(t *testing.T) {
	dir := t.TempDir()
	now := sec(0)
	old := Event{Time: now.Add(-31 * 24 * time.Hour), Kind: KindRegistered, WorkspaceID: "a1"}
	line, err := encode(old)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, FileName), line, 0o600))
	j, err := Open(dir, Options{Now: func() time.Time { return now }})
	must(t, err)
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		t.Errorf("events.jsonl still there after opening with a 31-day-old first event: %v", err)
	}
	if got := readAll(t, []string{filepath.Join(dir, FileName+".1")}); len(got) != 1 || got[0].Kind != KindRegistered {
		t.Errorf("events.jsonl.1 holds %+v, want the old event", got)
	}
	if got := j.Query(Filter{}); len(got) != 1 {
		t.Errorf("memory %+v, want the old event, read from events.jsonl.1", got)
	}
	// A young log is left alone.
	must(t, j.Record(Event{Time: now, Kind: KindRemoved, WorkspaceID: "a1"}))
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("a fresh events.jsonl was rotated: %v", err)
	}
}

func TestTornLineSkipped(t *testing.T) {
	dir := t.TempDir()
	var content []byte
	for i := range 2 {
		line, err := encode(Event{Time: sec(i), Kind: KindHubStarted, WorkspaceID: "a1", PID: i + 1})
		must(t, err)
		content = append(content, line...)
	}
	content = append(content, `{"time":"2026-03-04T14:02:09Z","kind":"hub-di`...)
	path := filepath.Join(dir, FileName)
	must(t, os.WriteFile(path, content, 0o600))
	j, err := Open(dir, fixedClock(Options{}))
	must(t, err)
	if got := j.Query(Filter{}); len(got) != 2 {
		t.Fatalf("loaded %+v, want the 2 whole events", got)
	}
	must(t, j.Record(Event{Time: sec(20), Kind: KindHubDied, WorkspaceID: "a1", PID: 3}))
	data, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Contains(data, []byte("\"hub-di\n{")) {
		t.Errorf("the torn line was not ended before the next event:\n%s", data)
	}
	j, err = Open(dir, fixedClock(Options{}))
	must(t, err)
	if got := j.Query(Filter{}); len(got) != 3 || got[0].PID != 3 {
		t.Errorf("reloaded %+v, want 3 events, the new one first", got)
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "boneyard")
	j := open(t, dir)
	observe(t, j, sec(0), obs(ws(workspace(t, nil, 0), StatusIdle, 0, time.Time{})))
	for name, want := range map[string]os.FileMode{".": 0o700, FileName: 0o600, KnownFileName: 0o600, lockName: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		must(t, err)
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
}

func TestLongFieldsBounded(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, fixedClock(Options{}))
	must(t, err)
	e := Event{
		Time: sec(0), Kind: KindHubDied, WorkspaceID: strings.Repeat("i", 100),
		Name: strings.Repeat("n\x01", 300), Cwd: "/" + strings.Repeat("\x02", 6000), Detail: strings.Repeat("<é>", 2000),
	}
	must(t, j.Record(e))
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	must(t, err)
	if len(data) > MaxLine {
		t.Errorf("line of %d bytes, want at most %d", len(data), MaxLine)
	}
	got, ok := decode(data)
	if !ok {
		t.Fatalf("line does not decode: %q", data)
	}
	if len(got.Detail) > maxDetail || !strings.HasSuffix(got.Detail, "…") || strings.ContainsRune(got.Name, '\x01') {
		t.Errorf("detail %d bytes, name %q", len(got.Detail), got.Name)
	}
}

// TestTwoWriters: two boneyard processes appending at once, with and
// without rotation, lose no event and corrupt no line.
func TestTwoWriters(t *testing.T) {
	const perWriter = 200
	tests := []struct {
		name    string
		maxSize int64
	}{
		{"no rotation", 10 << 20},
		{"rotating", 4 << 10},
	}
	exe, err := os.Executable()
	must(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var kids []*procResult
			for _, who := range []string{"w1", "w2"} {
				cmd := hubtest.Command(exe, "append")
				cmd.Env = append(cmd.Env, appendDirEnv+"="+dir, appendWhoEnv+"="+who,
					appendCountEnv+"="+strconv.Itoa(perWriter), appendSizeEnv+"="+strconv.FormatInt(tt.maxSize, 10))
				must(t, cmd.Start())
				r := &procResult{done: make(chan error, 1)}
				go func() { r.done <- cmd.Wait() }()
				t.Cleanup(func() { cmd.Process.Kill() })
				kids = append(kids, r)
			}
			for _, k := range kids {
				select {
				case err := <-k.done:
					must(t, err)
				case <-time.After(60 * time.Second):
					t.Fatal("writers did not finish within 60 s")
				}
			}
			files := logFiles(dir)
			if tt.maxSize < 10<<20 && len(files) < 3 {
				t.Errorf("files %v: want several rotations", files)
			}
			seen := map[string]int{}
			for _, e := range readAll(t, files) {
				var n int
				if _, err := fmt.Sscanf(e.Detail, e.WorkspaceID+" %d", &n); err != nil || e.PID != n+1 {
					t.Fatalf("event %+v does not match its writer's numbering", e)
				}
				if n != seen[e.WorkspaceID] {
					t.Fatalf("%s: event %d after %d: lost or reordered", e.WorkspaceID, n, seen[e.WorkspaceID])
				}
				seen[e.WorkspaceID]++
			}
			if seen["w1"] != perWriter || seen["w2"] != perWriter {
				t.Errorf("events per writer %v, want %d each", seen, perWriter)
			}
		})
	}
}

type procResult struct{ done chan error }

// TestEventJSONNames pins the line format other tools read.
func TestEventJSONNames(t *testing.T) {
	line, err := encode(Event{Time: time.Date(2026, 3, 4, 14, 2, 0, 0, time.UTC), Kind: KindHubDied,
		WorkspaceID: "933bfa0eae2006ab", Name: "ws1", Cwd: "/home/u/ws1", PID: 934, Detail: "killed: <x>"})
	must(t, err)
	want := `{"time":"2026-03-04T14:02:00Z","kind":"hub-died","workspace_id":"933bfa0eae2006ab","name":"ws1","cwd":"/home/u/ws1","pid":934,"detail":"killed: <x>"}` + "\n"
	if string(line) != want {
		t.Errorf("line\n%s\nwant\n%s", line, want)
	}
	var m map[string]any
	must(t, json.Unmarshal(line, &m))
}
