package handlers

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

func TestTitle(t *testing.T) {
	t.Parallel()
	ws := func(st ...collector.Status) []collector.Workspace {
		var out []collector.Workspace
		for _, s := range st {
			out = append(out, collector.Workspace{Status: s})
		}
		return out
	}
	tests := []struct {
		snap collector.Snapshot
		page []string
		want string
	}{
		{collector.Snapshot{}, nil, "boneyard"},
		{collector.Snapshot{Workspaces: ws(collector.StatusRunning, collector.StatusIdle, collector.StatusUnknown)}, nil, "boneyard"},
		{collector.Snapshot{Workspaces: ws(collector.StatusStopped, collector.StatusRunning)}, nil, "(1) boneyard"},
		{collector.Snapshot{Workspaces: ws(collector.StatusStopped, collector.StatusOrphan), Orphans: make([]collector.Orphan, 3)}, nil, "(5) boneyard"},
		{collector.Snapshot{Orphans: make([]collector.Orphan, 1)}, nil, "(1) boneyard"},
		{collector.Snapshot{Workspaces: ws(collector.StatusStopped)}, []string{"api"}, "(1) api · boneyard"},
	}
	for _, tt := range tests {
		if got := title(&tt.snap, tt.page...); got != tt.want {
			t.Errorf("title = %q, want %q", got, tt.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "just now"},
		{3 * time.Minute, "3m ago"},
		{2*time.Hour + 5*time.Minute, "2h 5m ago"},
		{50 * time.Hour, "2d 2h ago"},
	}
	for _, tt := range tests {
		if got := ago(tt.d); got != tt.want {
			t.Errorf("ago(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	f := formatter{home: "/home/me"}
	for in, want := range map[string]string{
		"/home/me/src/x": "~/src/x", "/home/me": "~", "/home/meta/x": "/home/meta/x", "/srv/x": "/srv/x",
	} {
		if got := f.path(in); got.Short != want || got.Full != in {
			t.Errorf("path(%q) = %+v, want short %q", in, got, want)
		}
	}
	if got := (formatter{}).path("/home/me/x"); got.Short != "/home/me/x" {
		t.Errorf("without a home directory path = %+v, want it whole", got)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.now = now
	if s := f.stamp(now.Add(-3 * time.Minute)); s.Rel != "3m ago" || s.UTC != "2026-01-02T03:01:05Z" {
		t.Errorf("stamp: %+v", s)
	}
	if got := bytesIEC(35 << 20); got != "35.0 MiB" {
		t.Errorf("bytesIEC: %q", got)
	}
	for _, tt := range []struct {
		l    collector.LockState
		want string
	}{
		{collector.LockState{}, "free"},
		{collector.LockState{Held: true, PID: 42}, "held by pid 42"},
		{collector.LockState{Held: true}, "held (holder unknown)"},
	} {
		if got := lockText(tt.l); got != tt.want {
			t.Errorf("lockText(%+v) = %q, want %q", tt.l, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n          int
		noun, want string
	}{
		{0, "workspace", "0 workspaces"}, {1, "workspace", "1 workspace"}, {1, "process", "1 process"}, {3, "process", "3 processes"},
	} {
		if got := plural(tt.n, tt.noun); got != tt.want {
			t.Errorf("plural(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}

func TestLongPathsAreElided(t *testing.T) {
	t.Parallel()
	f := formatter{home: "/home/me"}
	long := "/home/me/src/github.com/example-org/monorepo/services/payments/internal/workers/nightly"
	tests := []struct{ in, want string }{
		{"/home/me/src/x", "~/src/x"},
		{"/tmp/short/ws", "/tmp/short/ws"},
		{long, "~/…/monorepo/services/payments/internal/workers/nightly"},
		{"/srv/" + strings.Repeat("a", 70), "/srv/" + strings.Repeat("a", 70)},
		{"/srv/" + strings.Repeat("a", 70) + "/ws", "/srv/…/ws"},
	}
	for _, tt := range tests {
		got := f.path(tt.in)
		if got.Short != tt.want || got.Full != tt.in || got.Elided != strings.Contains(tt.want, "…") {
			t.Errorf("path(%q) = %+v, want short %q", tt.in, got, tt.want)
		}
		if n := utf8.RuneCountInString(got.Short); n > 60 && got.Short != got.Full {
			t.Errorf("path(%q) = %q: %d characters, over 60", tt.in, got.Short, n)
		}
	}
}

func TestElidedPathIsReadInFull(t *testing.T) {
	t.Parallel()
	long := "/home/me/src/github.com/example-org/monorepo/services/payments/internal/workers/nightly"
	p := formatter{home: "/home/me"}.path(long)
	row, err := renderHTML(t.Context(), templates.WorkspaceRow(templates.Row{ID: "0123456789abcdef", Name: "n", Cwd: p}, "/", false))
	if err != nil {
		t.Fatal(err)
	}
	// A row parses only inside its table.
	d := parseDOM(t, "<table><tbody>"+string(row)+"</tbody></table>")
	cell := d.one("tr#ws-0123456789abcdef td.cwd span.path")
	if got := val(cell, "title"); got != long {
		t.Errorf("title %q, want the full path", got)
	}
	shown := d.in(cell).one(`span[aria-hidden=true]`)
	if got := text(shown); got != "~/…/monorepo/services/payments/internal/workers/nightly" {
		t.Errorf("shown %q", got)
	}
	// Lines may break after each slash.
	var parts []string
	for c := shown.FirstChild; c != nil; c = c.NextSibling {
		parts = append(parts, c.Data)
	}
	if got := strings.Join(parts[:4], "|"); got != "~/|wbr|…/|wbr" {
		t.Errorf("shown as %q, want a break opportunity after each slash", got)
	}
	if got := text(d.in(cell).one("span.sr-only")); got != long {
		t.Errorf("read out as %q, want the full path", got)
	}
}
