package hublog

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	ts := time.Date(2026, 12, 1, 17, 5, 53, 0, time.UTC)
	bigMsg := strings.Repeat("x", 1<<20)
	tests := []struct {
		name string
		raw  string
		want Line
	}{
		{
			name: "lifecycle",
			raw:  `{"ts":"2026-12-01T17:05:53Z","level":"INFO","event":"lifecycle","msg":"hub: starting (pid=934, repo-port=1, coord-port=2)"}`,
			want: Line{Time: ts, Level: "INFO", Event: "lifecycle", Msg: "hub: starting (pid=934, repo-port=1, coord-port=2)"},
		},
		{
			name: "rpc with fields",
			raw:  `{"ts":"2026-12-01T17:05:53Z","level":"INFO","event":"rpc","rpc":"tasks.create","agent":"system","took_ms":12,"ok":true,"meta":{"a": [1, 2]}}`,
			want: Line{Time: ts, Level: "INFO", Event: "rpc", Fields: map[string]string{
				"rpc": "tasks.create", "agent": "system", "took_ms": "12", "ok": "true", "meta": `{"a":[1,2]}`,
			}},
		},
		{
			name: "error with err and CRLF",
			raw:  "{\"ts\":\"2026-12-01T17:05:53Z\",\"level\":\"ERROR\",\"event\":\"error\",\"msg\":\"hub: bring-up failed\",\"err\":\"bind: address in use\"}\r\n",
			want: Line{Time: ts, Level: "ERROR", Event: "error", Msg: "hub: bring-up failed", Fields: map[string]string{"err": "bind: address in use"}},
		},
		{
			name: "plain",
			raw:  "hub: fossil at 127.0.0.1:4000, nats at nats://127.0.0.1:4001",
			want: Line{Msg: "hub: fossil at 127.0.0.1:4000, nats at nats://127.0.0.1:4001", Plain: true},
		},
		{
			name: "panic",
			raw:  "panic: runtime error: invalid memory address or nil pointer dereference",
			want: Line{Msg: "panic: runtime error: invalid memory address or nil pointer dereference", Plain: true},
		},
		{
			name: "JSON without ts",
			raw:  `{"level":"INFO","msg":"no time"}`,
			want: Line{Msg: `{"level":"INFO","msg":"no time"}`, Plain: true},
		},
		{
			name: "ts not a time",
			raw:  `{"ts":"yesterday","msg":"m"}`,
			want: Line{Msg: `{"ts":"yesterday","msg":"m"}`, Plain: true},
		},
		{
			name: "ts a number",
			raw:  `{"ts":1764608753,"msg":"m"}`,
			want: Line{Msg: `{"ts":1764608753,"msg":"m"}`, Plain: true},
		},
		{
			name: "cut JSON",
			raw:  `{"ts":"2026-12-01T17:05:53Z","level":"IN`,
			want: Line{Msg: `{"ts":"2026-12-01T17:05:53Z","level":"IN`, Plain: true},
		},
		{
			name: "JSON array",
			raw:  `["ts"]`,
			want: Line{Msg: `["ts"]`, Plain: true},
		},
		{
			name: "invalid UTF-8 plain",
			raw:  "bad \xff\xfe bytes",
			want: Line{Msg: "bad \uFFFD bytes", Plain: true},
		},
		{
			name: "invalid UTF-8 in JSON",
			raw:  "{\"ts\":\"2026-12-01T17:05:53Z\",\"level\":\"WARN\",\"event\":\"lifecycle\",\"msg\":\"caf\xe9\"}",
			want: Line{Time: ts, Level: "WARN", Event: "lifecycle", Msg: "caf\uFFFD"},
		},
		{
			name: "1 MiB JSON line",
			raw:  `{"ts":"2026-12-01T17:05:53Z","level":"INFO","event":"hook","msg":"` + bigMsg + `"}`,
			want: Line{Time: ts, Level: "INFO", Event: "hook", Msg: bigMsg},
		},
		{
			name: "1 MiB plain line",
			raw:  bigMsg,
			want: Line{Msg: bigMsg, Plain: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.raw)
			wantRaw := strings.TrimRight(strings.ToValidUTF8(tt.raw, "\uFFFD"), "\r\n")
			if got.Raw != wantRaw {
				t.Errorf("Raw = %.80q, want %.80q", got.Raw, wantRaw)
			}
			if !got.Time.Equal(tt.want.Time) || got.Level != tt.want.Level || got.Event != tt.want.Event ||
				got.Msg != tt.want.Msg || got.Plain != tt.want.Plain || !maps.Equal(got.Fields, tt.want.Fields) {
				t.Errorf("Parse = %.200v\nwant    %.200v", got, tt.want)
			}
		})
	}
}

