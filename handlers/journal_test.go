package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boneyard/internal/collector"
	"boneyard/internal/hubtest"
	"boneyard/internal/journal"
	"boneyard/lock"
	"boneyard/registry"

	"golang.org/x/net/html"
)

// bonesHub plays a hub that lives as bones does: its own entry, hub.pid
// and lifecycle lines in hub.log, and on SIGTERM a logged stop that removes
// both; a SIGKILL leaves them.
func bonesHub() int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return hubtest.Hub{
		Handler:  http.NotFoundHandler(),
		StateDir: lock.StateDir(cwd),
		OnReady: func(url string) error {
			return registry.Write(registry.Entry{Cwd: cwd, Name: filepath.Base(cwd), HubPID: os.Getpid(), StartedAt: time.Now().UTC(), HubURL: url})
		},
		OnTerm: func() { registry.RemoveEntry(registry.Entry{Cwd: cwd, HubPID: os.Getpid()}) },
	}.Run()
}

// newJournalEnv is newEnv with a journal in the home's .bones/boneyard; the
// collector runs (run) with its exit watcher, or is refreshed by the test.
// opts, if given, changes the collector's options.
func newJournalEnv(t testing.TB, run bool, opts ...func(*collector.Options)) *env {
	t.Helper()
	takeSlot(t)
	e := newHomeEnv(t)
	j, err := journal.Open(filepath.Join(e.home, ".bones", "boneyard"), journal.Options{StateDir: lock.StateDir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	o := collector.Options{Registry: e.reg, Interval: time.Hour, Debounce: 5 * time.Millisecond, Scan: e.scan, Journal: j}
	for _, f := range opts {
		f(&o)
	}
	e.col = collector.New(o)
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.col.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done; j.Close() })
	} else {
		t.Cleanup(func() { j.Close() })
	}
	e.start()
	e.refresh()
	return e
}

