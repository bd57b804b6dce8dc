package hublog

import "testing"

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\x1b[32mINFO\x1b[0m ready", "INFO ready"},
		{"\x1b[1;31;40mERR\x1b[K\x1b[2J", "ERR"},
		{"\x1b]0;title\x07text \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "text link"},
		{"a\tb\r\nc\x00\x07\x08d\x1b(B", "a\tb\ncd"},
		{"bad \xff utf-8 \u009b", "bad \uFFFD utf-8 "},
		{"plain <b> text", "plain <b> text"},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
