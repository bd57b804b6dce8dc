package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"boneyard/procscan"
	"boneyard/registry"
	"boneyard/web/templates"
)

// cleanupEnv is a server whose plan holds a process-only orphan hub
// (loose) and a stopped hub's entry (stuck).
func cleanupEnv(t *testing.T) (e *env, loose *hub, stuck *hub, stuckID string) {
	t.Helper()
	e = newEnv(t, false)
	loose = startHub(t, "serve", e.workspace("loose"), false)
	stuckDir := e.workspace("stuck")
	stuck = startHub(t, "hang", stuckDir, true)
	e.refresh()
	return e, loose, stuck, registry.WorkspaceID(stuckDir)
}

// planIDs are the item ids the preview's checkboxes send, by kind.
func planIDs(t *testing.T, d dom) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, g := range d.all("form#cleanup-form fieldset.cleanup-group") {
		for _, box := range d.in(g).all("input[type=checkbox][name=id][checked]") {
			ids[val(g, "data-kind")] = val(box, "value")
		}
	}
	return ids
}

func TestCleanupPreview(t *testing.T) {
	e, loose, stuck, stuckID := cleanupEnv(t)
	d := e.page("/", http.StatusOK)
	link := d.one("div#cleanup-link a.button[href=\"/cleanup\"]")
	wantText(t, link, "Clean up")
	wantText(t, d.one("div#cleanup-link"), "2 items to clean up: see the preview first")

	d = e.page(templates.CleanupPath, http.StatusOK)
	wantText(t, d.one("h1"), "End-of-day cleanup")
	ids := planIDs(t, d)
	if !strings.HasPrefix(ids["reap-process"], "reap-process:"+strconv.Itoa(loose.PID)+":") || !strings.HasPrefix(ids["remove-entry"], "remove-entry:"+stuckID+":") || len(ids) != 2 {
		t.Fatalf("plan ids %v", ids)
	}
	item := d.one("li[data-id=\"" + ids["remove-entry"] + "\"]")
	wantText(t, item, "stuck (pid "+strconv.Itoa(stuck.PID)+")", "Why: its hub does not answer: pid "+strconv.Itoa(stuck.PID)+" alive, hub not answering at")
	wantText(t, d.one("li[data-id=\""+ids["reap-process"]+"\"] .reason"), "Why: cwd missing from registry")
	form := d.one("form#cleanup-form[method=post][action=\"/cleanup\"][hx-post=\"/cleanup\"]")
	if q := val(form, "hx-confirm"); q != "Run the ticked cleanup items? "+templates.CleanupRunEffect {
		t.Errorf("cleanup asks %q", q)
	}
	wantNone(t, d, "form#cleanup-form input[name=idle_hours]", "input#cleanup-idle[checked]")

	// The idle option: on, with a limit no hub reaches; a bad limit is said.
	d = e.page(templates.CleanupPath+"?idle=on&idle_hours=12", http.StatusOK)
	d.one("input#cleanup-idle[checked]")
	d.one("form#cleanup-form input[name=idle_hours][value=\"12\"]")
	for _, bad := range []string{"0", "721", "1.5", "x"} {
		d = e.page(templates.CleanupPath+"?idle=on&idle_hours="+bad, http.StatusBadRequest)
		wantText(t, d.one("div#flash p.flash-error[role=alert]"), "is not a whole number of hours from 1 to 720")
		wantNone(t, d, "input#cleanup-idle[checked]")
	}

	// Read-only: the same list, nothing to tick or run.
	e.readOnly()
	d = e.page(templates.CleanupPath, http.StatusOK)
	d.one("li[data-id=\"" + ids["reap-process"] + "\"]")
	wantNone(t, d, actionForms...)
	wantNone(t, d, "input[type=checkbox][name=id]")
	wantNone(t, e.page("/", http.StatusOK), "div#cleanup-link a")
}

