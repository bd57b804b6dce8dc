package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"boneyard/internal/collector"
	"boneyard/registry"
	"boneyard/web/templates"
)

// wantText fails unless the text of n contains every want.
func wantText(t testing.TB, n *html.Node, want ...string) {
	t.Helper()
	got := text(n)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("text %q lacks %q", got, w)
		}
	}
}

// wantNone fails if any selector matches.
func wantNone(t testing.TB, d dom, sels ...string) {
	t.Helper()
	for _, sel := range sels {
		if n := len(d.all(sel)); n > 0 {
			t.Errorf("%d elements match %q, want none", n, sel)
		}
	}
}

// titleOf is the document title.
func titleOf(d dom) string { return text(d.one("title")) }

// counts reads the status chips: status -> the number shown.
func countsOf(d dom) map[string]string {
	out := map[string]string{}
	for _, li := range d.all("ul#counts li[data-count]") {
		out[val(li, "data-count")] = text(d.in(li).one("strong"))
	}
	return out
}

// rowOrder lists the workspace rows' ids in table order.
func rowOrder(d dom) []string {
	var ids []string
	for _, tr := range d.all("tbody#ws-body tr") {
		ids = append(ids, strings.TrimPrefix(val(tr, "id"), "ws-"))
	}
	return ids
}

func TestEmptyState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	d := e.page("/", http.StatusOK)
	wantText(t, d.one("#empty-state"), "bones up", "bones hub start")
	if got := titleOf(d); got != "boneyard" {
		t.Errorf("title %q, want boneyard", got)
	}
	for _, sel := range []string{"form#register-form", "input#register-cwd", "input#register-name", "section#orphans",
		"li[data-count=running]", "li[data-count=orphan]", "html[lang=en]"} {
		d.one(sel)
	}
	wantNone(t, d, "table#workspaces")
}

func TestEmptyStateStillShowsOrphanProcesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	h := startHub(t, "serve", e.workspace("lost"), false)
	e.refresh()
	d := e.page("/", http.StatusOK)
	d.one("#empty-state")
	row := d.one(fmt.Sprintf("tr#proc-%d[data-status=orphan]", h.PID))
	d.in(row).one("input[name=create_time]")
	if got := titleOf(d); got != "(1) boneyard" {
		t.Errorf("title %q, want (1) boneyard", got)
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	idleDir := e.workspace("idle-one")
	idleID := e.idle(idleDir, "idle-one")
	runDir := e.workspace("runner")
	h := startHub(t, "serve", runDir, true)
	runID := registry.WorkspaceID(runDir)
	e.refresh()

	d := e.page("/", http.StatusOK)
	d.one("tr#ws-" + idleID + "[data-status=idle]")
	run := d.in(d.one("tr#ws-" + runID + "[data-status=running]"))
	if got := text(run.one(`a[href="/workspaces/` + runID + `"]`)); got != "runner" {
		t.Errorf("row link %q, want runner", got)
	}
	if got := val(run.one("input[name=pid]"), "value"); got != strconv.Itoa(h.PID) {
		t.Errorf("pid field %q, want %d", got, h.PID)
	}
	cwd := run.one("td.cwd span.path")
	if val(cwd, "title") != runDir || text(cwd) != "~/src/runner" {
		t.Errorf("directory cell %q titled %q, want ~/src/runner titled %s", text(cwd), val(cwd, "title"), runDir)
	}
	if got := titleOf(d); got != "boneyard" {
		t.Errorf("title %q, want boneyard", got)
	}
	body := d.one("body")
	if val(body, "hx-ext") != "sse" || !strings.HasPrefix(val(body, "sse-connect"), "/events?seq=") || val(body, "data-title-url") != "/title" {
		t.Errorf("body attributes %v, want the event stream and the title URL", body.Attr)
	}
	d.one("form#filter-form")
	if n := len(d.all("table#workspaces th[scope=col]")); n != 12 {
		t.Errorf("%d column headers, want 12", n)
	}
	want := map[string]string{"running": "1", "stopped": "0", "down": "0", "idle": "1", "unknown": "0", "orphan": "0"}
	if got := countsOf(d); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	// The running row links its loopback hub URL and offers Reap; the idle
	// row only Remove.
	if href := val(run.one("a.url"), "href"); !strings.HasPrefix(href, "http://127.0.0.1:") || href != h.URL {
		t.Errorf("hub link %q, want %s", href, h.URL)
	}
	for _, path := range []string{"/workspaces/" + runID + "/reap", "/workspaces/" + runID + "/remove"} {
		f := run.one(`form[action="` + path + `"][hx-post="` + path + `"]`)
		if _, ok := attr(f, "hx-confirm"); !ok {
			t.Errorf("form %s asks no confirmation", path)
		}
	}
	idle := d.in(d.one("tr#ws-" + idleID))
	idle.one(`form[action="/workspaces/` + idleID + `/remove"]`)
	wantNone(t, idle, `form[action="/workspaces/`+idleID+`/reap"]`)
}

func TestProblemsInTitleAndFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	idleID := e.idle(e.workspace("aaa-idle"), "aaa-idle")
	stuck := e.workspace("zzz-stuck")
	startHub(t, "hang", stuck, true)
	// An orphan: the workspace marker is gone while the hub runs.
	gone := e.workspace("mmm-gone")
	startHub(t, "serve", gone, true)
	if err := os.Remove(filepath.Join(gone, ".bones", "agent.id")); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	d := e.page("/", http.StatusOK)
	if got := titleOf(d); got != "(2) boneyard" {
		t.Errorf("title %q, want the stopped and the orphaned workspace counted", got)
	}
	wantText(t, d.one("tr[data-status=stopped] .reason"), "hub not answering")
	wantText(t, d.one("tr[data-status=orphan] .reason"), "workspace marker .bones/agent.id is missing")
	// Problems first: orphan, stopped, then the idle row.
	want := []string{registry.WorkspaceID(gone), registry.WorkspaceID(stuck), idleID}
	if got := rowOrder(d); !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func TestUntrustedRegistryContentIsInert(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("x")
	if err := e.reg.Write(registry.Entry{
		Cwd: dir, Name: `<script>alert(1)</script>`, HubURL: "javascript:alert(1)",
		NATSURL: `"><img src=x onerror=alert(1)>`, StartedAt: time.Now().UTC(),
	}); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	id := registry.WorkspaceID(dir)
	for _, target := range []string{"/", "/workspaces/" + id} {
		d := e.page(target, http.StatusOK)
		wantInert(t, d)
		// The values are shown as the text they are.
		shown := d.one("main")
		if target == "/" {
			shown = d.one("tr#ws-" + id)
		}
		wantText(t, shown, `<script>alert(1)</script>`, "javascript:alert(1)", `"><img src=x onerror=alert(1)>`)
	}
}

// wantInert fails if the document runs anything of its own: a script
// element but boneyard's files, an event handler attribute, a javascript:
// link, an inline style, or an image.
func wantInert(t testing.TB, d dom) {
	t.Helper()
	for _, s := range d.all("script") {
		if src := val(s, "src"); !strings.HasPrefix(src, "/static/") || s.FirstChild != nil {
			t.Errorf("script %q with content %v, want only boneyard's own files", src, s.FirstChild != nil)
		}
	}
	wantNone(t, d, "img[onerror]", "[style]", "[onclick]", "[onload]")
	for _, a := range d.all("a[href]") {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(val(a, "href"))), "javascript:") {
			t.Errorf("a javascript: link %q", val(a, "href"))
		}
	}
	for _, img := range d.all("img") {
		if val(img, "src") != "/static/favicon.svg" {
			t.Errorf("an image %q", val(img, "src"))
		}
	}
}

