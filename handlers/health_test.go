package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"boneyard/internal/collector"
)

// TestBeforeFirstCollection: until the collector has looked once, pages say
// so instead of claiming an empty registry, and the API refuses to answer.
func TestBeforeFirstCollection(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	d := e.page("/", http.StatusOK)
	d.one("#collecting")
	wantText(t, d.one("div#health"), "Collecting the first look")
	wantText(t, d.one("section#orphans"), "cannot be determined right now")
	wantNone(t, d, "#empty-state")
	wantNoText(t, d, "No hub process runs without a registry entry")

	tests := []struct {
		target string
		code   int
		want   string
	}{
		{"/api/workspaces", http.StatusServiceUnavailable, "boneyard is still collecting its first snapshot; retry in a second."},
		{"/api/processes", http.StatusServiceUnavailable, "boneyard is still collecting its first snapshot; retry in a second."},
	}
	for _, tt := range tests {
		w := e.get(tt.target)
		if got := jsonError(t, w.Body.Bytes()); w.Code != tt.code || got != tt.want || w.Header().Get("Retry-After") == "" {
			t.Errorf("GET %s: %d, Retry-After %q, error %q; want %d with %q", tt.target, w.Code, w.Header().Get("Retry-After"), got, tt.code, tt.want)
		}
	}
	w := e.get("/workspaces/0123456789abcdef")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("GET a workspace: %d, Retry-After %q; want 503 with one", w.Code, w.Header().Get("Retry-After"))
	}
	wantText(t, parseDOM(t, w.Body.String()).one("main"), "boneyard has not finished its first look at the registry.")
}

// TestFirstCollection: the first collection clears the note and shows the
// empty state.
func TestFirstCollection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	d := e.page("/", http.StatusOK)
	d.one("#empty-state")
	wantNone(t, d, "#collecting")
	wantNoText(t, d, "Collecting the first look")
	if w := e.get("/api/workspaces"); w.Code != http.StatusOK {
		t.Errorf("GET /api/workspaces after the first collection: %d", w.Code)
	}
}

// wantNoText fails if the document's text contains any of bad.
func wantNoText(t testing.TB, d dom, bad ...string) {
	t.Helper()
	got := text(d.root)
	for _, b := range bad {
		if strings.Contains(got, b) {
			t.Errorf("the page says %q", b)
		}
	}
}

// jsonError is the message of an API error answer, "" if it is none.
func jsonError(t testing.TB, body []byte) string {
	t.Helper()
	var v map[string]string
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("body %s is not JSON: %v", body, err)
	}
	return v["error"]
}

// TestRegistryUnreadable: with a file where the registry directory belongs,
// the pages show the error with what to do, and the API answers 503 rather
// than an empty list.
func TestRegistryUnreadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("kept")
	id := e.idle(dir, "kept")
	e.refresh()
	if err := os.RemoveAll(e.reg.Dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.reg.Dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	snap := e.refresh()
	if snap.ListErr == nil {
		t.Fatal("the collector listed a registry that is a regular file")
	}

	d := e.page("/", http.StatusOK)
	wantText(t, d.one("div#health [role=alert]"), "The dashboard is incomplete.", "list registry",
		"Make sure ~/.bones/workspaces is a directory you can read and write")
	d.one("#unlisted")
	wantNone(t, d, "#empty-state")

	tests := []struct {
		target string
		code   int
	}{
		{"/api/workspaces", http.StatusServiceUnavailable},
		{"/api/processes", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		w := e.get(tt.target)
		if got := jsonError(t, w.Body.Bytes()); w.Code != tt.code || !strings.HasPrefix(got, "boneyard cannot list the registry (list registry: ") {
			t.Errorf("GET %s: %d %q; want %d naming the registry", tt.target, w.Code, got, tt.code)
		}
	}
	w := e.get("/workspaces/" + id)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("GET the workspace: %d, want 503", w.Code)
	}
	wantText(t, parseDOM(t, w.Body.String()).one("main"), "boneyard cannot read the registry right now")

	// Repaired, everything answers again and the banner goes.
	if err := os.Remove(e.reg.Dir); err != nil {
		t.Fatal(err)
	}
	e.idle(dir, "kept")
	e.refresh()
	wantNone(t, e.page("/", http.StatusOK), "[role=alert]", "#unlisted")
	for _, target := range []string{"/api/workspaces", "/api/processes", "/workspaces/" + id} {
		if w := e.get(target); w.Code != http.StatusOK {
			t.Errorf("GET %s after repair: %d", target, w.Code)
		}
	}
}

