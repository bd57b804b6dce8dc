//go:build unix

package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boneyard/internal/bonescli"
	"boneyard/internal/collector"
	"boneyard/internal/hubtest"
	"boneyard/procscan"
	"boneyard/registry"
	"boneyard/web/templates"
)

// newBonesEnv is newEnv whose collector starts and stops hubs with the
// fake bones CLI, or, without bones, has none for want of one on PATH.
func newBonesEnv(t *testing.T, bones bool) *env {
	t.Helper()
	takeSlot(t)
	e := newHomeEnv(t)
	opts := collector.Options{Registry: e.reg, Interval: time.Hour, Debounce: 5 * time.Millisecond, Scan: e.scan}
	if bones {
		opts.Bones = fakeBones(t, e.home)
	} else {
		opts.NoBones = fmt.Errorf("%w: no bones on PATH; install bones or start boneyard with --bones PATH", bonescli.ErrNotFound)
	}
	e.col = collector.New(opts)
	e.start()
	e.refresh()
	return e
}

// fakeBones is the fake bones CLI for the env in home: the test process's
// HOME becomes home, which bones and the hubs it starts inherit, so that
// they register in that env's registry (like every t.Setenv, it rules out
// t.Parallel).
func fakeBones(t *testing.T, home string) *bonescli.CLI {
	t.Helper()
	for _, kv := range hubtest.HomeEnv(home) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cli, err := bonescli.Find(hubtest.FakeBones(t))
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// adoptHub makes the hub the fake bones CLI started in dir one of the
// test's own: listed by the scan, killed at the end.
func adoptHub(t *testing.T, dir string) int {
	t.Helper()
	pid := hubtest.HubPID(t, dir)
	if pid == 0 {
		t.Fatalf("no hub.pid in %s", dir)
	}
	hubtest.KillAtEnd(t, pid)
	envOf(dir).hubs.Add(t, pid)
	return pid
}

// detached starts a hub in dir with the fake bones CLI, as a user would,
// and makes it one of the test's own hubs.
func detached(t *testing.T, dir string) int {
	t.Helper()
	pid := hubtest.Detach(t, dir)
	envOf(dir).hubs.Add(t, pid)
	return pid
}

func TestStartAndStopAnswers(t *testing.T) {
	e := newBonesEnv(t, true)
	dir := e.workspace("alpha")
	id := e.idle(dir, "alpha")
	e.refresh()

	d := e.page("/", http.StatusOK)
	start := d.one("tr#ws-" + id + " form[action=\"" + templates.StartPath(id) + "\"][hx-post=\"" + templates.StartPath(id) + "\"]")
	wantText(t, start, "Start")
	if q := val(start, "hx-confirm"); q != "Start the hub of alpha? "+templates.StartEffect {
		t.Errorf("start asks %q", q)
	}
	wantNone(t, d, "tr#ws-"+id+" form[action=\""+templates.StopPath(id)+"\"]", "tr#ws-"+id+" button[disabled]")
	wantText(t, d.one("p#bones-cli code"), hubtest.FakeBones(t))

	// Without JavaScript a confirmation page comes first; nothing starts.
	w := e.post(templates.StartPath(id), url.Values{"back": {"/"}}, false)
	if w.Code != http.StatusOK {
		t.Fatalf("unconfirmed start: %d", w.Code)
	}
	c := parseDOM(t, w.Body.String())
	wantText(t, c.one("h1"), "Confirm start")
	wantText(t, c.one("main"), "Really start the hub of alpha ("+dir+")?", templates.StartEffect)
	c.one("form[action=\"" + templates.StartPath(id) + "\"] input[name=confirm][value=yes]")
	if pid := hubtest.HubPID(t, dir); pid != 0 {
		t.Fatalf("an unconfirmed start started hub %d", pid)
	}

	w = e.post(templates.StartPath(id), url.Values{"confirm": {"yes"}, "back": {"/"}}, true)
	if w.Code != http.StatusOK {
		t.Fatalf("start: %d %s", w.Code, w.Body.String())
	}
	pid := adoptHub(t, dir)
	msg, a := answer(t, w, true)
	if want := fmt.Sprintf("Started the hub of alpha: pid %d, running (bones took ", pid); !strings.HasPrefix(msg, want) {
		t.Errorf("message %q, want it to start %q", msg, want)
	}
	a.one("tr#ws-" + id + "[data-status=running]")
	if rec := e.lastAudit(); rec.Action != "start" || rec.Target != dir || rec.Result != "ok" {
		t.Errorf("audit %+v", rec)
	}

	// Without JavaScript a confirmed stop redirects with the result.
	e.refresh()
	w = e.post(templates.StopPath(id), url.Values{"confirm": {"yes"}, "back": {"/"}, "pid": {strconv.Itoa(pid)}}, false)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("stop: %d %s", w.Code, w.Body.String())
	}
	msg, page := e.followFlash(w.Result())
	if want := fmt.Sprintf("Stopped the hub of alpha (pid %d) in ", pid); !strings.HasPrefix(msg, want) {
		t.Errorf("message %q, want it to start %q", msg, want)
	}
	wantNone(t, page, "tr#ws-"+id)
	if procscan.Alive(pid) {
		t.Error("the hub survived the stop")
	}
}

