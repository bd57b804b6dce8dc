package hublog

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readAll(t testing.TB, fl *Follower) []string {
	t.Helper()
	b, err := fl.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	return raws(b.Lines)
}

func TestFollow(t *testing.T) {
	dir := writeFiles(t, map[string][]string{FileName: {"old 1", "old 2"}})
	path := filepath.Join(dir, FileName)
	fl, err := Follow(dir, Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"nothing new", func() {}, nil},
		{"appended", func() { appendTo(t, path, "new 1", "", "new 2") }, []string{"new 1", "new 2"}},
		{"half a line", func() {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString("half")
			f.Close()
		}, nil},
		{"its end", func() { appendTo(t, path, " and half") }, []string{"half and half"}},
		{"rotated while the hub writes on", func() {
			// The detached hub's stderr keeps the renamed file open.
			stderr, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			defer stderr.Close()
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			stderr.WriteString("panic: into the old file\n")
			appendTo(t, path, "first of the new file")
		}, []string{"panic: into the old file", "first of the new file"}},
		{"replaced by a shorter file", func() {
			os.WriteFile(path, []byte("x\n"), 0o600)
		}, []string{"x"}},
	}
	for _, st := range steps {
		st.do()
		if got := readAll(t, fl); !slices.Equal(got, st.want) {
			t.Errorf("%s: read %q, want %q", st.name, got, st.want)
		}
	}

	// A follower resumed from the cursor goes on where this one stands.
	again, err := Follow(dir, fl.Cursor())
	if err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, "after the cursor")
	appendTo(t, path+".1", "late stderr")
	if got, want := readAll(t, again), []string{"late stderr", "after the cursor"}; !slices.Equal(got, want) {
		t.Errorf("resumed: read %q, want %q", got, want)
	}
	cur, err := ParseCursor(fl.Cursor().String())
	if err != nil || !slices.Equal(cur.marks, fl.Cursor().marks) {
		t.Errorf("cursor %q did not round-trip: %v %v", fl.Cursor(), cur, err)
	}
}

