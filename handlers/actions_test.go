package handlers

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boneyard/procscan"
	"boneyard/registry"
)

// followFlash GETs the redirect target with the flash cookie the action set
// and returns the page's flash message and the page.
func (e *env) followFlash(w *http.Response) (string, dom) {
	e.t.Helper()
	r := request(http.MethodGet, w.Header.Get("Location"), nil)
	for _, c := range w.Cookies() {
		r.AddCookie(c)
	}
	page := e.serve(r)
	if page.Code != http.StatusOK {
		e.t.Fatalf("GET %s after the action: %d", w.Header.Get("Location"), page.Code)
	}
	d := parseDOM(e.t, page.Body.String())
	return text(d.one("div#flash p.flash-ok[role=status]")), d
}

// answer parses an action's answer and returns the text of its flash
// message: the #flash fragment (htmx) or the page's.
func answer(t testing.TB, w *httptest.ResponseRecorder, htmx bool) (string, dom) {
	t.Helper()
	d := parseDOM(t, w.Body.String())
	sel := "div#flash p[role]"
	if htmx {
		sel = "div#flash[hx-swap-oob=true] p[role]"
	}
	return text(d.one(sel)), d
}

// wantAlert fails unless the answer is an alert whose text contains every
// want (lower case).
func wantAlert(t testing.TB, w *httptest.ResponseRecorder, htmx bool, want ...string) dom {
	t.Helper()
	d := parseDOM(t, w.Body.String())
	sel := "div#flash p.flash-error[role=alert]"
	if htmx {
		sel = "div#flash[hx-swap-oob=true] p.flash-error[role=alert]"
	}
	alerts := d.all(sel)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts in %s", len(alerts), w.Body.String())
	}
	got := strings.ToLower(text(alerts[0]))
	for _, w := range want {
		if !strings.Contains(got, strings.ToLower(w)) {
			t.Errorf("alert %q lacks %q", got, w)
		}
	}
	return d
}

func (e *env) lastAudit() auditRecord {
	e.t.Helper()
	lines := e.auditLines()
	if len(lines) == 0 {
		e.t.Fatal("no audit line")
	}
	return lines[len(lines)-1]
}

// createTime is the start time of pid as the collector saw it.
func (e *env) createTime(pid int) string {
	e.t.Helper()
	for _, p := range e.refresh().Processes {
		if p.PID == pid {
			return p.CreateTime.Format(time.RFC3339Nano)
		}
	}
	e.t.Fatalf("pid %d is not among the hub processes", pid)
	return ""
}

func TestRegister(t *testing.T) {
	t.Parallel()
	for _, htmx := range []bool{false, true} {
		t.Run(fmt.Sprintf("htmx=%v", htmx), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			dir := e.workspace("fresh")
			w := e.post("/workspaces", url.Values{"cwd": {dir + "/"}, "name": {"Fresh one"}, "back": {"/?q=fre"}}, htmx)
			entry, err := e.reg.Read(dir)
			if err != nil || entry.Name != "Fresh one" || entry.HubPID != 0 {
				t.Fatalf("entry after register: %+v, %v", entry, err)
			}
			id := registry.WorkspaceID(dir)
			want := "Registered " + dir + ` as "Fresh one".`
			if htmx {
				if w.Code != http.StatusOK {
					t.Fatalf("htmx register: %d %s", w.Code, w.Body.String())
				}
				msg, d := answer(t, w, true)
				if msg != want {
					t.Errorf("message %q, want %q", msg, want)
				}
				d.one("section#ws-section[hx-swap-oob=true] tr#ws-" + id)
				form := d.in(d.one("section#register[hx-swap-oob=true]"))
				if v, ok := attr(form.one("input#register-cwd[name=cwd]"), "value"); !ok || v != "" {
					t.Errorf("register form keeps %q, want it reset", v)
				}
			} else {
				if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/?q=fre" {
					t.Fatalf("register: %d to %q", w.Code, w.Header().Get("Location"))
				}
				msg, d := e.followFlash(w.Result())
				if msg != want {
					t.Errorf("message %q, want %q", msg, want)
				}
				d.one("tr#ws-" + id)
			}
			rec := e.lastAudit()
			if rec.Action != "register" || rec.Target != dir || rec.Result != "ok" || rec.Client == "" || rec.Time.IsZero() {
				t.Errorf("audit record %+v", rec)
			}
			fi, err := os.Stat(filepath.Join(e.home, ".bones", "boneyard", "audit.log"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("audit log mode: %v, %v", fi, err)
			}
			if fi, err := os.Stat(filepath.Join(e.home, ".bones", "boneyard")); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("audit dir mode: %v, %v", fi, err)
			}
		})
	}
}

