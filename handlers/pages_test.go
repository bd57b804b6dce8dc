package handlers

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"boneyard/internal/collector"
	"boneyard/registry"
	"boneyard/web/templates"
)

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("body contains %q", b)
		}
	}
}

func TestEmptyState(t *testing.T) {
	e := newEnv(t, false)
	w := e.get("/")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /: %d", w.Code)
	}
	body := w.Body.String()
	// Hub processes elsewhere on the host may count as problems.
	mustContain(t, body, `id="empty-state"`, "bones up", "bones hub start", "<title>"+title(e.col.Snapshot())+"</title>",
		`id="register-form"`, `id="register-cwd"`, `id="register-name"`, `section id="orphans"`,
		`data-count="running"`, `data-count="orphan"`, `<html lang="en">`)
	mustNotContain(t, body, `table id="workspaces"`)
}

func TestEmptyStateStillShowsOrphanProcesses(t *testing.T) {
	e := newEnv(t, false)
	h := startHub(t, "serve", e.workspace("lost"), false)
	e.refresh()
	body := e.get("/").Body.String()
	mustContain(t, body, `id="empty-state"`, fmt.Sprintf(`<tr id="proc-%d" data-status="orphan">`, h.PID),
		`name="create_time"`, "<title>(")
}

func TestDashboard(t *testing.T) {
	e := newEnv(t, false)
	idleDir := e.workspace("idle-one")
	idleID := e.idle(idleDir, "idle-one")
	runDir := e.workspace("runner")
	h := startHub(t, "serve", runDir, true)
	runID := registry.WorkspaceID(runDir)
	e.refresh()

	w := e.get("/")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /: %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, body,
		`<tr id="ws-`+idleID+`" data-status="idle">`,
		`<tr id="ws-`+runID+`" data-status="running">`,
		`<a href="/workspaces/`+runID+`">runner</a>`,
		fmt.Sprintf(`name="pid" value="%d"`, h.PID),
		`>~/src/runner<`, `title="`+runDir+`"`,
		"<title>"+title(e.col.Snapshot())+"</title>",
		`hx-ext="sse"`, `sse-connect="/events?seq=`,
		`<th scope="col"`, `id="filter-form"`,
	)
	counts := regexp.MustCompile(`data-count="(\w+)"(?: title="[^"]*")?><span[^>]*>\w+</span><strong>(\d+)</strong>`).FindAllStringSubmatch(body, -1)
	got := map[string]string{}
	for _, m := range counts {
		got[m[1]] = m[2]
	}
	// Hub processes elsewhere on the host count as process-only orphans.
	n := e.col.Snapshot().Counts()
	want := map[string]string{"running": "1", "stopped": "0", "idle": "1", "unknown": "0", "orphan": strconv.Itoa(n.ProcessOrphans)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	// The running row links its loopback hub URL and offers Reap; the idle
	// row only Remove.
	runRow := rowHTML(t, body, "ws-"+runID)
	mustContain(t, runRow, `<a class="url" href="http://127.0.0.1:`, `/workspaces/`+runID+`/reap"`, `/workspaces/`+runID+`/remove"`, `hx-confirm=`)
	idleRow := rowHTML(t, body, "ws-"+idleID)
	mustNotContain(t, idleRow, "/reap")
}