func TestParseLinesPlainTakesTimeBefore(t *testing.T) {
	lines := ParseLines([]string{
		"hub: fossil at 127.0.0.1:1",
		`{"ts":"2026-12-01T17:05:53Z","level":"INFO","event":"lifecycle","msg":"hub: ready"}`,
		"panic: boom",
		"goroutine 1 [running]:",
		`{"ts":"2026-12-01T17:06:00Z","level":"INFO","event":"lifecycle","msg":"hub: starting (pid=2)"}`,
		"after",
	})
	t1 := time.Date(2026, 12, 1, 17, 5, 53, 0, time.UTC)
	t2 := time.Date(2026, 12, 1, 17, 6, 0, 0, time.UTC)
	want := []time.Time{{}, t1, t1, t1, t2, t2}
	for i, l := range lines {
		if !l.Time.Equal(want[i]) {
			t.Errorf("line %d (%q): time %v, want %v", i, l.Raw, l.Time, want[i])
		}
	}
}

func TestLineText(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`{"ts":"2026-12-01T17:05:53Z","level":"INFO","event":"lifecycle","msg":"hub: ready"}`, "hub: ready"},
		{`{"ts":"2026-12-01T17:05:53Z","level":"INFO","event":"rpc","rpc":"tasks.create","agent":"system"}`, "rpc agent=system rpc=tasks.create"},
		{"plain text", "plain text"},
	}
	for _, tt := range tests {
		if got := Parse(tt.raw).Text(); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestParsePanicSpanningLines: every line the Go runtime writes for a
// panic is a panic line, judged alone, and ERROR to a filter; the plain
// lines around it are not.
func TestParsePanicSpanningLines(t *testing.T) {
	tests := []struct {
		raw      string
		panic    bool
		severity string
	}{
		{"hub: fossil at 127.0.0.1:1, nats at nats://127.0.0.1:2", false, "INFO"},
		{"panic: runtime error: invalid memory address or nil pointer dereference", true, "ERROR"},
		{"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a2b3c]", true, "ERROR"},
		{"", false, "INFO"},
		{"goroutine 1 [running]:", true, "ERROR"},
		{"goroutine 18 gp=0xc000102000 m=nil [chan receive]:", true, "ERROR"},
		{"main.(*hub).serve(0xc000010000, {0x7a5e20, 0xc00001e0a0})", true, "ERROR"},
		{"\t/home/u/src/bones/internal/hub/hub.go:214 +0x1d", true, "ERROR"},
		{"main.main()", true, "ERROR"},
		{"created by main.start in goroutine 1", true, "ERROR"},
		{"fatal error: concurrent map writes", true, "ERROR"},
		{"exit status 2", false, "INFO"},
		{"hub: hub: NATS server not ready within 5s", false, "INFO"},
		{`{"ts":"2026-12-01T17:05:53Z","level":"warn","event":"lifecycle","msg":"panic: not a panic"}`, false, "WARN"},
		{`{"ts":"2026-12-01T17:05:53Z","level":"WARNING","event":"lifecycle"}`, false, "WARN"},
		{`{"ts":"2026-12-01T17:05:53Z","level":"NOTICE","event":"lifecycle"}`, false, "INFO"},
		{`{"ts":"2026-12-01T17:05:53Z","level":"DEBUG","event":"rpc"}`, false, "DEBUG"},
	}
	raw := make([]string, len(tests))
	for i, tt := range tests {
		raw[i] = tt.raw
	}
	for i, l := range ParseLines(raw) {
		tt := tests[i]
		if l.Panic != tt.panic || l.Severity() != tt.severity {
			t.Errorf("%q: panic %v severity %s, want %v %s", tt.raw, l.Panic, l.Severity(), tt.panic, tt.severity)
		}
	}
}

func TestQueryCompileRefuses(t *testing.T) {
	tests := []struct {
		q    Query
		want string
	}{
		{Query{Level: "LOUD"}, `unknown level "LOUD": use one of DEBUG, INFO, WARN, ERROR`},
		{Query{Text: "a(b", Regex: true}, `the regular expression is invalid: missing closing ) in "a(b"`},
		{Query{Text: strings.Repeat("x", 201)}, "the search text is 201 bytes long: at most 200 are allowed"},
		{Query{Text: "bad \xff"}, "the search text is not valid UTF-8"},
	}
	for _, tt := range tests {
		_, err := tt.q.Compile()
		if err == nil || err.Error() != tt.want {
			t.Errorf("Compile(%+v) = %v, want %q", tt.q, err, tt.want)
		}
	}
	// A plain text that looks like a regular expression is taken as it is.
	f, err := Query{Text: "a(b"}.Compile()
	if err != nil || !f.Match(Parse("x A(B y")) || f.Match(Parse("ab")) {
		t.Errorf("substring a(b: %v", err)
	}
}