// until refreshes until ok holds of the snapshot, within a bounded wait.
func (e *env) until(what string, ok func(*collector.Snapshot) bool) *collector.Snapshot {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.refresh()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no snapshot with %s within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// diedHub starts a bones-like hub in a new workspace, kills it and waits
// until the workspace is down; it returns the workspace's directory, id
// and the dead hub's pid.
func (e *env) diedHub(name string) (dir, id string, pid int) {
	e.t.Helper()
	dir = e.workspace(name)
	id = registry.WorkspaceID(dir)
	h := startHub(e.t, "bones", dir, true)
	e.until(name+" running", func(s *collector.Snapshot) bool {
		w, ok := s.Workspace(id)
		return ok && w.Status == collector.StatusRunning
	})
	h.Kill()
	e.until(name+" down", func(s *collector.Snapshot) bool { _, ok := s.DownWorkspace(id); return ok })
	return dir, id, h.PID
}

// TestDownRowActivityAndAcknowledge shows a hub's death on the dashboard:
// the down row with its cause, the count in the title and the badge, the
// activity, and the acknowledgement that clears the count.
func TestDownRowActivityAndAcknowledge(t *testing.T) {
	t.Parallel()
	e := newJournalEnv(t, false)
	_, id, pid := e.diedHub("api")

	d := e.page("/", http.StatusOK)
	row := d.in(d.one("tr#ws-" + id))
	tr := d.one("tr#ws-" + id)
	if val(tr, "data-status") != "down" || val(tr, "data-death") != "unacknowledged" {
		t.Errorf("row attributes %v, want down with an unacknowledged death", tr.Attr)
	}
	wantText(t, row.one(".down-summary"), "hub died ", "(killed: no clean stop in hub.log; last line: hub: ready)")
	wantNone(t, row, "form[action$=reap]", "form[action$=remove]")
	row.one("form[action=\"/workspaces/" + id + "/ack\"]")
	row.one("form[action=\"/workspaces/" + id + "/forget\"]")
	if got := titleOf(d); got != "(1) boneyard" {
		t.Errorf("title %q, want (1) boneyard", got)
	}
	if href := val(d.one("link#favicon"), "href"); href != "/favicon/1" {
		t.Errorf("favicon %q, want /favicon/1", href)
	}
	if got := countsOf(d)["down"]; got != "1" {
		t.Errorf("down count %q, want 1", got)
	}
	var kinds []string
	for _, li := range d.all("ol#activity-list li") {
		kinds = append(kinds, val(li, "data-kind"))
	}
	if strings.Join(kinds, " ") != "hub-died hub-started" {
		t.Errorf("activity %v, want hub-died, hub-started", kinds)
	}
	wantText(t, d.one("ol#activity-list li[data-kind=hub-died]"), "api", fmt.Sprintf("pid %d", pid), "killed: no clean stop in hub.log")
	notice := d.one("ul#notices li")
	if val(notice, "data-title") != "api" || !strings.HasPrefix(val(notice, "data-body"), "hub died (killed:") || val(notice, "data-url") != "/workspaces/"+id {
		t.Errorf("notice %v, want the death of api", notice.Attr)
	}

	// Filtered by kind, bookmarkably; an unknown kind is said to be ignored.
	d = e.page("/?kind=hub-started", http.StatusOK)
	if n := len(d.all("ol#activity-list li")); n != 1 || !d.has("ol#activity-list li[data-kind=hub-started]") {
		t.Errorf("kind=hub-started lists %d events, want the start only", n)
	}
	if val(d.one("select#activity-kind option[selected]"), "value") != "hub-started" {
		t.Error("the kind filter does not show its choice")
	}
	d.one("form#filter-form input[name=kind][value=hub-started]")
	d = e.page("/?kind=bogus", http.StatusOK)
	wantText(t, d.one("#view-note"), `unknown event kind "bogus": showing every kind`)

	w := e.post("/workspaces/"+id+"/ack", url.Values{"back": {"/"}}, true)
	if w.Code != http.StatusOK {
		t.Fatalf("ack: %d %s", w.Code, w.Body)
	}
	wantText(t, parseDOM(t, w.Body.String()).one("#flash"), fmt.Sprintf("Acknowledged the death of the hub of api (pid %d, ", pid))
	d = e.page("/", http.StatusOK)
	if got := titleOf(d); got != "boneyard" {
		t.Errorf("title after the acknowledgement %q, want boneyard", got)
	}
	tr = d.one("tr#ws-" + id)
	if val(tr, "data-status") != "down" || val(tr, "data-death") != "" {
		t.Errorf("row after the acknowledgement %v, want down without a death", tr.Attr)
	}
	if href := val(d.one("link#favicon"), "href"); href != "/static/favicon.svg" {
		t.Errorf("favicon %q, want the plain one", href)
	}
	if rec := e.auditLines(); len(rec) != 1 || rec[0].Action != "acknowledge" || rec[0].Result != "ok" {
		t.Errorf("audit %+v, want one acknowledgement", rec)
	}
	// Nothing left to acknowledge.
	w = e.post("/workspaces/"+id+"/ack", url.Values{"back": {"/"}}, true)
	wantText(t, parseDOM(t, w.Body.String()).one("#flash"), "The hub of api has no death to acknowledge.")
}

// TestDownDetailForgetAndHistory: the page of a down workspace, forgetting
// it, and its page once forgotten.
func TestDownDetailForgetAndHistory(t *testing.T) {
	t.Parallel()
	e := newJournalEnv(t, false)
	dir, id, pid := e.diedHub("web")
	page := "/workspaces/" + id

	d := e.page(page, http.StatusOK)
	if val(d.one("#detail-status"), "data-status") != "down" {
		t.Error("the detail page does not say down")
	}
	wantText(t, d.one("#down-summary"), "hub died ")
	wantText(t, d.one("#detail dl"), "Last hub pid", strconv.Itoa(pid), dir)
	wantNone(t, d, "form[action$=reap]", "form[action$=remove]")
	var kinds []string
	for _, li := range d.all("ol#timeline-list li") {
		kinds = append(kinds, val(li, "data-kind"))
	}
	if strings.Join(kinds, " ") != "hub-died hub-started" {
		t.Errorf("timeline %v, want hub-died, hub-started", kinds)
	}
	if !strings.Contains(rawText(d.one("ol#log-lines")), "hub: ready") {
		t.Error("the hub log is not shown")
	}

	// Without JavaScript, forget asks first.
	w := e.post(page+"/forget", url.Values{"back": {page}}, false)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Confirm forget") {
		t.Fatalf("forget without confirmation: %d, want the confirmation page", w.Code)
	}
	w = e.post(page+"/forget", url.Values{"back": {page}, "confirm": {"yes"}}, false)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("forget: %d to %q, want 303 to the dashboard", w.Code, w.Header().Get("Location"))
	}
	d = e.page("/", http.StatusOK)
	wantNone(t, d, "tr#ws-"+id)
	d.one("#empty-state")

	// Forgotten, its page keeps its history and offers nothing to do.
	d = e.page(page, http.StatusOK)
	d.one("#forgotten")
	if got := titleOf(d); got != "web · boneyard" {
		t.Errorf("title %q, want web · boneyard", got)
	}
	kinds = nil
	for _, li := range d.all("ol#timeline-list li") {
		kinds = append(kinds, val(li, "data-kind"))
	}
	if strings.Join(kinds, " ") != "forgotten hub-died hub-started" {
		t.Errorf("timeline %v, want forgotten, hub-died, hub-started", kinds)
	}
	wantNone(t, d, "#detail form", "#detail button")
	if !strings.Contains(rawText(d.one("ol#log-lines")), "hub: ready") {
		t.Error("the forgotten workspace's log is not shown")
	}
	// A second forget has nothing to forget.
	w = e.post(page+"/forget", url.Values{"back": {"/"}, "confirm": {"yes"}}, true)
	if w.Code != http.StatusNotFound {
		t.Errorf("forgetting again: %d, want 404", w.Code)
	}
}