// rowHTML returns the <tr> with the given id.
func rowHTML(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `<tr id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no row %s", id)
	}
	j := strings.Index(body[i:], "</tr>")
	return body[i : i+j]
}

func TestProblemsInTitleAndFirst(t *testing.T) {
	e := newEnv(t, false)
	e.idle(e.workspace("aaa-idle"), "aaa-idle")
	stuck := e.workspace("zzz-stuck")
	startHub(t, "hang", stuck, true)
	// An orphan: the workspace marker is gone while the hub runs.
	gone := e.workspace("mmm-gone")
	startHub(t, "serve", gone, true)
	if err := os.Remove(filepath.Join(gone, ".bones", "agent.id")); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	body := e.get("/").Body.String()
	if n := e.col.Snapshot().Problems(); n < 2 {
		t.Errorf("%d problems, want at least the stopped and the orphaned workspace", n)
	}
	mustContain(t, body, "<title>"+title(e.col.Snapshot())+"</title>", `data-status="stopped"`, `data-status="orphan"`, `class="reason"`)
	stuckAt := strings.Index(body, "ws-"+registry.WorkspaceID(stuck))
	idleAt := strings.Index(body, "ws-"+registry.WorkspaceID(e.home+"/src/aaa-idle"))
	if stuckAt < 0 || idleAt < 0 || stuckAt > idleAt {
		t.Errorf("the stopped workspace is not listed before the idle one (%d, %d)", stuckAt, idleAt)
	}
}

func TestUntrustedRegistryContentIsInert(t *testing.T) {
	e := newEnv(t, false)
	dir := e.workspace("x")
	if err := registry.Write(registry.Entry{
		Cwd: dir, Name: `<script>alert(1)</script>`, HubURL: "javascript:alert(1)",
		NATSURL: `"><img src=x onerror=alert(1)>`, StartedAt: time.Now().UTC(),
	}); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	id := registry.WorkspaceID(dir)
	for _, target := range []string{"/", "/workspaces/" + id} {
		body := e.get(target).Body.String()
		mustContain(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;", "javascript:alert(1)")
		mustNotContain(t, body, "<script>alert", `href="javascript:`, "<img src=x", "onerror=alert(1)>")
	}
}

func TestTitle(t *testing.T) {
	ws := func(st ...collector.Status) []collector.Workspace {
		var out []collector.Workspace
		for _, s := range st {
			out = append(out, collector.Workspace{Status: s})
		}
		return out
	}
	tests := []struct {
		snap collector.Snapshot
		want string
	}{
		{collector.Snapshot{}, "boneyard"},
		{collector.Snapshot{Workspaces: ws(collector.StatusRunning, collector.StatusIdle, collector.StatusUnknown)}, "boneyard"},
		{collector.Snapshot{Workspaces: ws(collector.StatusStopped, collector.StatusRunning)}, "(1) boneyard"},
		{collector.Snapshot{Workspaces: ws(collector.StatusStopped, collector.StatusOrphan), Orphans: make([]registry.OrphanHub, 3)}, "(5) boneyard"},
		{collector.Snapshot{Orphans: make([]registry.OrphanHub, 1)}, "(1) boneyard"},
	}
	for _, tt := range tests {
		if got := title(&tt.snap); got != tt.want {
			t.Errorf("title = %q, want %q", got, tt.want)
		}
	}
	stopped := collector.Snapshot{Workspaces: ws(collector.StatusStopped)}
	if got := title(&stopped, "api"); got != "(1) api · boneyard" {
		t.Errorf("page title %q", got)
	}
}

func TestLoopbackHTTP(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:4000", true},
		{"https://localhost:4000/x", true},
		{"http://[::1]:4000", true},
		{"http://127.1.2.3:80", true},
		{"javascript:alert(1)", false},
		{"http://example.com", false},
		{"http://user@127.0.0.1:4000", false},
		{"ftp://127.0.0.1", false},
		{"//127.0.0.1:4000", false},
		{"", false},
		{"http://127.0.0.1.evil.example", false},
	}
	for _, tt := range tests {
		if ok := registry.IsLoopbackHTTP(tt.url); ok != tt.ok {
			t.Errorf("registry.IsLoopbackHTTP(%q) = %v", tt.url, ok)
		}
	}
}

func TestFormatting(t *testing.T) {
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
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.now = now
	if s := f.stamp(now.Add(-3 * time.Minute)); s.Rel != "3m ago" || s.UTC != "2026-01-02T03:01:05Z" {
		t.Errorf("stamp: %+v", s)
	}
	if got := bytesIEC(35 << 20); got != "35.0 MiB" {
		t.Errorf("bytesIEC: %q", got)
	}
}

