package hublog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"boneyard/internal/safefile"
)

// writeLog writes content to a fresh file and returns its path.
func writeLog(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// numbered returns lines "line 0000" … of width 9 (10 bytes with the
// line end).
func numbered(from, to int) []string {
	var lines []string
	for i := from; i < to; i++ {
		lines = append(lines, fmt.Sprintf("line %04d", i))
	}
	return lines
}

func TestTail(t *testing.T) {
	mib := strings.Repeat("y", 1<<20)
	tests := []struct {
		name      string
		content   string
		n         int
		max       int64
		want      []string
		truncated bool
		read      int64 // bytes read; 0: not checked
	}{
		{name: "last two", content: "a\nb\nc\n", n: 2, want: []string{"b", "c"}, truncated: true},
		{name: "all of a short file", content: "a\nb\nc\n", n: 10, want: []string{"a", "b", "c"}},
		{name: "n 0 takes the budget", content: "a\nb\nc\n", want: []string{"a", "b", "c"}},
		{name: "no final line end", content: "a\nb", n: 5, want: []string{"a", "b"}},
		{name: "empty lines kept", content: "a\n\nb\n", n: 5, want: []string{"a", "", "b"}},
		{name: "empty file", content: "", n: 5},
		{name: "only a line end", content: "\n", n: 5},
		{
			name: "many blocks, few lines", content: strings.Join(numbered(0, 20000), "\n") + "\n", n: 3,
			want: numbered(19997, 20000), truncated: true, read: blockSize,
		},
		{
			name: "across blocks", content: strings.Join(numbered(0, 5000), "\n") + "\n", n: 2000,
			want: numbered(3000, 5000), truncated: true, read: 2 * blockSize,
		},
		{
			name: "budget cuts", content: strings.Join(numbered(0, 1000), "\n") + "\n", n: 500, max: 1005,
			want: numbered(900, 1000), truncated: true, read: 1005,
		},
		{
			name: "1 MiB line before", content: "first\n" + mib + "\nlast one\n", n: 10,
			want: []string{"last one"}, truncated: true, read: DefaultMaxBytes,
		},
		{
			name: "1 MiB line last", content: "first\n" + mib + "\n", n: 10,
			truncated: true, read: DefaultMaxBytes,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := Tail(writeLog(t, tt.content), tt.n, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ex.Lines, tt.want) {
				t.Errorf("lines %.200q, want %.200q", ex.Lines, tt.want)
			}
			if ex.Truncated != tt.truncated {
				t.Errorf("Truncated = %v, want %v", ex.Truncated, tt.truncated)
			}
			if ex.Size != int64(len(tt.content)) {
				t.Errorf("Size = %d, want %d", ex.Size, len(tt.content))
			}
			if tt.read != 0 && ex.BytesRead != tt.read {
				t.Errorf("BytesRead = %d, want %d", ex.BytesRead, tt.read)
			}
		})
	}
}

func TestTailRefuses(t *testing.T) {
	dir := t.TempDir()
	target := writeLog(t, "secret\n")
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{"symlink", link, safefile.ErrSymlink},
		{"directory", dir, safefile.ErrNotRegular},
		{"missing", filepath.Join(dir, "none.log"), fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Tail(tt.path, 10, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Tail(%s) = %v, want %v", tt.name, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// sizedLog writes a file of size bytes whose last tail bytes are numbered
// lines; before them it is a hole when sparse, or more lines.
func sizedLog(t testing.TB, size, tail int64, sparse bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := strings.Repeat("z", 99) + "\n"
	if sparse {
		if err := f.Truncate(size - tail); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(size-tail, 0); err != nil {
			t.Fatal(err)
		}
	} else {
		tail = size
	}
	body := []byte(strings.Repeat(line, int(tail)/len(line)))
	if _, err := f.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTailCostIndependentOfSize: the tail of a 1 GiB (sparse) log costs
// the bytes of a 10 MiB one's.
func TestTailCostIndependentOfSize(t *testing.T) {
	small := sizedLog(t, 10<<20, 0, false)
	big := sizedLog(t, 1<<30, 1<<20, true)
	a, err := Tail(small, 200, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Tail(big, 200, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Lines) != 200 || len(b.Lines) != 200 {
		t.Fatalf("got %d and %d lines, want 200 each", len(a.Lines), len(b.Lines))
	}
	// 200 lines of 100 bytes need two 16 KiB blocks.
	if a.BytesRead != 2*blockSize || b.BytesRead != 2*blockSize {
		t.Errorf("read %d bytes of 10 MiB and %d of 1 GiB, want %d each", a.BytesRead, b.BytesRead, 2*blockSize)
	}
}

// BenchmarkTail reads the last 200 lines of a 10 MiB log and of a 1 GiB
// sparse one, reporting the bytes read: with Tail (for verdicts), and as
// the log console's newest page (Search, which also parses the lines and
// reads on to find the time plain lines inherit).
func BenchmarkTail(b *testing.B) {
	readers := []struct {
		name string
		read func(path string) (lines int, read int64, err error)
	}{
		{"Tail", func(path string) (int, int64, error) {
			ex, err := Tail(path, 200, 0)
			return len(ex.Lines), ex.BytesRead, err
		}},
		{"Search", func(path string) (int, int64, error) {
			p, err := Search(filepath.Dir(path), nil, Options{Limit: 200})
			return len(p.Lines), p.Scanned, err
		}},
	}
	for _, size := range []struct {
		name string
		size int64
	}{{"10MiB", 10 << 20}, {"1GiB", 1 << 30}} {
		path := sizedLog(b, size.size, 1<<20, size.size > 10<<20)
		for _, r := range readers {
			b.Run(r.name+"/"+size.name, func(b *testing.B) {
				var lines int
				var read int64
				for b.Loop() {
					var err error
					if lines, read, err = r.read(path); err != nil {
						b.Fatal(err)
					}
				}
				if lines != 200 {
					b.Fatalf("%d lines, want 200", lines)
				}
				b.ReportMetric(float64(read), "bytes-read/op")
			})
		}
	}
}