func TestStopRefusedForSlotsOffersForce(t *testing.T) {
	e := newBonesEnv(t, true)
	dir := e.workspace("slots")
	pid := detached(t, dir)
	slot := filepath.Join(dir, ".bones", "swarm", "fake-slot")
	if err := os.MkdirAll(slot, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(slot, "leaf.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := registry.WorkspaceID(dir)
	e.refresh()

	form := url.Values{"confirm": {"yes"}, "back": {"/"}, "pid": {strconv.Itoa(pid)}}
	w := e.post(templates.StopPath(id), form, true)
	if w.Code != http.StatusConflict {
		t.Fatalf("stop with live slots: %d, want 409", w.Code)
	}
	d := wantAlert(t, w, true, "bones refused to stop the hub of slots: swarm slots are active there")
	wantText(t, d.one("div#flash pre"), "hub: active swarm slots present: fake-slot — close them first or pass --force")
	retry := d.one("div#flash form.retry[action=\"" + templates.StopPath(id) + "\"]")
	if q := val(retry, "hx-confirm"); q != "Stop the hub of slots anyway? "+templates.ForceStopEffect {
		t.Errorf("Stop anyway asks %q", q)
	}
	d.in(retry).one("input[name=force][value=yes]")
	d.in(retry).one("input[name=pid][value=\"" + strconv.Itoa(pid) + "\"]")
	wantText(t, d.in(retry).one("button.danger"), "Stop anyway")
	if rec := e.lastAudit(); rec.Action != "stop" || !strings.HasPrefix(rec.Result, "failed: bones refused") {
		t.Errorf("audit %+v", rec)
	}
	if !procscan.Alive(pid) {
		t.Fatal("a refused stop ended the hub")
	}

	// Stop anyway has a confirmation of its own.
	w = e.post(templates.StopPath(id), url.Values{"force": {"yes"}, "back": {"/"}, "pid": {strconv.Itoa(pid)}}, false)
	c := parseDOM(t, w.Body.String())
	wantText(t, c.one("h1"), "Confirm force-stop")
	wantText(t, c.one("main"), templates.ForceStopEffect)
	c.one("form input[name=force][value=yes]")

	form.Set("force", "yes")
	if w := e.post(templates.StopPath(id), form, false); w.Code != http.StatusSeeOther {
		t.Fatalf("forced stop: %d %s", w.Code, w.Body.String())
	}
	if procscan.Alive(pid) {
		t.Error("the hub survived a forced stop")
	}
	if rec := e.lastAudit(); rec.Action != "force-stop" || rec.Result != "ok" {
		t.Errorf("audit %+v", rec)
	}
}

func TestRestartAnswer(t *testing.T) {
	e := newBonesEnv(t, true)
	dir := e.workspace("again")
	old := detached(t, dir)
	id := registry.WorkspaceID(dir)
	e.refresh()
	w := e.post(templates.RestartPath(id), url.Values{"confirm": {"yes"}, "back": {"/"}, "pid": {strconv.Itoa(old)}}, true)
	if w.Code != http.StatusOK {
		t.Fatalf("restart: %d %s", w.Code, w.Body.String())
	}
	pid := adoptHub(t, dir)
	msg, _ := answer(t, w, true)
	if want := fmt.Sprintf("Restarted the hub of again: stopped pid %d, then started pid %d, running (", old, pid); !strings.HasPrefix(msg, want) {
		t.Errorf("message %q, want it to start %q", msg, want)
	}
	if procscan.Alive(old) || pid == old {
		t.Errorf("old hub %d alive %v, new %d", old, procscan.Alive(old), pid)
	}
}

func TestLifecycleTurnedOffWithoutBones(t *testing.T) {
	e := newBonesEnv(t, false)
	idleDir := e.workspace("quiet")
	idleID := e.idle(idleDir, "quiet")
	runDir := e.workspace("busy")
	startHub(t, "serve", runDir, true)
	runID := registry.WorkspaceID(runDir)
	e.refresh()

	const reason = "bones CLI not found: no bones on PATH; install bones or start boneyard with --bones PATH"
	for _, target := range []string{"/", templates.WorkspacePath(idleID), templates.WorkspacePath(runID)} {
		d := e.page(target, http.StatusOK)
		wantText(t, d.one("p#bones-cli.note"), "Start, Stop and Restart are turned off: "+reason)
	}
	d := e.page("/", http.StatusOK)
	for _, c := range []struct{ id, label string }{{idleID, "Start"}, {runID, "Stop"}, {runID, "Restart"}} {
		var found bool
		for _, b := range d.all("tr#ws-" + c.id + " button[disabled][aria-describedby=bones-cli]") {
			if strings.HasPrefix(text(b), c.label) {
				found = true
				if title := val(b, "title"); title != "Turned off: "+reason {
					t.Errorf("%s title %q", c.label, title)
				}
			}
		}
		if !found {
			t.Errorf("no disabled %s button on row %s", c.label, c.id)
		}
	}
	wantNone(t, d, "form[action=\""+templates.StartPath(idleID)+"\"]", "form[action=\""+templates.StopPath(runID)+"\"]")
	d.one("tr#ws-" + runID + " form[action=\"" + templates.ReapPath(runID) + "\"]")

	for path, verb := range map[string]string{templates.StartPath(idleID): "start", templates.StopPath(runID): "stop", templates.RestartPath(runID): "restart"} {
		w := e.post(path, url.Values{"confirm": {"yes"}, "back": {"/"}}, true)
		if w.Code != http.StatusConflict {
			t.Errorf("POST %s: %d, want 409", path, w.Code)
		}
		wantAlert(t, w, true, "boneyard cannot "+verb+" hubs: "+reason)
	}
}

func TestLifecycleAndCleanupGuarded(t *testing.T) {
	e := newBonesEnv(t, true)
	dir := e.workspace("guarded")
	id := e.idle(dir, "guarded")
	e.refresh()
	form := url.Values{"confirm": {"yes"}, "back": {"/"}}
	for _, path := range []string{templates.StartPath(id), templates.StopPath(id), templates.RestartPath(id), templates.CleanupPath, templates.APICleanupPath} {
		r := request(http.MethodPost, path, form)
		r.Header.Del("Authorization")
		if w := e.serve(r); w.Code != http.StatusUnauthorized {
			t.Errorf("POST %s without the token: %d, want 401", path, w.Code)
		}
		r = request(http.MethodPost, path, form)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		if w := e.serve(r); w.Code != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, w.Code)
		}
	}
	if pid := hubtest.HubPID(t, dir); pid != 0 {
		hubtest.KillAtEnd(t, pid)
		t.Fatalf("a refused POST started hub %d", pid)
	}
	if lines := e.auditLines(); len(lines) != 0 {
		t.Errorf("refused requests were audited as actions: %+v", lines)
	}
	// An id that is no workspace reaches no directory.
	w := e.post(templates.StartPath("0123456789abcdef"), form, true)
	if w.Code != http.StatusNotFound {
		t.Errorf("start of an unknown workspace: %d, want 404", w.Code)
	}
}