// TestForgetRefusesARegisteredWorkspace: a workspace in the registry is
// not down, so it cannot be forgotten; nothing changes.
func TestForgetRefusesARegisteredWorkspace(t *testing.T) {
	t.Parallel()
	e := newJournalEnv(t, false)
	id := e.idle(e.workspace("docs"), "docs")
	e.refresh()
	before := e.registryFiles()
	w := e.post("/workspaces/"+id+"/forget", url.Values{"back": {"/"}, "confirm": {"yes"}}, true)
	if w.Code != http.StatusConflict {
		t.Fatalf("forget a registered workspace: %d, want 409", w.Code)
	}
	wantText(t, parseDOM(t, w.Body.String()).one("#flash"), "is still in the registry, so it is not down and cannot be forgotten: remove its entry first")
	if after := e.registryFiles(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("registry changed: %v, was %v", after, before)
	}
	for _, path := range []string{"/workspaces/0000000000000000/ack", "/workspaces/NOTANID/forget"} {
		if w := e.post(path, url.Values{"back": {"/"}, "confirm": {"yes"}}, true); w.Code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, w.Code)
		}
	}
}

// TestCleanStopIsNotADeath: a hub stopped with SIGTERM is down, cleanly,
// with nothing in the title and nothing to announce.
func TestCleanStopIsNotADeath(t *testing.T) {
	t.Parallel()
	e := newJournalEnv(t, false)
	dir := e.workspace("clean")
	id := registry.WorkspaceID(dir)
	h := startHub(t, "bones", dir, true)
	e.until("running", func(s *collector.Snapshot) bool {
		w, ok := s.Workspace(id)
		return ok && w.Status == collector.StatusRunning
	})
	h.Cmd.Process.Signal(syscall.SIGTERM)
	if !h.Exited(10 * time.Second) {
		t.Fatal("the hub did not stop")
	}
	e.until("down", func(s *collector.Snapshot) bool { _, ok := s.DownWorkspace(id); return ok })
	d := e.page("/", http.StatusOK)
	wantText(t, d.one("tr#ws-"+id+" .down-summary"), "hub stopped cleanly ")
	if titleOf(d) != "boneyard" || len(d.all("ul#notices li")) != 0 || d.has("tr#ws-"+id+" form[action$=ack]") {
		t.Errorf("title %q, %d notices: want no count and no notice for a clean stop", titleOf(d), len(d.all("ul#notices li")))
	}
}