func TestFiltersAndSort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ids := map[string]string{}
	for _, n := range []string{"api-one", "web", "api-two"} {
		ids[n] = e.idle(e.workspace(n), n)
	}
	e.refresh()
	tests := []struct {
		query string
		want  []string // row order
	}{
		{"", []string{"api-one", "api-two", "web"}},
		{"?q=api", []string{"api-one", "api-two"}},
		{"?q=API&sort=name&dir=desc", []string{"api-two", "api-one"}},
		{"?q=src%2Fweb", []string{"web"}},
		{"?status=running", nil},
		{"?status=idle&sort=name&dir=desc", []string{"web", "api-two", "api-one"}},
		{"?status=bogus&sort=bogus", []string{"api-one", "api-two", "web"}},
	}
	for _, tt := range tests {
		d := e.page("/"+tt.query, http.StatusOK)
		var want []string
		for _, n := range tt.want {
			want = append(want, ids[n])
		}
		if got := rowOrder(d); !slices.Equal(got, want) {
			t.Errorf("GET /%s rows %v, want %v", tt.query, got, want)
		}
		if tt.want == nil {
			wantText(t, d.one("section#ws-section"), "No workspace matches this filter")
		}
	}
	d := e.page("/?q=api&sort=name", http.StatusOK)
	sorted := d.one("th[aria-sort=ascending]")
	if got := val(d.in(sorted).one("a"), "href"); got != "/?dir=desc&q=api&sort=name" {
		t.Errorf("sorted column links %q, want the reverse order", got)
	}
	if got := val(d.one("body"), "sse-connect"); !strings.HasPrefix(got, "/events?q=api&seq=") {
		t.Errorf("event stream %q, want the view's", got)
	}
	if got := val(d.one("body"), "data-title-url"); got != "/title?q=api&sort=name" {
		t.Errorf("title URL %q, want the view's", got)
	}
	if got := val(d.one("input#filter-q"), "value"); got != "api" {
		t.Errorf("search field %q", got)
	}
	if _, ok := attr(d.one("select#filter-sort option[value=name]"), "selected"); !ok {
		t.Error("sort by name is not selected")
	}
	if got := val(d.one("form#register-form input[name=back]"), "value"); got != "/?q=api&sort=name" {
		t.Errorf("back %q, want the view", got)
	}
}

func TestDetailPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("detailed")
	h := startHub(t, "serve", dir, true)
	var log strings.Builder
	for i := range 250 {
		fmt.Fprintf(&log, "line %d <b>\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, ".bones", "hub.log"), []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	id := registry.WorkspaceID(dir)
	d := e.page("/workspaces/"+id, http.StatusOK)
	if got := text(d.one("h1")); got != "detailed" {
		t.Errorf("heading %q", got)
	}
	d.one("dd#lock-state")
	shown := d.all("ol#log-lines li code.log-text")
	if len(shown) != 200 || rawText(shown[0]) != "line 50 <b>" || rawText(shown[199]) != "line 249 <b>" {
		t.Errorf("log shows %d lines, want lines 50 to 249", len(shown))
	}
	detail := d.in(d.one("section#detail"))
	if got := val(detail.one("input[name=pid]"), "value"); got != strconv.Itoa(h.PID) {
		t.Errorf("pid field %q, want %d", got, h.PID)
	}
	wantText(t, detail.root, "agent-detailed")
	for _, back := range detail.all("input[name=back]") {
		if got := val(back, "value"); got != "/workspaces/"+id {
			t.Errorf("back %q, want the detail page", got)
		}
	}
	body := d.one("body")
	events, err := url.Parse(val(body, "sse-connect"))
	if err != nil || events.Path != "/events" || events.Query().Get("id") != id || events.Query().Get("cursor") == "" || events.Query().Get("seq") == "" {
		t.Errorf("sse-connect %q, want the workspace's stream from where its log ends", val(body, "sse-connect"))
	}
	if title, err := url.Parse(val(body, "data-title-url")); err != nil || title.Path != "/title" || title.Query().Get("id") != id {
		t.Errorf("data-title-url %q, want the workspace's title", val(body, "data-title-url"))
	}
	wantNone(t, d, "#orphan-reason")

	if err := os.Remove(filepath.Join(dir, ".bones", "agent.id")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ".bones", "hub.log")); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	d = e.page("/workspaces/"+id, http.StatusOK)
	d.one("#orphan-reason")
	wantNone(t, d, "ol#log-lines li")
	wantText(t, d.one("p#log-empty"), "There is no hub log yet: its lines appear here once the hub writes them.")
}

func TestDetailUnknown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	for _, id := range []string{"0123456789abcdef", "not-an-id", "%3Cscript%3E"} {
		d := e.page("/workspaces/"+id, http.StatusNotFound)
		wantText(t, d.one("main"), "no workspace")
		wantInert(t, d)
	}
}