// TestLiveUpdateShowsHealth: a stream that saw the collecting page, then
// the empty registry, then a failure gets the banner and section each time.
func TestLiveUpdateShowsHealth(t *testing.T) {
	t.Parallel()
	before := &collector.Snapshot{}
	empty := &collector.Snapshot{Seq: 1}
	broken := &collector.Snapshot{Seq: 2, Err: fmt.Errorf("list registry: boom"), ListErr: fmt.Errorf("list registry: boom")}
	steps := []struct {
		name       string
		prev, next *collector.Snapshot
		want       []string // selectors
		alert      string   // text of the alert; "" for none
	}{
		{"first collection", before, empty, []string{"div#health[hx-swap-oob=true]", "#empty-state"}, ""},
		{"listing fails", empty, broken, []string{"div#health[hx-swap-oob=true]", "#unlisted"}, "The dashboard is incomplete. list registry: boom"},
		{"listing back", broken, empty, []string{"div#health[hx-swap-oob=true]", "#empty-state"}, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			prev, err := buildDashFragments(st.prev, view{}, formatter{})
			if err != nil {
				t.Fatal(err)
			}
			next, err := buildDashFragments(st.next, view{}, formatter{})
			if err != nil {
				t.Fatal(err)
			}
			diff, err := next.diff(prev)
			if err != nil {
				t.Fatal(err)
			}
			d := parseDOM(t, string(diff))
			for _, sel := range st.want {
				d.one(sel)
			}
			if st.alert == "" {
				wantNone(t, d, "[role=alert]")
			} else {
				wantText(t, d.one("div#health [role=alert]"), st.alert)
			}
		})
	}
}

// TestOrphanSectionFiltered: the status and text filters apply to the
// process-only orphans too, and the section says how many it hides.
func TestOrphanSectionFiltered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.idle(e.workspace("registered"), "registered")
	lost := e.workspace("lost-one")
	h := startHub(t, "serve", lost, false)
	e.refresh()
	row := fmt.Sprintf("tr#proc-%d", h.PID)
	tests := []struct {
		query  string
		shown  bool
		hidden bool // "hidden by the filter" is said
	}{
		{"", true, false},
		{"?status=orphan", true, false},
		{"?q=lost-one", true, false},
		{"?q=LOST-ONE&status=orphan", true, false},
		{"?q=hub+start", true, false}, // matches the command, not the cwd
		{"?status=running", false, true},
		{"?status=idle", false, true},
		{"?q=no-such-path", false, true},
		{"?status=orphan&q=no-such-path", false, true},
	}
	for _, tt := range tests {
		d := e.page("/"+tt.query, http.StatusOK)
		if got := d.has(row); got != tt.shown {
			t.Errorf("GET /%s: orphan row shown %v, want %v", tt.query, got, tt.shown)
		}
		if got := d.has("#orphans-hidden"); got != tt.hidden {
			t.Errorf("GET /%s: hidden note %v, want %v", tt.query, got, tt.hidden)
		}
		if tt.hidden {
			wantText(t, d.one("#orphans-hidden"), "1 hidden by the filter. Show all")
			wantNoText(t, d, "No hub process runs without a registry entry")
		}
	}
}
