package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// hubLine is a hub log line at 10:00 plus s seconds on a fixed day.
func hubLine(s int, level, msg string) string {
	ts := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC).Add(time.Duration(s) * time.Second).Format(time.RFC3339)
	return fmt.Sprintf(`{"ts":%q,"level":%q,"event":"rpc","msg":%q,"agent":"system"}`, ts, level, msg)
}

// writeLog writes lines, each ended, to the state directory file name of
// workspace dir.
func writeLog(t testing.TB, dir, name string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, ".bones", name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// numberedLog writes lines "n 000" … "n <to-1>" (every tenth an ERROR) to
// name.
func numberedLog(t testing.TB, dir, name string, from, to int) {
	t.Helper()
	var lines []string
	for i := from; i < to; i++ {
		level := "INFO"
		if i%10 == 0 {
			level = "ERROR"
		}
		lines = append(lines, hubLine(i, level, fmt.Sprintf("n %03d", i)))
	}
	writeLog(t, dir, name, lines...)
}

// shownLines are the messages of the page's log lines, in order.
func shownLines(d dom) []string {
	var out []string
	for _, n := range d.all("ol#log-lines li .log-text") {
		out = append(out, rawText(n))
	}
	return out
}

// msgs is "n <from>" … "n <to-1>".
func msgs(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("n %03d", i))
	}
	return out
}

func TestWorkspaceLogPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("logged")
	id := e.idle(dir, "logged")
	numberedLog(t, dir, "hub.log.1", 0, 100)
	numberedLog(t, dir, "hub.log", 100, 250)
	e.refresh()
	base := "/workspaces/" + id + "/log"

	d := e.page(base, http.StatusOK)
	if got := shownLines(d); !slices.Equal(got, msgs(50, 250)) {
		t.Errorf("newest page shows %d lines %.30q…, want n 050 to n 249", len(got), got)
	}
	if got := titleOf(d); got != "logged log · boneyard" {
		t.Errorf("title %q", got)
	}
	events, _ := url.Parse(val(d.one("body"), "sse-connect"))
	if q := events.Query(); q.Get("log") != id || !strings.HasPrefix(q.Get("cursor"), id+"-") {
		t.Errorf("sse-connect %q, want the workspace's log from where it ends", events)
	}
	if val(d.one("div#log-view"), "data-live") != "true" {
		t.Error("the newest page is not live")
	}
	older := val(d.one("a#log-older-link"), "href")

	// Older lines: a plain page without script, a fragment with it.
	d = e.page(older, http.StatusOK)
	if got := shownLines(d); !slices.Equal(got, msgs(0, 50)) {
		t.Errorf("older page shows %q, want n 000 to n 049", got)
	}
	wantNone(t, d, "a#log-older-link", "div#log-view[data-live]")
	if got := val(d.one("a#log-newest"), "href"); got != base {
		t.Errorf("newest link %q, want %q", got, base)
	}
	r := request(http.MethodGet, older, nil)
	r.Header.Set("HX-Request", "true")
	w := e.serve(r)
	frag := parseDOM(t, w.Body.String())
	if n := len(frag.all(`ol#log-lines[hx-swap-oob="afterbegin"] li`)); w.Code != http.StatusOK || n != 50 {
		t.Errorf("htmx older: %d with %d lines, want 200 with 50", w.Code, n)
	}
	frag.one(`div#log-older[hx-swap-oob="true"]`)
	wantNone(t, frag, "html body main")

	tests := []struct {
		name   string
		query  string
		lines  []string
		sel    []string // must match
		absent []string // must not
		note   string
	}{
		{name: "level at least ERROR", query: "?level=error&since=2026-11-30T10:02:40Z", lines: []string{"n 160", "n 170", "n 180", "n 190", "n 200", "n 210", "n 220", "n 230", "n 240"},
			sel: []string{`select#log-level option[value="ERROR"][selected]`, "a#log-clear", "li.log-alert"}},
		{name: "search", query: "?q=N+24", lines: msgs(240, 250)},
		{name: "regex", query: "?q=n+1%5B0-2%5D5&regex=1", lines: []string{"n 105", "n 115", "n 125"}, sel: []string{"input#log-regex[checked]"}},
		{name: "invalid regex", query: "?q=n(&regex=1", sel: []string{"p#log-filter-error", `input#log-q[aria-invalid="true"]`}, absent: []string{"div#log-view[data-live]"}},
		{name: "unknown level", query: "?level=LOUD&q=n+249", lines: []string{"n 249"}, note: `unknown level "LOUD": showing every level`},
		{name: "bad place", query: "?before=zz&q=n+249", lines: []string{"n 249"}, note: `log position "zz": want three dot-separated numbers: showing the newest lines`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.page(base+tt.query, http.StatusOK)
			if got := shownLines(d); !slices.Equal(got, tt.lines) {
				t.Errorf("lines %q, want %q", got, tt.lines)
			}
			for _, sel := range tt.sel {
				if !d.has(sel) {
					t.Errorf("nothing matches %q", sel)
				}
			}
			wantNone(t, d, tt.absent...)
			if tt.note != "" {
				wantText(t, d.one("div#log-view-note"), tt.note)
			}
		})
	}
}

