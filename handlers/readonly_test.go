package handlers

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"boneyard/registry"
)

// readOnly makes e's server a read-only one over the same collector.
func (e *env) readOnly() *env {
	e.t.Helper()
	cfg := e.config(testPort)
	cfg.ReadOnly = true
	srv, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
	return e
}

// actionForms are the selectors of everything that acts: forms that post,
// htmx posts, the register section, the actions columns, turned-off
// lifecycle buttons, the Clean up button and the note on the bones CLI.
var actionForms = []string{"form[method=post]", "[hx-post]", "[hx-confirm]", "section#register", "th.actions", "td.actions", "button.danger", "button[disabled]", "div#cleanup-link a", "p#bones-cli"}

func TestReadOnlyRendersNoAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	idleID := e.idle(e.workspace("quiet"), "quiet")
	runDir := e.workspace("busy")
	startHub(t, "serve", runDir, true)
	runID := registry.WorkspaceID(runDir)
	orphan := startHub(t, "serve", e.workspace("lost"), false)
	e.refresh()

	// The same workspaces with actions, then without.
	normal := e.page("/", http.StatusOK)
	normal.one("tr#ws-" + runID + " form[method=post][action=\"/workspaces/" + runID + "/reap\"]")
	wantNone(t, normal, "#read-only")

	e.readOnly()
	for _, target := range []string{"/", "/?status=running", "/workspaces/" + runID, "/workspaces/" + idleID, "/cleanup"} {
		t.Run(target, func(t *testing.T) {
			d := e.page(target, http.StatusOK)
			wantText(t, d.one("header #read-only"), "Read-only", "actions are turned off")
			wantNone(t, d, actionForms...)
		})
	}
	d := e.page("/", http.StatusOK)
	d.one("tr#ws-" + idleID + "[data-status=idle]")
	d.one("tr#ws-" + runID + "[data-status=running]")
	d.one(fmt.Sprintf("tr#proc-%d[data-status=orphan]", orphan.PID))
	d.one("form#filter-form[method=get]")
	if n := len(d.all("table#workspaces th[scope=col]")); n != 11 {
		t.Errorf("%d workspace columns, want 11 (no actions column)", n)
	}
	if n := len(d.all("table#orphan-table th[scope=col]")); n != 5 {
		t.Errorf("%d orphan columns, want 5 (no actions column)", n)
	}
	wantNone(t, e.page("/workspaces/"+runID, http.StatusOK), "#detail h2")

	// What live updates and the API send carries no action either.
	full, err := e.srv.dashFull(e.refresh(), view{})
	if err != nil {
		t.Fatal(err)
	}
	live := parseDOM(t, string(full))
	live.one("section#ws-section tr#ws-" + runID)
	wantNone(t, live, actionForms...)
	if w := e.get("/api/workspaces"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), runID) {
		t.Errorf("GET /api/workspaces: %d %s", w.Code, w.Body.String())
	}
}

func TestReadOnlyRefusesChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	idleID := e.idle(e.workspace("quiet"), "quiet")
	runDir := e.workspace("busy")
	h := startHub(t, "serve", runDir, true)
	runID := registry.WorkspaceID(runDir)
	orphan := startHub(t, "serve", e.workspace("lost"), false)
	snap := e.refresh()
	w, _ := snap.Workspace(runID)
	started := w.HubStarted.Format(time.RFC3339Nano)
	e.readOnly()

	anonymous := func(r *http.Request) { r.Header.Del("Authorization") }
	tests := []struct {
		name   string
		method string
		target string
		form   url.Values
		setup  func(r *http.Request)
	}{
		{"register", http.MethodPost, "/workspaces", url.Values{"cwd": {e.workspace("new")}, "name": {"new"}}, nil},
		{"remove", http.MethodPost, "/workspaces/" + idleID + "/remove", url.Values{}, nil},
		{"reap", http.MethodPost, "/workspaces/" + runID + "/reap", url.Values{"pid": {strconv.Itoa(h.PID)}, "create_time": {started}}, nil},
		{"reap a process", http.MethodPost, "/processes/" + strconv.Itoa(orphan.PID) + "/reap", url.Values{}, nil},
		{"a route to come", http.MethodPost, "/workspaces/" + idleID + "/start", url.Values{}, nil},
		{"no route", http.MethodPost, "/nowhere", url.Values{}, nil},
		{"PUT", http.MethodPut, "/", url.Values{}, nil},
		{"DELETE", http.MethodDelete, "/workspaces/" + idleID, nil, nil},
		{"PATCH", http.MethodPatch, "/workspaces/" + idleID, url.Values{}, nil},
		{"without the token", http.MethodPost, "/workspaces/" + idleID + "/remove", url.Values{}, anonymous},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/htmx=%v", tt.name, htmx), func(t *testing.T) {
				before := e.registryFiles()
				form := maps.Clone(tt.form)
				if form != nil {
					form.Set("confirm", "yes")
					form.Set("back", "/")
				}
				r := request(tt.method, tt.target, form)
				if htmx {
					r.Header.Set("HX-Request", "true")
				}
				if tt.setup != nil {
					tt.setup(r)
				}
				w := e.serve(r)
				if w.Code != http.StatusForbidden {
					t.Fatalf("%s %s: %d, want 403: %s", tt.method, tt.target, w.Code, w.Body.String())
				}
				if htmx {
					wantAlert(t, w, true, "this boneyard is read-only", "--read-only")
				} else {
					d := parseDOM(t, w.Body.String())
					wantText(t, d.one("main"), "This boneyard is read-only (started with --read-only)", "changes nothing")
				}
				if !maps.Equal(before, e.registryFiles()) {
					t.Error("a refused request changed the registry")
				}
			})
		}
	}
	w2 := e.serve(request(http.MethodPost, "/api/workspaces", url.Values{}))
	if w2.Code != http.StatusForbidden || !strings.Contains(jsonError(t, w2.Body.Bytes()), "read-only") {
		t.Errorf("POST /api/workspaces: %d %s, want a 403 JSON error saying read-only", w2.Code, w2.Body.String())
	}
	if h.Exited(0) || orphan.Exited(0) {
		t.Fatal("a read-only server signalled a hub")
	}
	if lines := e.auditLines(); len(lines) != 0 {
		t.Errorf("audit log has %d records, want none: nothing was done", len(lines))
	}
}

// TestReadOnlyStillLogsIn: the login form posts, and logging in changes
// nothing of the user's, so a read-only server takes it.
func TestReadOnlyStillLogsIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.readOnly()
	r := request(http.MethodPost, "/login", url.Values{"token": {testToken}, "next": {"/"}})
	r.Header.Del("Authorization")
	w := e.serve(r)
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 1 {
		t.Fatalf("login on a read-only server: %d with %v, want 303 and a session", w.Code, w.Result().Cookies())
	}
}
