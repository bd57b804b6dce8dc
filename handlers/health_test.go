package handlers

import (
	"boneyard/internal/state"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"boneyard/internal/collector"
	"boneyard/internal/hubtest"
	"boneyard/registry"
)

// TestBeforeFirstCollection: until the collector has looked once, pages say
// so instead of claiming an empty registry, and the API refuses to answer.
func TestBeforeFirstCollection(t *testing.T) {
	hubtest.SetHome(t)
	t.Setenv(state.TokenEnv, "")
	e := &env{t: t, home: t.TempDir(), col: collector.New(collector.Options{Interval: time.Hour})}
	srv, err := New(e.config(testPort))
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv

	body := e.get("/").Body.String()
	mustContain(t, body, `id="collecting"`, `id="health"`, "Collecting the first look", "cannot be determined right now")
	mustNotContain(t, body, `id="empty-state"`, "No hub process runs without a registry entry")

	tests := []struct {
		target string
		code   int
		want   string
	}{
		{"/api/workspaces", http.StatusServiceUnavailable, "still collecting"},
		{"/api/processes", http.StatusServiceUnavailable, "still collecting"},
		{"/workspaces/0123456789abcdef", http.StatusServiceUnavailable, "not finished its first look"},
	}
	for _, tt := range tests {
		w := e.get(tt.target)
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) || w.Header().Get("Retry-After") == "" {
			t.Errorf("GET %s: %d, Retry-After %q, body %s; want %d with %q", tt.target, w.Code, w.Header().Get("Retry-After"), w.Body.String(), tt.code, tt.want)
		}
	}
	assertJSONError(t, e.get("/api/workspaces").Body.Bytes())

	// The first collection clears the note and shows the empty state.
	e.refresh()
	body = e.get("/").Body.String()
	mustContain(t, body, `id="empty-state"`)
	mustNotContain(t, body, `id="collecting"`, "Collecting the first look")
	if w := e.get("/api/workspaces"); w.Code != http.StatusOK {
		t.Errorf("GET /api/workspaces after the first collection: %d", w.Code)
	}
}

func assertJSONError(t *testing.T, body []byte) {
	t.Helper()
	var v map[string]string
	if err := json.Unmarshal(body, &v); err != nil || v["error"] == "" {
		t.Errorf("body %s is not a JSON error: %v", body, err)
	}
}

// TestRegistryUnreadable: with a file where the registry directory belongs,
// the pages show the error with what to do, and the API answers 503 rather
// than an empty list.
func TestRegistryUnreadable(t *testing.T) {
	e := newEnv(t, false)
	dir := e.workspace("kept")
	id := e.idle(dir, "kept")
	e.refresh()
	if err := os.RemoveAll(registry.RegistryDir()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(registry.RegistryDir(), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	snap := e.refresh()
	if snap.ListErr == nil {
		t.Fatal("the collector listed a registry that is a regular file")
	}

	body := e.get("/").Body.String()
	mustContain(t, body, `role="alert"`, "The dashboard is incomplete.", "list registry", "~/.bones/workspaces",
		"is a directory you can read and write", `id="unlisted"`)
	mustNotContain(t, body, `id="empty-state"`)

	tests := []struct {
		target string
		code   int
	}{
		{"/api/workspaces", http.StatusServiceUnavailable},
		{"/api/processes", http.StatusServiceUnavailable},
		{"/workspaces/" + id, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		w := e.get(tt.target)
		if w.Code != tt.code || !strings.Contains(w.Body.String(), "registry") {
			t.Errorf("GET %s: %d %s; want %d naming the registry", tt.target, w.Code, w.Body.String(), tt.code)
		}
	}
	assertJSONError(t, e.get("/api/workspaces").Body.Bytes())

	// Repaired, everything answers again and the banner goes.
	if err := os.Remove(registry.RegistryDir()); err != nil {
		t.Fatal(err)
	}
	e.idle(dir, "kept")
	e.refresh()
	body = e.get("/").Body.String()
	mustNotContain(t, body, `role="alert"`, `id="unlisted"`)
	for _, target := range []string{"/api/workspaces", "/api/processes", "/workspaces/" + id} {
		if w := e.get(target); w.Code != http.StatusOK {
			t.Errorf("GET %s after repair: %d", target, w.Code)
		}
	}
}

// TestLiveUpdateShowsHealth: a stream that saw the collecting page, then
// the empty registry, then a failure gets the banner and section each time.
func TestLiveUpdateShowsHealth(t *testing.T) {
	before := &collector.Snapshot{}
	empty := &collector.Snapshot{Seq: 1}
	broken := &collector.Snapshot{Seq: 2, Err: fmt.Errorf("list registry: boom"), ListErr: fmt.Errorf("list registry: boom")}
	steps := []struct {
		name       string
		prev, next *collector.Snapshot
		want       []string
	}{
		{"first collection", before, empty, []string{`id="health" hx-swap-oob="true"`, `id="empty-state"`}},
		{"listing fails", empty, broken, []string{`role="alert"`, "boom", `id="unlisted"`}},
		{"listing back", broken, empty, []string{`id="health" hx-swap-oob="true"`, `id="empty-state"`}},
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
			mustContain(t, string(diff), st.want...)
		})
	}
}

// TestOrphanSectionFiltered: the status and text filters apply to the
// process-only orphans too, and the section says how many it hides.
func TestOrphanSectionFiltered(t *testing.T) {
	e := newEnv(t, false)
	e.idle(e.workspace("registered"), "registered")
	lost := e.workspace("lost-one")
	h := startHub(t, "serve", lost, false)
	snap := e.refresh()
	row := fmt.Sprintf(`<tr id="proc-%d"`, h.PID)
	// Hub processes of anything else running on this host are orphans here
	// too; a query that keeps only ours then hides them, which is right.
	others := len(snap.Orphans) > 1
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
		body := e.get("/" + tt.query).Body.String()
		if got := strings.Contains(body, row); got != tt.shown {
			t.Errorf("GET /%s: orphan row shown %v, want %v", tt.query, got, tt.shown)
		}
		if got := strings.Contains(body, `id="orphans-hidden"`); got != tt.hidden && !(got && others) {
			t.Errorf("GET /%s: hidden note %v, want %v", tt.query, got, tt.hidden)
		}
		if tt.hidden {
			mustContain(t, body, "hidden by the filter")
			mustNotContain(t, body, "No hub process runs without a registry entry")
		}
	}
}