func TestFollowPlainLinesTakeTheTimeBefore(t *testing.T) {
	dir := writeFiles(t, map[string][]string{FileName: {jl(3, "INFO", "lifecycle", "hub: ready")}})
	fl, err := Follow(dir, Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	appendTo(t, filepath.Join(dir, FileName), "panic: boom", "goroutine 1 [running]:", jl(7, "INFO", "lifecycle", "x"), "after")
	b, err := fl.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{at(3), at(3), at(7), at(7)}
	for i, e := range b.Lines {
		if !e.Time.Equal(want[i]) {
			t.Errorf("%q: time %v, want %v", e.Raw, e.Time, want[i])
		}
	}
}

func TestFollowFarBehindSkips(t *testing.T) {
	dir := writeFiles(t, map[string][]string{FileName: {"start"}})
	fl, err := Follow(dir, Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 40000 {
		lines = append(lines, fmt.Sprintf("burst %05d %s", i, strings.Repeat("b", 90)))
	}
	appendTo(t, filepath.Join(dir, FileName), lines...)
	const budget = 64 << 10
	b, err := fl.Read(budget)
	if err != nil {
		t.Fatal(err)
	}
	// 4 MB appended, 64 KiB a read: it skips to the last 64 KiB and reads
	// the lines that start there.
	if b.Skipped == 0 || len(b.Lines) == 0 || b.Lines[len(b.Lines)-1].Raw != lines[len(lines)-1] {
		t.Fatalf("skipped %d bytes, %d lines; want a skip and the last line", b.Skipped, len(b.Lines))
	}
	size := int64(len(lines[0]) + 1) // every line is as long
	if b.Skipped+int64(len(b.Lines))*size > 40000*size {
		t.Errorf("skipped %d bytes and read %d lines: more than was written", b.Skipped, len(b.Lines))
	}
}

// TestFollowRotationUnderLoad: a writer appends numbered lines and rotates
// the log every 500 lines as bones does (each file shifted up by one,
// hub.log renamed to hub.log.1, a new hub.log on the next line) while a
// follower reads as fast as it can: every line arrives exactly once, in
// order.
func TestFollowRotationUnderLoad(t *testing.T) {
	const total, per = 5000, 500
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	fl, err := Follow(dir, Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range total {
			if i > 0 && i%per == 0 {
				for n := i/per - 1; n >= 1; n-- {
					os.Rename(path+"."+strconv.Itoa(n), path+"."+strconv.Itoa(n+1))
				}
				if err := os.Rename(path, path+".1"); err != nil {
					done <- err
					return
				}
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				done <- err
				return
			}
			f.WriteString(jl(i, "INFO", "rpc", fmt.Sprintf("n=%d", i)) + "\n")
			f.Close()
		}
		done <- nil
	}()
	var got []int
	deadline := time.Now().Add(30 * time.Second)
	writing := true
	for time.Now().Before(deadline) {
		if writing {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				writing = false
			default:
			}
		}
		b, err := fl.Read(0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Lines {
			n, err := strconv.Atoi(strings.TrimPrefix(e.Msg, "n="))
			if err != nil {
				t.Fatalf("line %q", e.Raw)
			}
			got = append(got, n)
		}
		if !writing && len(b.Lines) == 0 && !b.More {
			break
		}
	}
	if len(got) != total {
		t.Fatalf("read %d lines, want %d", len(got), total)
	}
	for i, n := range got {
		if n != i {
			t.Fatalf("line %d is n=%d: lost or repeated lines around it", i, n)
		}
	}
}

func TestFeed(t *testing.T) {
	w := NewWatcher(nil, 50*time.Millisecond)
	defer w.Close()
	a := writeFiles(t, map[string][]string{FileName: {jl(0, "INFO", "lifecycle", "a old")}})
	missing := filepath.Join(t.TempDir(), ".bones")
	fd := w.NewFeed(compile(t, Query{Level: "WARN"}))
	defer fd.Close()
	if err := fd.Follow("a", a, Cursor{}); err != nil {
		t.Fatal(err)
	}
	if err := fd.Follow("b", missing, Cursor{}); err != nil {
		t.Fatal(err)
	}
	wait := func(want []string) {
		t.Helper()
		var got []string
		deadline := time.After(5 * time.Second)
		for len(got) < len(want) {
			select {
			case <-fd.Ready():
			case <-deadline:
				t.Fatalf("got %q, want %q", got, want)
			}
			for _, l := range fd.Read(0).Lines {
				got = append(got, l.Key+": "+l.Msg)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	appendTo(t, filepath.Join(a, FileName), jl(1, "INFO", "lifecycle", "kept out"), jl(2, "WARN", "lifecycle", "a warns"))
	wait([]string{"a: a warns"})
	// The directory appears later: its file is new, read from its start.
	os.MkdirAll(missing, 0o755)
	appendTo(t, filepath.Join(missing, FileName), jl(3, "ERROR", "error", "b fails"))
	wait([]string{"b: b fails"})
	c, err := ParseCursors(fd.Cursors().String())
	if err != nil || len(c) != 2 {
		t.Errorf("cursors %q: %v %v", fd.Cursors(), c, err)
	}
	fd.Drop("b")
	if got := fd.Keys(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("keys after Drop: %q", got)
	}
}

func TestSearchMerged(t *testing.T) {
	a := writeFiles(t, map[string][]string{FileName: {jl(0, "INFO", "rpc", "a0"), jl(2, "INFO", "rpc", "a2"), jl(4, "INFO", "rpc", "a4"), jl(6, "INFO", "rpc", "a6")}})
	b := writeFiles(t, map[string][]string{FileName: {jl(1, "INFO", "rpc", "b1"), jl(5, "INFO", "rpc", "b5")}})
	srcs := []Source{{Key: "a", Dir: a}, {Key: "b", Dir: b}, {Key: "c", Dir: filepath.Join(t.TempDir(), "none")}}
	msgs := func(mp MergedPage) []string {
		var out []string
		for _, l := range mp.Lines {
			out = append(out, l.Msg)
		}
		return out
	}
	first := SearchMerged(srcs, nil, nil, Options{Limit: 2})
	if got, want := msgs(first), []string{"b1", "a4", "b5", "a6"}; !slices.Equal(got, want) {
		t.Errorf("first page %q, want %q", got, want)
	}
	if _, ok := first.Older["b"]; ok || len(first.Older) != 1 || len(first.Failed) != 0 {
		t.Errorf("Older %v Failed %v: want only a to go on", first.Older, first.Failed)
	}
	older, err := ParseMarks(first.Older.String())
	if err != nil {
		t.Fatal(err)
	}
	second := SearchMerged(srcs, nil, older, Options{Limit: 2})
	if got, want := msgs(second), []string{"a0", "a2"}; !slices.Equal(got, want) {
		t.Errorf("second page %q, want %q", got, want)
	}
	if len(second.Older) != 0 {
		t.Errorf("second page goes on: %v", second.Older)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{"x", "1.2", "1.2.-3", "1.2.3_", strings.Repeat("1.2.3_", MaxFiles) + "1.2.3"} {
		if _, err := ParseCursor(s); err == nil {
			t.Errorf("ParseCursor(%q) accepted", s)
		}
	}
	for _, s := range []string{"a", "a/b-1.2.3", "-1.2.3", "a-1.2"} {
		if _, err := ParseMarks(s); err == nil {
			t.Errorf("ParseMarks(%q) accepted", s)
		}
	}
}