func TestRegisterRejections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("ok")
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	busy := e.workspace("busy")
	startHub(t, "serve", busy, true)
	e.refresh()
	tests := []struct {
		name, cwd, wsName string
		code              int
		msg               string
	}{
		{"relative", "src/ok", "n", http.StatusBadRequest, "absolute"},
		{"empty cwd", "", "n", http.StatusBadRequest, "absolute"},
		{"missing", filepath.Join(e.home, "nope"), "n", http.StatusBadRequest, "does not exist"},
		{"file", file, "n", http.StatusBadRequest, "not a directory"},
		{"empty name", dir, "", http.StatusBadRequest, "name is required"},
		{"blank name", dir, "  \t", http.StatusBadRequest, "name is required"},
		{"long name", dir, strings.Repeat("n", 101), http.StatusBadRequest, "too long"},
		{"control char", dir, "evil\x1b[31m", http.StatusBadRequest, "control character"},
		{"newline", dir, "two\nlines", http.StatusBadRequest, "control character"},
		{"live hub entry", busy, "take over", http.StatusConflict, "already has a live hub entry"},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/htmx=%v", tt.name, htmx), func(t *testing.T) {
				before := e.registryFiles()
				w := e.post("/workspaces", url.Values{"cwd": {tt.cwd}, "name": {tt.wsName}}, htmx)
				if w.Code != tt.code {
					t.Fatalf("%d, want %d: %s", w.Code, tt.code, w.Body.String())
				}
				d := wantAlert(t, w, htmx, tt.msg)
				if !htmx {
					d.one("form#register-form")
				}
				if after := e.registryFiles(); !maps.Equal(before, after) {
					t.Errorf("a rejected register changed the registry:\n%v\n%v", before, after)
				}
				if rec := e.lastAudit(); !strings.HasPrefix(rec.Result, "rejected") {
					t.Errorf("audit result %q", rec.Result)
				}
			})
		}
	}
	// Without JavaScript the form keeps what was typed.
	d := parseDOM(t, e.post("/workspaces", url.Values{"cwd": {"relative/path"}, "name": {"kept"}}, false).Body.String())
	if cwd, name := val(d.one("input#register-cwd"), "value"), val(d.one("input#register-name"), "value"); cwd != "relative/path" || name != "kept" {
		t.Errorf("the form shows %q, %q; want what was typed", cwd, name)
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	for _, htmx := range []bool{false, true} {
		t.Run(fmt.Sprintf("htmx=%v", htmx), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			keep := e.idle(e.workspace("keep"), "keep")
			dir := e.workspace("drop")
			id := e.idle(dir, "drop")
			e.refresh()
			w := e.post("/workspaces/"+id+"/remove", url.Values{"confirm": {"yes"}, "back": {"/"}}, htmx)
			if _, err := e.reg.Read(dir); !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("entry still there: %v", err)
			}
			want := "Removed the entry of drop (" + dir + ")."
			var msg string
			var d dom
			if htmx {
				if w.Code != http.StatusOK {
					t.Fatalf("%d: %s", w.Code, w.Body.String())
				}
				msg, d = answer(t, w, true)
				d.one("tr#ws-" + keep)
				d.one("ul#counts[hx-swap-oob=true]")
			} else {
				if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
					t.Fatalf("%d to %q", w.Code, w.Header().Get("Location"))
				}
				msg, d = e.followFlash(w.Result())
			}
			if msg != want {
				t.Errorf("message %q, want %q", msg, want)
			}
			wantNone(t, d, "#ws-"+id)
			if rec := e.lastAudit(); rec.Action != "remove" || rec.Target != dir || rec.Result != "ok" {
				t.Errorf("audit %+v", rec)
			}
		})
	}
}

func TestRemoveFromDetailPageReturnsToDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	id := e.idle(e.workspace("d"), "d")
	e.refresh()
	w := e.post("/workspaces/"+id+"/remove", url.Values{"confirm": {"yes"}, "back": {"/workspaces/" + id}}, false)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("%d to %q, want 303 to / (the detail page is gone)", w.Code, w.Header().Get("Location"))
	}
	e.idle(e.workspace("d"), "d")
	e.refresh()
	w = e.post("/workspaces/"+id+"/remove", url.Values{"confirm": {"yes"}, "back": {"/workspaces/" + id}}, true)
	if w.Code != http.StatusOK || w.Header().Get("HX-Redirect") != "/" {
		t.Fatalf("htmx: %d, HX-Redirect %q", w.Code, w.Header().Get("HX-Redirect"))
	}
}

func TestBackCannotLeaveTheSite(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "/static/x", "/workspaces/zz"} {
		if got := parseBack(raw).href(); got != "/" {
			t.Errorf("parseBack(%q) = %q, want /", raw, got)
		}
	}
	if got := parseBack("/?status=orphan&q=a&evil=1").href(); got != "/?q=a&status=orphan" {
		t.Errorf("dashboard back: %q", got)
	}
}

func TestConfirmationPageWithoutJS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("c")
	id := e.idle(dir, "c")
	h := startHub(t, "serve", e.workspace("r"), true)
	rid := registry.WorkspaceID(e.home + "/src/r")
	orphan := startHub(t, "serve", e.workspace("o"), false)
	ct := e.createTime(orphan.PID)
	e.refresh()
	before := e.registryFiles()
	tests := []struct {
		target string
		form   url.Values
		button string
		effect string
	}{
		{"/workspaces/" + id + "/remove", url.Values{"back": {"/workspaces/" + id}}, "Yes, remove", "A hub process still running keeps running, as an orphan."},
		{"/workspaces/" + rid + "/reap", url.Values{"pid": {strconv.Itoa(h.PID)}}, "Yes, reap", "SIGTERM, then SIGKILL after 2 s; its entry is removed."},
		{"/processes/" + strconv.Itoa(orphan.PID) + "/reap", url.Values{"create_time": {ct}}, "Yes, reap", "It gets SIGTERM, then SIGKILL after 2 s."},
	}
	for _, tt := range tests {
		w := e.post(tt.target, tt.form, false)
		if w.Code != http.StatusOK {
			t.Fatalf("POST %s: %d", tt.target, w.Code)
		}
		d := parseDOM(t, w.Body.String())
		form := d.in(d.one(`form[method=post][action="` + tt.target + `"]`))
		form.one("input[type=hidden][name=confirm][value=yes]")
		if got := text(form.one("button[type=submit]")); got != tt.button {
			t.Errorf("button %q, want %q", got, tt.button)
		}
		if got := text(form.one("a")); got != "Cancel" {
			t.Errorf("link %q, want Cancel", got)
		}
		wantText(t, d.one("main"), tt.effect)
		for k, v := range tt.form {
			if got := val(form.one("input[name="+k+"]"), "value"); got != v[0] {
				t.Errorf("field %s %q, want %q", k, got, v[0])
			}
		}
	}
	if !maps.Equal(before, e.registryFiles()) {
		t.Error("asking for confirmation changed the registry")
	}
	if h.Exited(100*time.Millisecond) || orphan.Exited(0) {
		t.Error("asking for confirmation signalled a hub")
	}
}

func TestReapWorkspace(t *testing.T) {
	t.Parallel()
	for _, htmx := range []bool{false, true} {
		t.Run(fmt.Sprintf("htmx=%v", htmx), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			dir := e.workspace("reapme")
			h := startHub(t, "serve", dir, true)
			id := registry.WorkspaceID(dir)
			ct := e.createTime(h.PID)
			w := e.post("/workspaces/"+id+"/reap", url.Values{
				"confirm": {"yes"}, "pid": {strconv.Itoa(h.PID)}, "create_time": {ct}, "back": {"/"},
			}, htmx)
			want := http.StatusSeeOther
			if htmx {
				want = http.StatusOK
			}
			if w.Code != want {
				t.Fatalf("%d: %s", w.Code, w.Body.String())
			}
			if !h.Exited(5 * time.Second) {
				t.Fatal("the hub is still running")
			}
			if _, err := e.reg.Read(dir); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("entry still there: %v", err)
			}
			wantMsg := fmt.Sprintf("Reaped the hub of reapme (pid %d) and removed its entry.", h.PID)
			var msg string
			var d dom
			if htmx {
				msg, d = answer(t, w, true)
			} else {
				msg, d = e.followFlash(w.Result())
			}
			if msg != wantMsg {
				t.Errorf("message %q, want %q", msg, wantMsg)
			}
			wantNone(t, d, "#ws-"+id)
			if rec := e.lastAudit(); rec.Action != "reap" || rec.Target != dir || rec.Result != "ok" {
				t.Errorf("audit %+v", rec)
			}
		})
	}
}