func TestLogDownload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("dl")
	id := e.idle(dir, "dl ws")
	numberedLog(t, dir, "hub.log.1", 0, 3)
	writeLog(t, dir, "hub.log", "plain <tail>")
	secret := filepath.Join(e.home, "secret")
	os.WriteFile(secret, []byte("secret\n"), 0o600)
	if err := os.Symlink(secret, filepath.Join(dir, ".bones", "hub.log.2")); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	d := e.page("/workspaces/"+id+"/log", http.StatusOK)
	var links []string
	for _, a := range d.all("div#log-files a[download]") {
		links = append(links, val(a, "href"))
	}
	want := []string{"/workspaces/" + id + "/log/files/hub.log", "/workspaces/" + id + "/log/files/hub.log.1"}
	if !slices.Equal(links, want) {
		t.Errorf("downloads %q, want %q", links, want)
	}
	wantText(t, d.one("div#log-files"), "hub.log.2 is a symbolic link")
	wantText(t, d.one("div#log-notes"), "hub.log.2 is a symbolic link: boneyard does not read it.")

	w := e.get(want[0])
	if w.Code != http.StatusOK || w.Body.String() != "plain <tail>\n" {
		t.Errorf("hub.log: %d %q", w.Code, w.Body.String())
	}
	for k, v := range map[string]string{
		"Content-Type":           "text/plain; charset=utf-8",
		"Content-Disposition":    `attachment; filename="dl_ws-hub.log"`,
		"X-Content-Type-Options": "nosniff",
	} {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	for _, tt := range []struct {
		name string
		code int
	}{{"hub.log.1", http.StatusOK}, {"hub.log.2", http.StatusForbidden}, {"hub.log.3", http.StatusNotFound}, {"agent.id", http.StatusNotFound}, {"..%2Fsecret", http.StatusNotFound}} {
		if w := e.get("/workspaces/" + id + "/log/files/" + tt.name); w.Code != tt.code || strings.Contains(w.Body.String(), "secret\n") {
			t.Errorf("%s: %d, want %d", tt.name, w.Code, tt.code)
		}
	}
}

func TestMergedLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	a, b := e.workspace("alpha"), e.workspace("beta")
	ida, idb := e.idle(a, "alpha"), e.idle(b, "beta")
	writeLog(t, a, "hub.log", hubLine(1, "INFO", "a one"), hubLine(3, "ERROR", "a three"))
	writeLog(t, b, "hub.log", hubLine(2, "WARN", "b two"), hubLine(4, "INFO", "b four"))
	e.refresh()

	d := e.page("/logs", http.StatusOK)
	if got := shownLines(d); !slices.Equal(got, []string{"a one", "b two", "a three", "b four"}) {
		t.Errorf("merged %q", got)
	}
	var tags []string
	for _, n := range d.all("ol#log-lines li a.log-ws") {
		tags = append(tags, text(n)+" "+val(n, "href"))
	}
	if tags[0] != "alpha /workspaces/"+ida+"/log" || tags[1] != "beta /workspaces/"+idb+"/log" {
		t.Errorf("tags %q", tags)
	}
	d.one(`select#log-ws option[value="` + idb + `"]`)
	if got := shownLines(e.page("/logs?level=WARN", http.StatusOK)); !slices.Equal(got, []string{"b two", "a three"}) {
		t.Errorf("WARN and up: %q", got)
	}
	if got := shownLines(e.page("/logs?ws="+ida, http.StatusOK)); !slices.Equal(got, []string{"a one", "a three"}) {
		t.Errorf("alpha only: %q", got)
	}
	wantText(t, e.page("/logs?since=1h", http.StatusOK).one("p#log-empty"), "No line matches this filter.")
}