func TestOrphanCountIncludesProcessOrphans(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	startHub(t, "serve", e.workspace("no-entry"), false)
	e.refresh()
	d := e.page("/", http.StatusOK)
	chip := d.one("li[data-count=orphan]")
	if got := val(chip, "title"); got != "0 workspaces, 1 process" {
		t.Errorf("orphan chip title %q", got)
	}
	if got := text(d.in(chip).one("strong")); got != "1" {
		t.Errorf("orphan chip %s, want 1", got)
	}
	if got := titleOf(d); got != "(1) boneyard" {
		t.Errorf("title %q, want (1) boneyard", got)
	}
}

func TestStoppedRowSaysWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("hung")
	h := startHub(t, "hang", dir, true)
	snap := e.refresh()
	id := registry.WorkspaceID(dir)
	if w := findWorkspace(snap, id); w == nil || w.Status != collector.StatusStopped {
		t.Fatalf("hung hub: %+v, want stopped", w)
	}
	want := fmt.Sprintf("pid %d alive, hub not answering at %s", h.PID, h.URL)
	if got := text(e.page("/", http.StatusOK).one("tr#ws-" + id + " div.reason")); got != want {
		t.Errorf("row reason %q, want %q", got, want)
	}
	if got := text(e.page("/workspaces/"+id, http.StatusOK).one("dd#stopped-reason")); got != want {
		t.Errorf("detail reason %q, want %q", got, want)
	}
}

func TestUnknownViewValuesAreNamed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.idle(e.workspace("one"), "one")
	e.refresh()
	tests := []struct {
		query string
		want  []string // notes; nil: no note
	}{
		{"?status=bogus", []string{`unknown status "bogus": showing all`}},
		{"?status=problems", []string{`unknown status "problems": showing all`}},
		{"?sort=nope", []string{`unknown sort "nope": showing problems first`}},
		{"?status=bogus&sort=nope", []string{`unknown status "bogus": showing all`, `unknown sort "nope": showing problems first`}},
		{"?status=idle&sort=name", nil},
	}
	for _, tt := range tests {
		d := e.page("/"+tt.query, http.StatusOK)
		var got []string
		for _, p := range d.all("div#view-note.note[role=status] p") {
			got = append(got, text(p))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("GET /%s notes %q, want %q", tt.query, got, tt.want)
		}
	}
	// A note is never served from the page cache to a plain request.
	wantNone(t, e.page("/", http.StatusOK), "#view-note")
}

func TestDetailLogIsClean(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("colourful")
	id := e.idle(dir, "colourful")
	if err := os.WriteFile(filepath.Join(dir, ".bones", "hub.log"), []byte("\x1b[32mINFO\x1b[0m up\r\nlast\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	d := e.page("/workspaces/"+id, http.StatusOK)
	var got []string
	for _, n := range d.all("div#log-view ol#log-lines li code.log-text") {
		got = append(got, rawText(n))
	}
	if !slices.Equal(got, []string{"INFO up", "last"}) {
		t.Errorf("log %q, want the lines without escapes", got)
	}
}

func TestDetailOfAGoneWorkspace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("leaving")
	id := e.idle(dir, "leaving")
	e.refresh()
	if err := e.reg.Remove(dir); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	d := e.page("/workspaces/"+id, http.StatusNotFound)
	wantText(t, d.one("main"), "no workspace")
	wantNone(t, d, "#detail", "form")
}

func TestGoneDetailSection(t *testing.T) {
	t.Parallel()
	gone, err := renderHTML(t.Context(), templates.DetailSection(templates.Detail{Gone: true, Row: templates.Row{ID: "0123456789abcdef", Status: "running", PID: 42}}, true))
	if err != nil {
		t.Fatal(err)
	}
	d := parseDOM(t, string(gone))
	section := d.one("section#detail[hx-swap-oob=true]")
	wantText(t, d.in(section).one("#gone"), "no longer in the registry")
	wantNone(t, d, "button", "#detail-status", "#lock-state")
	if strings.Contains(text(section), "42") {
		t.Errorf("the gone section shows the old pid: %q", text(section))
	}
}