func TestFiltersAndSort(t *testing.T) {
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
	rowID := regexp.MustCompile(`<tr id="ws-([0-9a-f]{16})"`)
	for _, tt := range tests {
		body := e.get("/" + tt.query).Body.String()
		var got []string
		for _, m := range rowID.FindAllStringSubmatch(body, -1) {
			for n, id := range ids {
				if id == m[1] {
					got = append(got, n)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("GET /%s rows %v, want %v", tt.query, got, tt.want)
		}
		if tt.want == nil {
			mustContain(t, body, "No workspace matches this filter")
		}
	}
	body := e.get("/?q=api&sort=name").Body.String()
	mustContain(t, body, `aria-sort="ascending"`, `href="/?dir=desc&amp;q=api&amp;sort=name"`,
		`sse-connect="/events?q=api&amp;seq=`, `value="api"`, `<option value="name" selected>`,
		`name="back" value="/?q=api&amp;sort=name"`)
}

func TestDetailPage(t *testing.T) {
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
	w := e.get("/workspaces/" + id)
	if w.Code != http.StatusOK {
		t.Fatalf("GET detail: %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, body, "<h1>detailed</h1>", `id="lock-state"`, `<pre id="hub-log"`, "line 249 &lt;b&gt;", "line 50 &lt;b&gt;",
		fmt.Sprintf(`name="pid" value="%d"`, h.PID), "agent-detailed", `name="back" value="/workspaces/`+id+`"`,
		`sse-connect="/events?id=`+id)
	mustNotContain(t, body, "line 49 &lt;b&gt;", `id="orphan-reason"`)

	if err := os.Remove(filepath.Join(dir, ".bones", "agent.id")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ".bones", "hub.log")); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	body = e.get("/workspaces/" + id).Body.String()
	mustContain(t, body, `id="orphan-reason"`, `<pre id="hub-log"`, "no hub log")
}

func TestDetailUnknown(t *testing.T) {
	e := newEnv(t, false)
	for _, id := range []string{"0123456789abcdef", "not-an-id", "%3Cscript%3E"} {
		w := e.get("/workspaces/" + id)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET /workspaces/%s: %d, want 404", id, w.Code)
		}
		mustContain(t, w.Body.String(), "no workspace")
		mustNotContain(t, w.Body.String(), "<script>")
	}
}

func TestTailFile(t *testing.T) {
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

func TestOrphanCountIncludesProcessOrphans(t *testing.T) {
	e := newEnv(t, false)
	startHub(t, "serve", e.workspace("no-entry"), false)
	e.refresh()
	body := e.get("/").Body.String()
	n := e.col.Snapshot().Counts()
	if n.ProcessOrphans == 0 {
		t.Fatal("the unregistered hub is not a process-only orphan")
	}
	chip := regexp.MustCompile(`data-count="orphan" title="([^"]*)"><span[^>]*>orphan</span><strong>(\d+)</strong>`).FindStringSubmatch(body)
	if chip == nil {
		t.Fatalf("no orphan chip with a title in %s", body)
	}
	if want := strconv.Itoa(n.Of(collector.StatusOrphan) + n.ProcessOrphans); chip[2] != want {
		t.Errorf("orphan chip %s, want %s", chip[2], want)
	}
	if want := plural(n.Of(collector.StatusOrphan), "workspace") + ", " + plural(n.ProcessOrphans, "process"); chip[1] != want {
		t.Errorf("orphan chip title %q, want %q", chip[1], want)
	}
	mustContain(t, body, "<title>("+strconv.Itoa(n.Problems())+") boneyard</title>")
}

func TestPlural(t *testing.T) {
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

func TestStoppedRowSaysWhy(t *testing.T) {
	e := newEnv(t, false)
	dir := e.workspace("hung")
	h := startHub(t, "hang", dir, true)
	snap := e.refresh()
	w := findWorkspace(snap, registry.WorkspaceID(dir))
	if w == nil || w.Status != collector.StatusStopped {
		t.Fatalf("hung hub: %+v, want stopped", w)
	}
	want := fmt.Sprintf("pid %d alive, hub not answering at %s", h.PID, w.HubURL)
	row := rowHTML(t, e.get("/").Body.String(), "ws-"+w.ID)
	mustContain(t, row, `<div class="reason">`+want+`</div>`)
	mustContain(t, e.get("/workspaces/"+w.ID).Body.String(), `<dd id="stopped-reason">`+want+`</dd>`)
}

func TestUnknownViewValuesAreNamed(t *testing.T) {
	e := newEnv(t, false)
	e.idle(e.workspace("one"), "one")
	e.refresh()
	tests := []struct {
		query string
		want  []string // notes; nil: no note
	}{
		{"?status=bogus", []string{`unknown status &#34;bogus&#34;: showing all`}},
		{"?status=problems", []string{`unknown status &#34;problems&#34;: showing all`}},
		{"?sort=nope", []string{`unknown sort &#34;nope&#34;: showing problems first`}},
		{"?status=bogus&sort=nope", []string{`unknown status &#34;bogus&#34;`, `unknown sort &#34;nope&#34;`}},
		{"?status=idle&sort=name", nil},
	}
	for _, tt := range tests {
		body := e.get("/" + tt.query).Body.String()
		if tt.want == nil {
			mustNotContain(t, body, `id="view-note"`)
			continue
		}
		mustContain(t, body, `<div id="view-note" class="note" role="status">`)
		mustContain(t, body, tt.want...)
	}
	// A note is never served from the page cache to a plain request.
	mustNotContain(t, e.get("/").Body.String(), `id="view-note"`)
}

func TestCleanLog(t *testing.T) {
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

func TestDetailLogIsCleanAndScrolledToTheEnd(t *testing.T) {
	e := newEnv(t, false)
	dir := e.workspace("colourful")
	id := e.idle(dir, "colourful")
	if err := os.MkdirAll(filepath.Join(dir, ".bones"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".bones", "hub.log"), []byte("\x1b[32mINFO\x1b[0m up\r\nlast\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	body := e.get("/workspaces/" + id).Body.String()
	mustContain(t, body, `<div class="log-scroll"`, `<pre id="hub-log" class="log">INFO up`+"\n"+`last</pre>`)
	mustNotContain(t, body, "\x1b", "[32m")
}

func TestDetailOfAGoneWorkspace(t *testing.T) {
	e := newEnv(t, false)
	dir := e.workspace("leaving")
	id := e.idle(dir, "leaving")
	e.refresh()
	if err := registry.Remove(dir); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	w := e.get("/workspaces/" + id)
	if w.Code != http.StatusNotFound {
		t.Errorf("GET detail of a removed workspace: %d, want 404", w.Code)
	}
	mustContain(t, w.Body.String(), "no workspace")
	mustNotContain(t, w.Body.String(), `id="detail"`, "/remove")

	var gone strings.Builder
	if err := templates.DetailSection(templates.Detail{Gone: true, Row: templates.Row{ID: id, Status: "running", PID: 42}}, true).Render(t.Context(), &gone); err != nil {
		t.Fatal(err)
	}
	mustContain(t, gone.String(), `id="detail"`, `hx-swap-oob="true"`, `id="gone"`, "no longer in the registry")
	mustNotContain(t, gone.String(), "<button", "detail-status", "lock-state", "42")
}

func TestLongPathsAreElided(t *testing.T) {
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
		if n := utf8.RuneCountInString(got.Short); n > maxPath && got.Short != got.Full {
			t.Errorf("path(%q) = %q: %d characters, over %d", tt.in, got.Short, n, maxPath)
		}
	}
}

func TestHeadersKeepASortLinkPerColumn(t *testing.T) {
	hs := view{sort: "nats", desc: true}.headers()
	var keys []string
	for _, h := range hs {
		for _, c := range h.Columns {
			keys = append(keys, c.Label)
		}
	}
	var want []string
	for _, c := range columns {
		want = append(want, c.label)
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("header links %v, want one per column %v", keys, want)
	}
	urls := hs[3]
	if len(urls.Columns) != 2 || urls.Sort != "descending" || urls.Columns[1].Sort != "descending" ||
		urls.Columns[0].Sort != "none" || urls.Columns[1].Href != "/?sort=nats" || urls.Columns[0].Href != "/?sort=hub" {
		t.Errorf("URLs header %+v", urls)
	}
}

func TestElidedPathIsReadInFull(t *testing.T) {
	long := "/home/me/src/github.com/example-org/monorepo/services/payments/internal/workers/nightly"
	p := formatter{home: "/home/me"}.path(long)
	var row strings.Builder
	if err := templates.WorkspaceRow(templates.Row{ID: "0123456789abcdef", Name: "n", Cwd: p}, "/", false).Render(t.Context(), &row); err != nil {
		t.Fatal(err)
	}
	mustContain(t, row.String(), `title="`+long+`"`, `<span aria-hidden="true">~/<wbr>…/<wbr>monorepo/<wbr>`,
		`<span class="sr-only">`+long+`</span>`)
}