func TestReapProcess(t *testing.T) {
	t.Parallel()
	for _, htmx := range []bool{false, true} {
		t.Run(fmt.Sprintf("htmx=%v", htmx), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			h := startHub(t, "serve", e.workspace("orphaned"), false)
			ct := e.createTime(h.PID)
			row := e.page("/", http.StatusOK).one(fmt.Sprintf("tr#proc-%d input[name=create_time]", h.PID))
			if got := val(row, "value"); got != ct {
				t.Errorf("create_time field %q, want %q", got, ct)
			}
			w := e.post(fmt.Sprintf("/processes/%d/reap", h.PID), url.Values{"confirm": {"yes"}, "create_time": {ct}}, htmx)
			if (htmx && w.Code != http.StatusOK) || (!htmx && w.Code != http.StatusSeeOther) {
				t.Fatalf("%d: %s", w.Code, w.Body.String())
			}
			if !h.Exited(5 * time.Second) {
				t.Fatal("the orphan is still running")
			}
			if htmx {
				msg, d := answer(t, w, true)
				if want := fmt.Sprintf("Reaped hub process %d.", h.PID); msg != want {
					t.Errorf("message %q, want %q", msg, want)
				}
				d.one("section#orphans[hx-swap-oob=true]")
				wantNone(t, d, fmt.Sprintf("#proc-%d", h.PID))
			}
			if rec := e.lastAudit(); rec.Action != "reap-process" || rec.Target != fmt.Sprintf("pid %d", h.PID) || rec.Result != "ok" {
				t.Errorf("audit %+v", rec)
			}
		})
	}
}

func TestReapRejections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("live")
	h := startHub(t, "serve", dir, true)
	id := registry.WorkspaceID(dir)
	ct := e.createTime(h.PID)
	orphan := startHub(t, "serve", e.workspace("lost"), false)
	oct := e.createTime(orphan.PID)
	idleID := e.idle(e.workspace("idle"), "idle")
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	e.refresh()
	wrong := time.Now().Add(-time.Hour).Format(time.RFC3339Nano)
	pid := strconv.Itoa(h.PID)
	opid := strconv.Itoa(orphan.PID)
	tests := []struct {
		name   string
		target string
		form   url.Values
		code   int
		msg    string
	}{
		{"unknown workspace", "/workspaces/0123456789abcdef/reap", url.Values{}, http.StatusNotFound, "no workspace"},
		{"unknown workspace remove", "/workspaces/0123456789abcdef/remove", url.Values{}, http.StatusNotFound, "no workspace"},
		{"bad id", "/workspaces/..%2f..%2fx/remove", url.Values{}, http.StatusNotFound, "no workspace"},
		{"changed pid", "/workspaces/" + id + "/reap", url.Values{"pid": {"12345678"}, "create_time": {ct}}, http.StatusConflict, "changed"},
		{"changed create time", "/workspaces/" + id + "/reap", url.Values{"pid": {pid}, "create_time": {wrong}}, http.StatusConflict, "changed"},
		{"malformed create time", "/workspaces/" + id + "/reap", url.Values{"pid": {pid}, "create_time": {"yesterday"}}, http.StatusBadRequest, "malformed"},
		{"idle workspace", "/workspaces/" + idleID + "/reap", url.Values{}, http.StatusBadRequest, "not a live bones hub"},
		{"process changed", "/processes/" + opid + "/reap", url.Values{"create_time": {wrong}}, http.StatusConflict, "changed"},
		{"process not a hub", "/processes/" + strconv.Itoa(other.Process.Pid) + "/reap", url.Values{"create_time": {oct}}, http.StatusBadRequest, "not a live bones hub"},
		{"pid 1", "/processes/1/reap", url.Values{"create_time": {oct}}, http.StatusBadRequest, "not a live bones hub"},
		{"own pid", "/processes/" + strconv.Itoa(os.Getpid()) + "/reap", url.Values{"create_time": {oct}}, http.StatusBadRequest, "not a live bones hub"},
		{"not a pid", "/processes/abc/reap", url.Values{"create_time": {oct}}, http.StatusBadRequest, "not a live bones hub"},
		{"no create time", "/processes/" + opid + "/reap", url.Values{}, http.StatusBadRequest, "create_time"},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/htmx=%v", tt.name, htmx), func(t *testing.T) {
				before := e.registryFiles()
				tt.form.Set("confirm", "yes")
				w := e.post(tt.target, tt.form, htmx)
				if w.Code != tt.code {
					t.Fatalf("%d, want %d: %s", w.Code, tt.code, w.Body.String())
				}
				wantAlert(t, w, htmx, tt.msg)
				if !maps.Equal(before, e.registryFiles()) {
					t.Error("a rejected action changed the registry")
				}
			})
		}
	}
	if h.Exited(0) || orphan.Exited(0) || !procscan.Alive(other.Process.Pid) {
		t.Fatal("a rejected reap signalled a process")
	}
}