func TestLogAPIs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("api-log")
	id := e.idle(dir, "api-log")
	numberedLog(t, dir, "hub.log", 0, 30)
	writeLog(t, dir, "hub.log", "panic: boom")
	other := e.workspace("api-other")
	ido := e.idle(other, "api-other")
	writeLog(t, other, "hub.log", hubLine(100, "ERROR", "other fails"))
	e.refresh()

	type envelope struct {
		Schema struct{ Verb, Version string } `json:"schema"`
		Data   []logLineJSON                  `json:"data"`
	}
	get := func(target string, code int) (envelope, http.Header) {
		t.Helper()
		w := e.get(target)
		if w.Code != code {
			t.Fatalf("GET %s: %d, want %d: %s", target, w.Code, code, w.Body.String())
		}
		var env envelope
		if code == http.StatusOK {
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
				t.Fatal(err)
			}
		}
		return env, w.Header()
	}

	env, h := get("/api/workspaces/"+id+"/log?level=ERROR&limit=2", http.StatusOK)
	if env.Schema.Verb != "workspace.log" || env.Schema.Version != "v1" || len(env.Data) != 2 {
		t.Fatalf("envelope %+v", env)
	}
	first := env.Data[0]
	if first.Msg != "n 020" || first.Level != "ERROR" || first.Event != "rpc" || first.File != "hub.log" ||
		first.Fields["agent"] != "system" || first.Time == nil || *first.Time != "2026-11-30T10:00:20Z" || first.Plain {
		t.Errorf("first line %+v", first)
	}
	if env.Data[1].Msg != "panic: boom" || !env.Data[1].Plain || env.Data[1].Time == nil || *env.Data[1].Time != "2026-11-30T10:00:29Z" {
		t.Errorf("panic line %+v", env.Data[1])
	}
	link := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(h.Get("Link"))
	if link == nil {
		t.Fatalf("Link %q", h.Get("Link"))
	}
	env, _ = get(link[1], http.StatusOK)
	var got []string
	for _, l := range env.Data {
		got = append(got, l.Msg)
	}
	if !slices.Equal(got, []string{"n 000", "n 010"}) {
		t.Errorf("next page %q", got)
	}

	env, _ = get("/api/logs?level=ERROR&limit=1", http.StatusOK)
	if env.Schema.Verb != "logs" || len(env.Data) != 2 || env.Data[0].WorkspaceID != id || env.Data[1].WorkspaceID != ido || env.Data[1].Msg != "other fails" {
		t.Errorf("merged %+v", env)
	}
	for _, bad := range []string{
		"/api/workspaces/" + id + "/log?q=a(&regex=1", "/api/workspaces/" + id + "/log?level=LOUD",
		"/api/workspaces/" + id + "/log?limit=0", "/api/workspaces/" + id + "/log?before=x", "/api/logs?since=forever",
	} {
		w := e.get(bad)
		var msg map[string]string
		if w.Code != http.StatusBadRequest || json.Unmarshal(w.Body.Bytes(), &msg) != nil || msg["error"] == "" {
			t.Errorf("GET %s: %d %s, want 400 with a message", bad, w.Code, w.Body.String())
		}
	}
	get("/api/workspaces/0123456789abcdef/log", http.StatusNotFound)
	get("/api/logs?ws=0123456789abcdef", http.StatusNotFound)
}

// logEvents reads an event stream's log updates: each event's id and the
// messages of the lines it appends.
type logEvents struct {
	resp *http.Response
	ch   chan logEvent
}

type logEvent struct {
	id    string
	lines []string
}

func (l *live) logStream(t testing.TB, target, lastEventID string) *logEvents {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, l.base+target, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v", target, resp, err)
	}
	le := &logEvents{resp: resp, ch: make(chan logEvent, 100)}
	go func() {
		defer close(le.ch)
		readSSE(resp.Body, func(id, data string) {
			root, _ := html.Parse(strings.NewReader(data))
			ev := logEvent{id: id}
			for _, n := range (dom{t: t, root: root}).all(`ol#log-lines[hx-swap-oob="beforeend"] li .log-text`) {
				ev.lines = append(ev.lines, rawText(n))
			}
			if ev.lines != nil {
				le.ch <- ev
			}
		}, func() {})
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return le
}