func TestAPIEvents(t *testing.T) {
	t.Parallel()
	e := newJournalEnv(t, false)
	_, apiID, apiPID := e.diedHub("api")
	_, webID, _ := e.diedHub("web")

	get := func(query string) (int, []map[string]any, string) {
		w := e.get("/api/events" + query)
		if w.Code != http.StatusOK {
			return w.Code, nil, w.Body.String()
		}
		var body struct {
			Schema struct{ Verb, Version string }
			Data   []map[string]any
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("GET /api/events%s: %v", query, err)
		}
		if body.Schema.Verb != "boneyard.events" || body.Schema.Version != "v1" {
			t.Errorf("schema %+v, want boneyard.events v1", body.Schema)
		}
		return w.Code, body.Data, ""
	}
	kindsOf := func(data []map[string]any) string {
		var ks []string
		for _, ev := range data {
			ks = append(ks, fmt.Sprint(ev["kind"]))
		}
		return strings.Join(ks, " ")
	}
	_, all, _ := get("")
	if got := kindsOf(all); got != "hub-died hub-started hub-died hub-started" {
		t.Errorf("all events %q, want both lives newest first", got)
	}
	for _, key := range []string{"time", "kind", "workspace_id", "name", "cwd", "pid", "detail"} {
		if _, ok := all[0][key]; !ok {
			t.Errorf("event lacks %q: %v", key, all[0])
		}
	}
	_, died, _ := get("?workspace=" + apiID + "&kind=hub-died")
	if len(died) != 1 || died[0]["name"] != "api" || died[0]["pid"] != float64(apiPID) || died[0]["workspace_id"] != apiID {
		t.Errorf("api's deaths %v, want one of pid %d", died, apiPID)
	}
	if _, got, _ := get("?limit=1"); len(got) != 1 || got[0]["workspace_id"] != webID {
		t.Errorf("limit=1: %v, want web's death", got)
	}
	if _, got, _ := get("?since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(got) != 0 {
		t.Errorf("since an hour ahead: %v, want none", got)
	}
	for _, tt := range []struct{ query, msg string }{
		{"?workspace=api", `workspace="api" is not a workspace id`},
		{"?kind=died", `kind="died" is not an event kind: use one of registered, hub-started,`},
		{"?since=yesterday", `since="yesterday" is not an RFC 3339 time`},
		{"?limit=0", `limit="0" is not a number from 1 to 1000`},
		{"?limit=5000", `limit="5000" is not a number from 1 to 1000`},
		{"?ws=x", `unknown parameter "ws"`},
	} {
		code, _, body := get(tt.query)
		var answer struct{ Error string }
		json.Unmarshal([]byte(body), &answer)
		if code != http.StatusBadRequest || !strings.Contains(answer.Error, tt.msg) {
			t.Errorf("GET /api/events%s: %d %s, want 400 saying %q", tt.query, code, body, tt.msg)
		}
	}
}

func TestAPIKnown(t *testing.T) {
	t.Parallel()
	e := newJournalEnv(t, false)
	e.diedHub("api")
	idleDir := e.workspace("docs")
	e.idle(idleDir, "docs")
	e.refresh()
	goneDir, _, _ := e.diedHub("gone")
	if err := os.RemoveAll(goneDir); err != nil {
		t.Fatal(err)
	}
	e.refresh()

	w := e.get("/api/known")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /api/known: %d %s", w.Code, w.Body)
	}
	var body struct {
		Schema struct{ Verb, Version string }
		Data   []struct {
			ID, Name, Cwd, Status string
			LastEvent             *struct{ Kind string } `json:"last_event"`
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Schema.Verb != "boneyard.known" || body.Schema.Version != "v1" {
		t.Errorf("schema %+v", body.Schema)
	}
	var got []string
	for _, k := range body.Data {
		last := "none"
		if k.LastEvent != nil {
			last = k.LastEvent.Kind
		}
		got = append(got, k.Name+"="+k.Status+"/"+last)
	}
	if want := "api=down/hub-died docs=idle/registered gone=gone/hub-died"; strings.Join(got, " ") != want {
		t.Errorf("known %q, want %q", strings.Join(got, " "), want)
	}
	// /api/workspaces stays the registry's.
	var ls struct{ Data []struct{ Name string } }
	if err := json.Unmarshal(e.get("/api/workspaces").Body.Bytes(), &ls); err != nil || len(ls.Data) != 1 || ls.Data[0].Name != "docs" {
		t.Errorf("/api/workspaces %+v (%v), want docs only", ls, err)
	}
}

func TestFavicon(t *testing.T) {
	e := newBareEnv(t)
	t.Parallel()
	for _, tt := range []struct {
		n     string
		code  int
		label string
	}{{"1", 200, ">1</text>"}, {"9", 200, ">9</text>"}, {"10", 200, ">9+</text>"}, {"0", 404, ""}, {"11", 404, ""}, {"01", 404, ""}, {"x", 404, ""}} {
		r := request(http.MethodGet, "/favicon/"+tt.n, nil)
		r.Header.Del("Authorization") // it needs no token
		w := e.serve(r)
		if w.Code != tt.code {
			t.Errorf("GET /favicon/%s: %d, want %d", tt.n, w.Code, tt.code)
			continue
		}
		if tt.code == 200 && (w.Header().Get("Content-Type") != "image/svg+xml" || !strings.Contains(w.Body.String(), tt.label)) {
			t.Errorf("GET /favicon/%s: %q %s, want an SVG with %q", tt.n, w.Header().Get("Content-Type"), w.Body, tt.label)
		}
	}
}

// TestNoticesRoute is what a hidden tab polls: the notices as the page
// carries them.
func TestNoticesRoute(t *testing.T) {
	t.Parallel()
	e := newJournalEnv(t, false)
	_, id, _ := e.diedHub("api")
	w := e.get("/notices")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /notices: %d", w.Code)
	}
	d := parseDOM(t, w.Body.String())
	ul := d.one("ul#notices")
	if val(ul, "data-run") != e.col.Snapshot().NoticeRun || !hasAttr(ul, "hidden") {
		t.Errorf("notices list %v, want this run's, hidden", ul.Attr)
	}
	li := d.one("ul#notices li")
	if val(li, "data-serial") != "1" || val(li, "data-kind") != "hub-died" || val(li, "data-workspace") != id {
		t.Errorf("notice %v, want the first: a death in %s", li.Attr, id)
	}
}