// TestRegisterConflictFromRegistry shows that the register action asks the
// registry, not the possibly stale snapshot, whether a hub entry is kept.
func TestRegisterConflictFromRegistry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	busy := e.workspace("busy")
	e.refresh()
	h := startHub(t, "serve", busy, true) // after the snapshot: it shows no entry
	before := e.registryFiles()
	w := e.post("/workspaces", url.Values{"cwd": {busy}, "name": {"take over"}}, true)
	if w.Code != http.StatusConflict {
		t.Fatalf("%d, want 409: %s", w.Code, w.Body.String())
	}
	wantAlert(t, w, true, fmt.Sprintf("already has a live hub entry (pid %d); nothing was changed", h.PID))
	if !maps.Equal(before, e.registryFiles()) {
		t.Error("the refused register changed the registry")
	}

	// The snapshot still shows the hub after it died; the registry knows
	// better and the idle row is written.
	e.refresh()
	h.Kill()
	w = e.post("/workspaces", url.Values{"cwd": {busy}, "name": {"after the hub"}}, true)
	if w.Code != http.StatusOK {
		t.Fatalf("register after the hub died: %d: %s", w.Code, w.Body.String())
	}
	if entry, err := e.reg.Read(busy); err != nil || entry.HubPID != 0 || entry.Name != "after the hub" {
		t.Errorf("entry %+v, %v; want the idle row", entry, err)
	}
}

// TestReapRefusesNonHubs reaps workspaces whose entries name processes that
// are not bones hubs, or cannot vouch for their hub: nothing is signalled,
// the answer says why and the entry stays. The entries answer probes on a
// loopback server, so their rows show a running hub.
func TestReapRefusesNonHubs(t *testing.T) {
	t.Parallel()
	answering := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(answering.Close)
	e := newEnv(t, false)
	tests := []struct {
		name  string
		start func(t *testing.T, dir string) int // returns the pid the entry names
		// startedAt is the entry's started_at relative to now.
		startedAt time.Duration
		seen      bool // the form carries the create time
		code      int
		msg       string
	}{
		{"sleep, started_at in the future", startSleep, time.Hour, false, http.StatusBadRequest, "not a live bones hub"},
		{"sleep, started_at in the past", startSleep, -time.Hour, false, http.StatusBadRequest, "not a live bones hub"},
		{"sleep, create time seen", startSleep, 0, true, http.StatusBadRequest, "not a live bones hub"},
		{"hub, started_at in the future", startUnregisteredHub, time.Hour, false, http.StatusConflict, "started_at"},
		{"hub, started_at in the future, create time seen", startUnregisteredHub, time.Hour, true, http.StatusConflict, "started_at"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := e.workspace(fmt.Sprintf("nonhub%d", i))
			pid := tt.start(t, dir)
			if err := e.reg.Write(registry.Entry{
				Cwd: dir, Name: "nonhub", HubURL: answering.URL, HubPID: pid, StartedAt: time.Now().Add(tt.startedAt).UTC(),
			}); err != nil {
				t.Fatal(err)
			}
			id := registry.WorkspaceID(dir)
			if w := findWorkspace(e.refresh(), id); w == nil || w.Status != "running" {
				t.Fatalf("workspace row %+v, want a running hub", w)
			}
			form := url.Values{"confirm": {"yes"}, "pid": {strconv.Itoa(pid)}}
			if tt.seen {
				ct, err := procscan.CreateTime(pid)
				if err != nil {
					t.Fatal(err)
				}
				form.Set("create_time", ct.Format(time.RFC3339Nano))
			}
			before := e.registryFiles()
			w := e.post("/workspaces/"+id+"/reap", form, true)
			if w.Code != tt.code {
				t.Fatalf("%d, want %d: %s", w.Code, tt.code, w.Body.String())
			}
			wantAlert(t, w, true, tt.msg, "nothing was signalled", "use Remove")
			if !maps.Equal(before, e.registryFiles()) {
				t.Error("the refused reap changed the registry")
			}
			time.Sleep(100 * time.Millisecond)
			if !procscan.Alive(pid) {
				t.Errorf("pid %d was signalled", pid)
			}
		})
	}
}