func TestCleanupRun(t *testing.T) {
	e, loose, stuck, _ := cleanupEnv(t)
	ids := planIDs(t, e.page(templates.CleanupPath, http.StatusOK))
	before := e.registryFiles()

	// Without JavaScript one confirmation page comes first.
	w := e.post(templates.CleanupPath, url.Values{"id": {ids["reap-process"], ids["remove-entry"]}}, false)
	d := parseDOM(t, w.Body.String())
	wantText(t, d.one("h1"), "Confirm clean up")
	wantText(t, d.one("main"), "Really clean up 2 ticked items?", templates.CleanupRunEffect)
	if n := len(d.all("form[action=\"/cleanup\"] input[type=hidden][name=id]")); n != 2 {
		t.Errorf("%d ids carried by the confirmation, want 2", n)
	}
	if c := val(d.one("form a"), "href"); c != "/cleanup" {
		t.Errorf("cancel goes to %q", c)
	}

	// Only the ticked item runs; the page says what it came to.
	w = e.post(templates.CleanupPath, url.Values{"id": {ids["reap-process"]}, "confirm": {"yes"}}, false)
	if w.Code != http.StatusOK {
		t.Fatalf("run: %d %s", w.Code, w.Body.String())
	}
	d = parseDOM(t, w.Body.String())
	wantText(t, d.one("div#flash p.flash-ok"), "Cleanup: 1 done; each item's result is below.")
	row := d.one("table#cleanup-result-table tr[data-outcome=done][data-id=\"" + ids["reap-process"] + "\"]")
	wantText(t, row, "pid "+strconv.Itoa(loose.PID), "reaped hub process "+strconv.Itoa(loose.PID))
	d.one("li[data-id=\"" + ids["remove-entry"] + "\"]")
	wantNone(t, d, "li[data-id=\""+ids["reap-process"]+"\"]")
	if procscan.Alive(loose.PID) || !procscan.Alive(stuck.PID) {
		t.Errorf("loose alive %v (want false), stuck alive %v (want true)", procscan.Alive(loose.PID), procscan.Alive(stuck.PID))
	}
	if after := e.registryFiles(); len(after) != len(before) {
		t.Errorf("registry %v, was %v", after, before)
	}
	if rec := e.lastAudit(); rec.Action != "cleanup reap-process" || rec.Result != "done: reaped hub process "+strconv.Itoa(loose.PID) {
		t.Errorf("audit %+v", rec)
	}

	// With htmx, an item gone since the plan: out-of-band results.
	w = e.post(templates.CleanupPath, url.Values{"id": {ids["reap-process"]}, "confirm": {"yes"}}, true)
	d = parseDOM(t, w.Body.String())
	d.one("section#cleanup-results[hx-swap-oob=true] tr[data-outcome=gone]")
	d.one("section#cleanup-plan[hx-swap-oob=true] li[data-id=\"" + ids["remove-entry"] + "\"]")
	wantText(t, d.one("div#flash[hx-swap-oob=true] p.flash-ok"), "Cleanup: 1 gone")

	for name, form := range map[string]url.Values{
		"nothing ticked": {"confirm": {"yes"}},
		"a bad id":       {"confirm": {"yes"}, "id": {"reap-process:1:xyz"}},
		"a bad limit":    {"confirm": {"yes"}, "id": {ids["remove-entry"]}, "idle_hours": {"-1"}},
	} {
		w := e.post(templates.CleanupPath, form, true)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, w.Code)
		}
		wantAlert(t, w, true, map[string]string{"nothing ticked": "no item is ticked", "a bad id": "is not a cleanup item id", "a bad limit": "idle limit"}[name])
	}
	if !procscan.Alive(stuck.PID) {
		t.Error("a refused run signalled the stuck hub")
	}
}

func TestCleanupAPI(t *testing.T) {
	e, loose, stuck, stuckID := cleanupEnv(t)
	w := e.get(templates.APICleanupPath)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	var plan struct {
		IdleHours int `json:"idle_hours"`
		Items     []struct {
			ID         string `json:"id"`
			Kind       string `json:"kind"`
			PID        int    `json:"pid"`
			CreateTime string `json:"create_time"`
		} `json:"items"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.IdleHours != 0 || len(plan.Items) != 2 || plan.Items[0].Kind != "reap-process" || plan.Items[0].PID != loose.PID ||
		plan.Items[1].Kind != "remove-entry" || plan.Items[1].PID != stuck.PID || plan.Items[0].CreateTime == "" {
		t.Fatalf("plan %s", w.Body.String())
	}
	if !strings.Contains(w.Body.String(), `"workspace_id":"`+stuckID+`"`) || !strings.Contains(w.Body.String(), `"reason":"cwd missing from registry"`) {
		t.Errorf("plan lacks the workspace id or a reason: %s", w.Body.String())
	}
	if w := e.get(templates.APICleanupPath + "?idle_hours=x"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("bad idle_hours: %d %s", w.Code, w.Body.String())
	}

	post := func(contentType, body string) (int, string) {
		r := httptest.NewRequest(http.MethodPost, templates.APICleanupPath, strings.NewReader(body))
		r.Host = testHost
		r.Header.Set("Authorization", "Bearer "+testToken)
		r.Header.Set("Content-Type", contentType)
		w := e.serve(r)
		return w.Code, w.Body.String()
	}
	stale := plan.Items[1].ID[:len(plan.Items[1].ID)-12] + "abcdefabcdef"
	for _, c := range []struct {
		ct, body string
		code     int
		want     string
	}{
		{"application/x-www-form-urlencoded", "ids=" + plan.Items[0].ID, http.StatusUnsupportedMediaType, "send the items as JSON"},
		{"application/json", `{"ids":`, http.StatusBadRequest, "the body is not"},
		{"application/json", `{"id":["x"]}`, http.StatusBadRequest, "the body is not"},
		{"application/json", `{"ids":[]}`, http.StatusBadRequest, "no item is ticked"},
		{"application/json", `{"ids":["../../x"]}`, http.StatusBadRequest, "is not a cleanup item id"},
		{"application/json", fmt.Sprintf(`{"ids":[%q],"idle_hours":9999}`, stale), http.StatusBadRequest, "idle limit"},
	} {
		if code, body := post(c.ct, c.body); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("POST %s %s: %d %s; want %d with %q", c.ct, c.body, code, body, c.code, c.want)
		}
	}

	code, body := post("application/json; charset=utf-8", fmt.Sprintf(`{"ids":[%q,%q]}`, stale, plan.Items[0].ID))
	var run struct {
		Results []struct{ ID, Outcome, Message string } `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &run); code != http.StatusOK || err != nil {
		t.Fatalf("POST: %d %s (%v)", code, body, err)
	}
	if len(run.Results) != 2 || run.Results[0].ID != plan.Items[0].ID || run.Results[0].Outcome != "done" ||
		run.Results[1].ID != stale || run.Results[1].Outcome != "refused" || !strings.Contains(run.Results[1].Message, "changed since the plan") {
		t.Fatalf("results %s", body)
	}
	if procscan.Alive(loose.PID) || !procscan.Alive(stuck.PID) {
		t.Errorf("loose alive %v (want false), stuck alive %v (want true)", procscan.Alive(loose.PID), procscan.Alive(stuck.PID))
	}
}

func TestCleanupAPIBeforeFirstCollection(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	if w := e.get(templates.APICleanupPath); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("GET before the first collection: %d", w.Code)
	}
}