// TestSparklines: a live hub's row and page draw its resources from what
// the periodic collections sampled: a note after one sample, lines after
// more, and axis labels on the page.
func TestSparklines(t *testing.T) {
	t.Parallel()
	// Sampled every 50 ms: an interval that short, over a short history.
	e := newJournalEnv(t, true, func(o *collector.Options) { o.Interval, o.History = 50*time.Millisecond, 5*time.Second })
	dir := e.workspace("busy")
	id := registry.WorkspaceID(dir)
	startHub(t, "bones", dir, true)
	s := e.until("two samples", func(s *collector.Snapshot) bool {
		w, ok := s.Workspace(id)
		return ok && len(s.Series(&w, 10)) >= 2
	})
	w, _ := s.Workspace(id)
	if got := len(s.Series(&w, 3)); got > 3 {
		t.Errorf("Series(3) has %d points", got)
	}
	d := e.page("/", http.StatusOK)
	sparks := d.all("tr#ws-" + id + " svg.spark")
	if len(sparks) != 2 {
		t.Fatalf("%d sparklines in the row, want CPU and memory", len(sparks))
	}
	for i, what := range []string{"CPU since ", "Memory since "} {
		if !strings.HasPrefix(val(sparks[i], "aria-label"), what) || val(sparks[i], "viewBox") != "0 0 60 16" {
			t.Errorf("sparkline %d: %v, want %q in a 60x16 box", i, sparks[i].Attr, what)
		}
		points := strings.Fields(val(d.in(sparks[i]).one("polyline"), "points"))
		if len(points) < 2 || !strings.HasPrefix(points[0], "0.0,") || !strings.HasPrefix(points[len(points)-1], "60.0,") {
			t.Errorf("sparkline %d points %v, want a line across the box", i, points)
		}
	}
	d = e.page("/workspaces/"+id, http.StatusOK)
	charts := d.all("#resources figure.chart")
	if len(charts) != 2 {
		t.Fatalf("%d charts, want 2", len(charts))
	}
	for i, title := range []string{"CPU", "Memory (RSS)"} {
		c := d.in(charts[i])
		wantText(t, c.one("figcaption"), title)
		if n := len(c.all("svg text.axis")); n != 4 {
			t.Errorf("chart %s: %d axis labels, want 4", title, n)
		}
		c.one("svg polyline")
	}
}

func hasAttr(n *html.Node, key string) bool {
	_, ok := attr(n, key)
	return ok
}

// TestEventsTellADeath: an open dashboard is told of a hub's death at
// once: the row turns down, the title counts it, the activity lists it and
// the notices carry it.
func TestEventsTellADeath(t *testing.T) {
	t.Parallel()
	e := newJournalEnv(t, true)
	l := e.listen()
	st := l.stream(t, seqQuery(e))
	dir := e.workspace("api")
	id := registry.WorkspaceID(dir)
	h := startHub(t, "bones", dir, true)
	st.next(t, "tr#ws-"+id+"[data-status=running]")
	h.Kill()
	d := st.next(t, "tr#ws-"+id+"[data-status=down]")
	if got := text(d.one("title")); got != "(1) boneyard" {
		t.Errorf("title %q, want (1) boneyard", got)
	}
	wantText(t, d.one("tr#ws-"+id+" .down-summary"), "hub died ")
	d.one("section#activity[hx-swap-oob] ol#activity-list li[data-kind=hub-died]")
	if li := d.one("ul#notices[hx-swap-oob] li"); val(li, "data-kind") != "hub-died" || val(li, "data-workspace") != id {
		t.Errorf("notice %v, want the death", li.Attr)
	}
	// The workspace's page follows its death too.
	dst := l.stream(t, "id="+id+"&seq=0")
	dd := dst.next(t, "#detail #down-summary")
	dd.one("#detail ol#timeline-list li[data-kind=hub-died]")
}