// startSleep runs a plain sleep, no bones hub, until the test ends.
func startSleep(t *testing.T, dir string) int {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// startUnregisteredHub runs a hub that writes no entry of its own.
func startUnregisteredHub(t *testing.T, dir string) int {
	t.Helper()
	return startHub(t, "hang", dir, false).PID
}

// TestReapProcessRefusesRegisteredHub shows that /processes/{pid}/reap only
// reaps process-only orphans: a registered hub is reaped through its
// workspace.
func TestReapProcessRefusesRegisteredHub(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("registered")
	h := startHub(t, "serve", dir, true)
	ct := e.createTime(h.PID)
	// A second hub in the same workspace is named by no entry but still
	// belongs to a registered workspace.
	second := startHub(t, "serve", dir, false)
	sct := e.createTime(second.PID)
	tests := []struct {
		name string
		pid  int
		ct   string
		msg  string
	}{
		{"the entry's hub", h.PID, ct, "registered hub of registered"},
		{"another hub in the workspace", second.PID, sct, "registered workspace"},
	}
	for _, tt := range tests {
		for _, confirm := range []string{"yes", ""} {
			t.Run(fmt.Sprintf("%s/confirm=%q", tt.name, confirm), func(t *testing.T) {
				before := e.registryFiles()
				w := e.post(fmt.Sprintf("/processes/%d/reap", tt.pid), url.Values{"confirm": {confirm}, "create_time": {tt.ct}}, false)
				if w.Code != http.StatusConflict {
					t.Fatalf("%d, want 409: %s", w.Code, w.Body.String())
				}
				wantAlert(t, w, false, tt.msg, "nothing was signalled", "use Reap on that workspace")
				if !maps.Equal(before, e.registryFiles()) {
					t.Error("the refused reap changed the registry")
				}
				if rec := e.lastAudit(); !strings.HasPrefix(rec.Result, "rejected") {
					t.Errorf("audit result %q", rec.Result)
				}
			})
		}
	}
	if h.Exited(100*time.Millisecond) || second.Exited(0) {
		t.Fatal("a refused reap signalled a hub")
	}
}

// TestReapExitedHub reaps a workspace whose hub died after the page showed
// it: the action succeeds, says so, and the entry is gone.
func TestReapExitedHub(t *testing.T) {
	t.Parallel()
	for _, htmx := range []bool{false, true} {
		for _, withSeen := range []bool{false, true} {
			t.Run(fmt.Sprintf("htmx=%v/create_time=%v", htmx, withSeen), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, false)
				dir := e.workspace("gone")
				h := startHub(t, "serve", dir, true)
				id := registry.WorkspaceID(dir)
				form := url.Values{"confirm": {"yes"}, "pid": {strconv.Itoa(h.PID)}, "back": {"/"}}
				if withSeen {
					form.Set("create_time", e.createTime(h.PID))
				} else {
					e.refresh()
				}
				h.Kill() // SIGKILL: the hub cannot remove its own entry
				w := e.post("/workspaces/"+id+"/reap", form, htmx)
				want := http.StatusSeeOther
				if htmx {
					want = http.StatusOK
				}
				if w.Code != want {
					t.Fatalf("%d, want %d: %s", w.Code, want, w.Body.String())
				}
				wantMsg := fmt.Sprintf("The hub of gone (pid %d) had already exited; its entry is removed.", h.PID)
				var msg string
				if htmx {
					msg, _ = answer(t, w, true)
				} else {
					msg, _ = e.followFlash(w.Result())
				}
				if msg != wantMsg {
					t.Errorf("message %q, want %q", msg, wantMsg)
				}
				if _, err := os.Stat(e.reg.EntryPath(dir)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("entry file still there: %v", err)
				}
				if rec := e.lastAudit(); rec.Action != "reap" || rec.Target != dir || rec.Result != "ok" {
					t.Errorf("audit %+v", rec)
				}
			})
		}
	}
}