// next returns the lines of the log updates until want lines arrived.
func (le *logEvents) next(t testing.TB, want int) ([]string, string) {
	t.Helper()
	var got []string
	var id string
	deadline := time.After(10 * time.Second)
	for len(got) < want {
		select {
		case ev, ok := <-le.ch:
			if !ok {
				t.Fatalf("stream closed after %q", got)
			}
			got, id = append(got, ev.lines...), ev.id
		case <-deadline:
			t.Fatalf("got %q, want %d lines", got, want)
		}
	}
	return got, id
}

// TestLogStream: a page's stream sends the lines written after the page,
// across a rotation, as its filter keeps them; reopened with the last
// event's id, it goes on from there.
func TestLogStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	dir := e.workspace("streamed")
	id := e.idle(dir, "streamed")
	writeLog(t, dir, "hub.log", hubLine(0, "INFO", "before the page"))
	e.refresh()
	l := e.listen()
	d := e.page("/workspaces/"+id+"/log?level=WARN", http.StatusOK)
	events := val(d.one("body"), "sse-connect")
	writeLog(t, dir, "hub.log", hubLine(1, "WARN", "after the page"))

	s := l.logStream(t, events, "")
	if got, _ := s.next(t, 1); !slices.Equal(got, []string{"after the page"}) {
		t.Errorf("first update %q", got)
	}
	path := filepath.Join(dir, ".bones", "hub.log")
	stderr, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeLog(t, dir, "hub.log", hubLine(2, "INFO", "kept out"), hubLine(3, "ERROR", "new file"))
	got, _ := s.next(t, 1)
	stderr.WriteString("panic: into the old file\n")
	more, id1 := s.next(t, 1)
	if got := append(got, more...); !slices.Equal(got, []string{"new file", "panic: into the old file"}) {
		t.Errorf("after the rotation %q", got)
	}
	s.resp.Body.Close()

	writeLog(t, dir, "hub.log", hubLine(4, "WARN", "while away"))
	again := l.logStream(t, events, id1)
	if got, _ := again.next(t, 1); !slices.Equal(got, []string{"while away"}) {
		t.Errorf("reopened with Last-Event-ID: %q", got)
	}
	// The detail page's panel: every line, from where its page ends.
	d = e.page("/workspaces/"+id, http.StatusOK)
	detail := l.logStream(t, val(d.one("body"), "sse-connect"), "")
	writeLog(t, dir, "hub.log", hubLine(5, "DEBUG", "on the detail page"))
	if got, _ := detail.next(t, 1); !slices.Equal(got, []string{"on the detail page"}) {
		t.Errorf("detail stream %q", got)
	}
}

func TestMergedLogStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	a, b := e.workspace("m-alpha"), e.workspace("m-beta")
	e.idle(a, "m-alpha")
	e.idle(b, "m-beta")
	writeLog(t, a, "hub.log", hubLine(0, "INFO", "a old"))
	e.refresh()
	l := e.listen()
	d := e.page("/logs", http.StatusOK)
	s := l.logStream(t, val(d.one("body"), "sse-connect"), "")
	// b had no log when the page was made: its new file is read whole.
	writeLog(t, b, "hub.log", hubLine(1, "INFO", "b first"))
	writeLog(t, a, "hub.log", hubLine(2, "INFO", "a new"))
	got, _ := s.next(t, 2)
	slices.Sort(got)
	if !slices.Equal(got, []string{"a new", "b first"}) {
		t.Errorf("merged stream %q", got)
	}
	// A workspace registered later is followed from then on.
	c := e.workspace("m-gamma")
	writeLog(t, c, "hub.log", hubLine(3, "INFO", "c before"))
	e.idle(c, "m-gamma")
	e.refresh()
	// It is followed once the stream has seen the snapshot that lists it.
	deadline := time.After(10 * time.Second)
	for n := 0; ; n++ {
		writeLog(t, c, "hub.log", hubLine(4+n, "INFO", "c after"))
		select {
		case ev := <-s.ch:
			if slices.Contains(ev.lines, "c before") {
				t.Fatalf("lines written before the workspace appeared were sent: %q", ev.lines)
			}
			if slices.Contains(ev.lines, "c after") {
				return
			}
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("the new workspace's lines never came")
		}
	}
}
