package handlers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTailFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"short", "a\nb\n", "a\nb"},
		{"empty", "", ""},
		{"long", strings.Repeat("x\n", 300) + "last\n", strings.TrimSuffix(strings.Repeat("x\n", 199), "\n") + "\nlast"},
		{"huge line cut", strings.Repeat("y", 300<<10) + "\nend\n", "end"},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := tailFile(p, 200)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v", tt.name, got, err)
		}
	}
}

func TestCleanLog(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"\x1b[32mINFO\x1b[0m ready", "INFO ready"},
		{"\x1b[1;31;40mERR\x1b[K\x1b[2J", "ERR"},
		{"\x1b]0;title\x07text \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "text link"},
		{"a\tb\r\nc\x00\x07\x08d\x1b(B", "a\tb\ncd"},
		{"bad \xff utf-8 \u009b", "bad \uFFFD utf-8 "},
		{"plain <b> text", "plain <b> text"},
	}
	for _, tt := range tests {
		if got := cleanLog(tt.in); got != tt.want {
			t.Errorf("cleanLog(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