func TestStopLeavesItDownAndStartBringsItBack(t *testing.T) {
	e := newJournalEnv(t, false, func(o *collector.Options) { o.Bones = fakeBones(t, o.Registry.Home) })
	dir := e.workspace("beta")
	pid := detached(t, dir)
	id := registry.WorkspaceID(dir)
	e.refresh()

	w := e.post(templates.StopPath(id), url.Values{"confirm": {"yes"}, "back": {"/"}, "pid": {strconv.Itoa(pid)}}, true)
	if w.Code != http.StatusOK {
		t.Fatalf("stop: %d %s", w.Code, w.Body.String())
	}
	_, d := answer(t, w, true)
	row := d.one("tr#ws-" + id + "[data-status=down]")
	wantText(t, row, "stopped from boneyard")
	start := d.in(row).one("form[action=\"" + templates.StartPath(id) + "\"]")
	wantText(t, start, "Start")

	// The detail page of the down workspace offers Start too.
	page := e.page(templates.WorkspacePath(id), http.StatusOK)
	page.one("form[action=\"" + templates.StartPath(id) + "\"]")

	w = e.post(templates.StartPath(id), url.Values{"confirm": {"yes"}, "back": {"/"}}, true)
	if w.Code != http.StatusOK {
		t.Fatalf("start from down: %d %s", w.Code, w.Body.String())
	}
	again := adoptHub(t, dir)
	msg, d := answer(t, w, true)
	wantText(t, d.one("tr#ws-"+id+"[data-status=running]"), strconv.Itoa(again))
	if !strings.HasPrefix(msg, fmt.Sprintf("Started the hub of beta: pid %d, running", again)) {
		t.Errorf("message %q", msg)
	}
	var kinds []string
	for _, ev := range e.refresh().Events(collector.EventFilter{WorkspaceID: id}) {
		if strings.HasPrefix(ev.Detail, "from boneyard") {
			kinds = append(kinds, string(ev.Kind))
		}
	}
	if strings.Join(kinds, " ") != "hub-started hub-stopped" {
		t.Errorf("boneyard's events, newest first: %v; want hub-started hub-stopped", kinds)
	}
}
