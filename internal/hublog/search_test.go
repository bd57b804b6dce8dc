package hublog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFiles writes each file of files (name to lines, each ended by a line
// end) in a fresh state directory and returns it.
func writeFiles(t testing.TB, files map[string][]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, lines := range files {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func appendTo(t testing.TB, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// raws are the Raw texts of entries.
func raws(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Raw
	}
	return out
}

func compile(t testing.TB, q Query) *Filter {
	t.Helper()
	f, err := q.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSearchFilters(t *testing.T) {
	lines := []string{
		jl(0, "INFO", "lifecycle", "hub: starting (pid=7, repo-port=1, coord-port=2)"),
		"hub: fossil at 127.0.0.1:1, nats at nats://127.0.0.1:2",
		jl(1, "DEBUG", "rpc", "", "rpc", "tasks.claim", "agent", "a1"),
		jl(2, "WARN", "lifecycle", "hub: recovery skipped (no log)"),
		jl(3, "INFO", "rpc", "", "rpc", "tasks.create", "agent", "Panic-Agent"),
		jl(4, "ERROR", "error", "hub: registry write failed", "err", "disk full"),
		"panic: runtime error: index out of range [3] with length 2",
		"",
		"goroutine 1 [running]:",
		"main.main()",
		"\t/src/hub/main.go:12 +0x1d",
		jl(5, "INFO", "lifecycle", "hub: café ready"),
	}
	dir := writeFiles(t, map[string][]string{FileName: lines})
	tests := []struct {
		name string
		q    Query
		want []string // Raw of the lines, oldest first
	}{
		{"all but blank", Query{}, slices.Delete(slices.Clone(lines), 7, 8)},
		{"at least WARN", Query{Level: "warn"}, []string{lines[3], lines[5], lines[6], lines[8], lines[9], lines[10]}},
		{"ERROR and the panic", Query{Level: "ERROR"}, []string{lines[5], lines[6], lines[8], lines[9], lines[10]}},
		{"event", Query{Event: "rpc"}, []string{lines[2], lines[4]}},
		{"event and level", Query{Event: "rpc", Level: "INFO"}, []string{lines[4]}},
		{"text ignores case", Query{Text: "PANIC"}, []string{lines[4], lines[6]}},
		{"text in a field", Query{Text: "disk full"}, []string{lines[5]}},
		{"text not ASCII", Query{Text: "CAFÉ"}, []string{lines[11]}},
		{"regex", Query{Text: `tasks\.(claim|create)`, Regex: true}, []string{lines[2], lines[4]}},
		{"regex is case-sensitive", Query{Text: `panic-agent`, Regex: true}, nil},
		{"since", Query{Since: at(4)}, []string{lines[5], lines[6], lines[8], lines[9], lines[10], lines[11]}},
		{"since and text", Query{Since: at(3), Text: "agent"}, []string{lines[4]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Search(dir, compile(t, tt.q), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := raws(p.Lines); !slices.Equal(got, tt.want) {
				t.Errorf("lines\n%q\nwant\n%q", got, tt.want)
			}
			if !p.Older.IsZero() {
				t.Errorf("Older = %v, want none", p.Older)
			}
		})
	}
}

func TestSearchPlainLinesTakeTheTimeBefore(t *testing.T) {
	dir := writeFiles(t, map[string][]string{
		FileName + ".1": {jl(0, "INFO", "lifecycle", "old"), jl(9, "INFO", "lifecycle", "last of .1")},
		FileName:        {"panic: first in hub.log", "goroutine 1 [running]:", jl(20, "INFO", "lifecycle", "ready"), "plain after"},
	})
	p, err := Search(dir, compile(t, Query{Text: "u"}), Options{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	// The two lines with a "u", both plain, take their time from .1's
	// last line.
	want := []struct {
		raw   string
		time  time.Time
		panic bool
	}{{"panic: first in hub.log", at(9), true}, {"goroutine 1 [running]:", at(9), true}}
	if len(p.Lines) != len(want) {
		t.Fatalf("lines %q, want 2", raws(p.Lines))
	}
	for i, w := range want {
		l := p.Lines[i]
		if l.Raw != w.raw || !l.Time.Equal(w.time) || l.Panic != w.panic || l.File != FileName {
			t.Errorf("line %d: %q %v panic=%v file=%s; want %q %v panic=%v", i, l.Raw, l.Time, l.Panic, l.File, w.raw, w.time, w.panic)
		}
	}
}

// TestSearchPagesAcrossRotations: pages of 7 lines, following Older, give
// every line once, newest first, across hub.log and two rotations, and go
// on from the right file after one more rotation between two pages.
func TestSearchPagesAcrossRotations(t *testing.T) {
	num := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, jl(i, "INFO", "rpc", fmt.Sprintf("line %03d", i)))
		}
		return out
	}
	dir := writeFiles(t, map[string][]string{
		FileName + ".2": num(0, 10),
		FileName + ".1": num(10, 25),
		FileName:        num(25, 33),
	})
	var got []string
	var before Mark
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("more pages than lines")
		}
		p, err := Search(dir, nil, Options{Before: before, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if page == 0 {
			if n := len(p.End.marks); n != 3 {
				t.Fatalf("End has %d files, want 3", n)
			}
		}
		if page == 1 {
			// A rotation between pages: hub.log.2 is deleted as the oldest
			// of three, the others shift, and a new hub.log starts.
			os.Rename(filepath.Join(dir, FileName+".1"), filepath.Join(dir, FileName+".2"))
			os.Rename(filepath.Join(dir, FileName), filepath.Join(dir, FileName+".1"))
			appendTo(t, filepath.Join(dir, FileName), num(33, 35)...)
		}
		page := raws(p.Lines)
		slices.Reverse(page)
		got = append(got, page...)
		if p.Older.IsZero() {
			break
		}
		before = p.Older
	}
	// Lines 0–9 went with the deleted hub.log.2, while page 2 was read from
	// hub.log.1 (then hub.log.2).
	want := num(10, 33)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("pages gave\n%q\nwant\n%q", got, want)
	}
}

func TestSearchGoneAndPartial(t *testing.T) {
	var lines []string
	for i := range 3000 {
		lines = append(lines, jl(i, "INFO", "rpc", fmt.Sprintf("line %04d %s", i, strings.Repeat("x", 60))))
	}
	dir := writeFiles(t, map[string][]string{FileName: lines})
	// A budget of three blocks finds no "needle" and says where to go on.
	p, err := Search(dir, compile(t, Query{Text: "needle"}), Options{Budget: 3 * scanBlock})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Partial || p.Older.IsZero() || p.Scanned != 3*scanBlock || len(p.Lines) != 0 {
		t.Fatalf("Partial %v, Older %v, Scanned %d, %d lines; want a partial page of 3 blocks, no lines", p.Partial, p.Older, p.Scanned, len(p.Lines))
	}
	// Going on from there finds line 0000 and nothing after it.
	appendTo(t, filepath.Join(dir, FileName), "needle at the end")
	p2, err := Search(dir, compile(t, Query{Text: "line 0000 "}), Options{Before: p.Older})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Lines) != 1 || p2.Partial || !p2.Older.IsZero() {
		t.Errorf("second page: %q partial=%v older=%v; want line 0000 only, the end", raws(p2.Lines), p2.Partial, p2.Older)
	}
	// A mark in a file that is gone.
	os.Remove(filepath.Join(dir, FileName))
	appendTo(t, filepath.Join(dir, FileName), "new file")
	p3, err := Search(dir, nil, Options{Before: p.Older})
	if err != nil || !p3.Gone || len(p3.Lines) != 0 {
		t.Errorf("after removal: Gone %v, %d lines, %v; want Gone", p3.Gone, len(p3.Lines), err)
	}
}

func TestSearchBounds(t *testing.T) {
	mib := strings.Repeat("m", 1<<20)
	huge := strings.Repeat("h", MaxLine+5000)
	fields := `{"ts":"2026-12-01T17:05:00Z","level":"INFO","event":"hook"`
	for i := range 100 {
		fields += fmt.Sprintf(`,"f%03d":"v"`, i)
	}
	fields += `,"big":"` + strings.Repeat("b", 20000) + `"}`
	dir := writeFiles(t, map[string][]string{FileName: {
		huge, // first in the file
		"before",
		jl(0, "ERROR", "hook", mib),
		fields,
		"after",
	}})
	p, err := Search(dir, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Lines) != 5 {
		t.Fatalf("%d lines, want 5", len(p.Lines))
	}
	h, b, e, fl, a := p.Lines[0], p.Lines[1], p.Lines[2], p.Lines[3], p.Lines[4]
	if !h.Plain || len(h.Raw) != MaxText || h.Cut != int64(len(huge)-MaxText) {
		t.Errorf("huge line: plain %v, %d bytes, cut %d; want plain, %d bytes, cut %d", h.Plain, len(h.Raw), h.Cut, MaxText, len(huge)-MaxText)
	}
	if b.Raw != "before" || a.Raw != "after" {
		t.Errorf("neighbours %q and %q", b.Raw, a.Raw)
	}
	// The 1 MiB JSON line is parsed whole, then clipped.
	if e.Plain || e.Level != "ERROR" || len(e.Msg) != MaxText || len(e.Raw) != MaxText || e.Cut == 0 {
		t.Errorf("1 MiB line: plain %v level %q msg %d raw %d cut %d", e.Plain, e.Level, len(e.Msg), len(e.Raw), e.Cut)
	}
	if len(fl.Fields) != MaxFields {
		t.Errorf("%d fields kept, want %d", len(fl.Fields), MaxFields)
	}
	if _, ok := fl.Fields["f000"]; !ok {
		t.Error("the first field by name was not kept")
	}
	if n := len(fl.Fields["big"]); n != MaxText {
		t.Errorf("field big: %d bytes, want %d", n, MaxText)
	}
}

func TestSearchLeavesOutWhatIsBeingWritten(t *testing.T) {
	dir := writeFiles(t, map[string][]string{FileName: {"done"}})
	f, _ := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"ts":"2026-12-01T17:05:00Z","lev`)
	f.Close()
	p, err := Search(dir, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := raws(p.Lines); !slices.Equal(got, []string{"done"}) {
		t.Errorf("lines %q, want only the complete one", got)
	}
	if len(p.End.marks) != 1 || p.End.marks[0].off != int64(len("done\n")) {
		t.Errorf("End %v, want the end of the complete line (5)", p.End)
	}
}

func TestSearchRefusesWhatIsNotAFile(t *testing.T) {
	dir := writeFiles(t, map[string][]string{FileName: {"visible"}})
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("secret line\n"), 0o600)
	if err := os.Symlink(secret, filepath.Join(dir, FileName+".1")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	p, err := Search(dir, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := raws(p.Lines); !slices.Equal(got, []string{"visible"}) {
		t.Errorf("lines %q, want only hub.log's", got)
	}
	if !slices.Equal(p.Refused, []string{"hub.log.1 is a symbolic link"}) {
		t.Errorf("Refused %q", p.Refused)
	}
	files, err := Files(dir)
	if err != nil || len(files) != 2 || files[1].Refused != "is a symbolic link" || files[0].Size != int64(len("visible\n")) {
		t.Errorf("Files = %+v, %v", files, err)
	}
	if _, _, err := OpenFile(dir, FileName+".1"); err == nil {
		t.Error("OpenFile followed the link")
	}
	if _, _, err := OpenFile(dir, "../secret"); err == nil {
		t.Error("OpenFile opened a name that is no hub log")
	}
}

func TestBackScanner(t *testing.T) {
	long := strings.Repeat("L", MaxLine+3*scanBlock+17)
	tests := []struct {
		name    string
		content string
		want    []string // newest first
		offs    []int64
	}{
		{"lines", "a\nbb\nccc\n", []string{"ccc", "bb", "a"}, []int64{5, 2, 0}},
		{"blank kept", "a\n\nb\n", []string{"b", "", "a"}, []int64{3, 2, 0}},
		{"no last line end", "a\nb", []string{"b", "a"}, []int64{2, 0}},
		{"long line first", long + "\nz\n", []string{"z", long[:MaxLine]}, []int64{int64(len(long) + 1), 0}},
		{"long line between", "a\n" + long + "\nz\n", []string{"z", long[:MaxLine], "a"}, []int64{int64(len(long) + 3), 2, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader([]byte(tt.content))
			sc := newBackScanner(r, int64(len(tt.content)), 1<<30)
			var got []string
			var offs []int64
			for {
				l, ok := sc.next()
				if !ok {
					break
				}
				got, offs = append(got, string(l.b)), append(offs, l.off)
			}
			if sc.err != nil {
				t.Fatal(sc.err)
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(offs, tt.offs) {
				t.Errorf("lines %.60q at %v, want %.60q at %v", got, offs, tt.want, tt.offs)
			}
		})
	}
}
