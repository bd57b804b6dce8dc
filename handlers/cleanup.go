package handlers

import (
	"cmp"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

// End-of-day cleanup: the preview page and its run, and the same over JSON.

// defaultIdleHours is the idle limit the preview offers.
const defaultIdleHours = 8

// maxCleanupIDs bounds the items one run may name.
const maxCleanupIDs = 1000

// idleLimit parses an idle limit in whole hours, 1 to 720; "" is none.
func idleLimit(raw string) (time.Duration, error) {
	if raw == "" {
		return 0, nil
	}
	h, err := strconv.Atoi(raw)
	if err != nil || h < 1 || time.Duration(h)*time.Hour > collector.MaxIdleAfter {
		return 0, collector.Refuse(collector.Invalid, "the idle limit %q is not a whole number of hours from 1 to %d: enter one, e.g. %d", raw, int(collector.MaxIdleAfter/time.Hour), defaultIdleHours)
	}
	return time.Duration(h) * time.Hour, nil
}

// cleanupQuery is the preview's options as the page's GET form sends
// them: idle=on turns the idle stop on, idle_hours is its limit.
type cleanupQuery struct {
	idleOn bool
	hours  string // the field's value
	limit  time.Duration
}

func parseCleanupQuery(q url.Values) (cleanupQuery, error) {
	cq := cleanupQuery{idleOn: q.Get("idle") == "on", hours: q.Get("idle_hours")}
	if cq.hours == "" {
		cq.hours = strconv.Itoa(defaultIdleHours)
	}
	limit, err := idleLimit(cq.hours)
	if err != nil {
		cq.idleOn, cq.hours = false, strconv.Itoa(defaultIdleHours)
		return cq, err
	}
	if cq.idleOn {
		cq.limit = limit
	}
	return cq, nil
}

// href is the preview's URL with these options.
func (cq cleanupQuery) href() string {
	if !cq.idleOn {
		return templates.CleanupPath
	}
	return templates.CleanupPath + "?" + url.Values{"idle": {"on"}, "idle_hours": {cq.hours}}.Encode()
}

// cleanupLink is the dashboard's Clean up button: the plan without the
// idle stop, else with the default idle limit; hidden when both are
// empty, and on a read-only page.
func (f formatter) cleanupLink(snap *collector.Snapshot) templates.CleanupLink {
	if f.readOnly {
		return templates.CleanupLink{}
	}
	link := func(n int, href string) templates.CleanupLink {
		return templates.CleanupLink{N: n, Href: href, Summary: plural(n, "item") + " to clean up: see the preview first"}
	}
	if n := len(snap.CleanupPlan(0, f.now).Items); n > 0 {
		return link(n, templates.CleanupPath)
	}
	idle := cleanupQuery{idleOn: true, hours: strconv.Itoa(defaultIdleHours)}
	if n := len(snap.CleanupPlan(defaultIdleHours*time.Hour, f.now).Items); n > 0 {
		return link(n, idle.href())
	}
	return templates.CleanupLink{}
}

// cleanupTitles name each kind's group on the page.
var cleanupTitles = map[collector.CleanupKind]string{
	collector.CleanReapProcess: "Orphan hub processes to reap",
	collector.CleanReapOrphan:  "Orphaned workspaces' hubs to reap",
	collector.CleanRemoveEntry: "Entries to remove: stopped hubs that do not answer",
	collector.CleanForgetDown:  "Down workspaces to forget",
	collector.CleanStopIdle:    "Idle hubs to stop",
}

// cleanupLabel names what an item acts on.
func cleanupLabel(it collector.CleanupItem) string {
	switch {
	case it.Name == "" && it.PID > 0:
		return "pid " + strconv.Itoa(it.PID)
	case it.Name == "":
		return it.ID
	case it.PID > 0:
		return it.Name + " (pid " + strconv.Itoa(it.PID) + ")"
	}
	return it.Name
}

// cleanupModel is the preview of snap's plan with the options cq, and the
// results of a run when there are any.
func (f formatter) cleanupModel(snap *collector.Snapshot, cq cleanupQuery, results []collector.CleanupResult) templates.Cleanup {
	m := templates.Cleanup{
		Page:      templates.Page{Title: title(snap, "Cleanup"), Health: f.health(snap), ReadOnly: f.readOnly},
		IdleOn:    cq.idleOn,
		IdleHours: cq.hours,
		Back:      cq.href(),
	}
	switch {
	case snap.Seq == 0:
		m.Unknown = "boneyard has not finished its first look at the registry and the hub processes; reload this page in a moment."
	case !snap.Listed() || snap.ScanErr != nil:
		m.Unknown = "boneyard cannot plan a cleanup while the registry or the hub processes cannot be read (see the message above); it retries on its own."
	}
	byKind := map[collector.CleanupKind]int{}
	for _, it := range snap.CleanupPlan(cq.limit, f.now).Items {
		i, ok := byKind[it.Kind]
		if !ok {
			i = len(m.Groups)
			byKind[it.Kind] = i
			m.Groups = append(m.Groups, templates.CleanupGroup{Kind: string(it.Kind), Title: cleanupTitles[it.Kind]})
		}
		row := templates.CleanupItemRow{ID: it.ID, Label: cleanupLabel(it), Reason: it.Reason, Action: it.Action}
		if it.Cwd != "" {
			row.Cwd = f.path(it.Cwd)
		}
		m.Groups[i].Items = append(m.Groups[i].Items, row)
	}
	for _, r := range results {
		m.Results = append(m.Results, templates.CleanupResultRow{ID: r.ID, Label: cleanupLabel(r.Item), Outcome: string(r.Outcome), Message: r.Message})
	}
	return m
}

func (s *Server) cleanupPage(c echo.Context) error {
	cq, err := parseCleanupQuery(c.QueryParams())
	snap := s.src.Snapshot()
	m := s.formatter().cleanupModel(snap, cq, nil)
	status := http.StatusOK
	if err != nil {
		m.Flash, status = &templates.Flash{Error: true, Message: err.Error()}, http.StatusBadRequest
	}
	return render(c, status, templates.CleanupPage(m))
}

// runCleanup is POST /cleanup: the ticked ids (id, repeated) and the idle
// limit (idle_hours, present when the idle stop is on).
func (s *Server) runCleanup(c echo.Context) error {
	a, err := s.newAction(c, "cleanup")
	if err != nil {
		return err
	}
	a.target = "cleanup"
	cq := cleanupQuery{hours: a.form.Get("idle_hours"), idleOn: a.form.Get("idle_hours") != ""}
	if !cq.idleOn {
		cq.hours = strconv.Itoa(defaultIdleHours)
	}
	ids := a.form["id"]
	if cq.limit, err = idleLimit(a.form.Get("idle_hours")); err == nil {
		err = checkCleanupIDs(ids)
	}
	if err != nil {
		return s.cleanupFailed(a, cq, err)
	}
	if !a.confirmed() {
		fields := make([]templates.Field, 0, len(ids)+1)
		for _, id := range ids {
			fields = append(fields, templates.Field{Name: "id", Value: id})
		}
		if cq.idleOn {
			fields = append(fields, templates.Field{Name: "idle_hours", Value: cq.hours})
		}
		return render(c, http.StatusOK, templates.ConfirmPage(templates.Confirm{
			Page:      templates.Page{Title: "Confirm cleanup · boneyard"},
			Verb:      "clean up",
			Target:    plural(len(ids), "ticked item"),
			Effect:    templates.CleanupRunEffect,
			Action:    templates.CleanupPath,
			Hidden:    fields,
			CancelURL: cq.href(),
		}))
	}
	results := s.cleanup(c, ids, cq.limit)
	snap := s.src.Refresh(c.Request().Context())
	m := s.formatter().cleanupModel(snap, cq, results)
	f := &templates.Flash{Message: cleanupSummary(results)}
	if isHTMX(c) {
		return render(c, http.StatusOK, templates.FlashBox(f, true), templates.CleanupResults(m.Results, true), templates.CleanupPlan(m, true))
	}
	m.Flash = f
	return render(c, http.StatusOK, templates.CleanupPage(m))
}

// cleanupFailed answers a cleanup run refused before anything ran.
func (s *Server) cleanupFailed(a *action, cq cleanupQuery, err error) error {
	msg := err.Error()
	a.audit("rejected: " + msg)
	f := &templates.Flash{Error: true, Message: msg}
	if isHTMX(a.c) {
		return render(a.c, http.StatusBadRequest, templates.FlashBox(f, true))
	}
	m := s.formatter().cleanupModel(s.src.Snapshot(), cq, nil)
	m.Flash = f
	return render(a.c, http.StatusBadRequest, templates.CleanupPage(m))
}

// checkCleanupIDs refuses a run that names no item, too many, or an id of
// the wrong shape.
func checkCleanupIDs(ids []string) error {
	switch {
	case len(ids) == 0:
		return collector.Refuse(collector.Invalid, "no item is ticked, so there is nothing to clean up: tick the items to run")
	case len(ids) > maxCleanupIDs:
		return collector.Refuse(collector.Invalid, "%d items is more than one run takes (%d): run them in parts", len(ids), maxCleanupIDs)
	}
	for _, id := range ids {
		if !collector.ValidCleanupID(id) {
			return collector.Refuse(collector.Invalid, "%q is not a cleanup item id: take the ids from the cleanup plan (GET %s)", clip(id, 80), templates.APICleanupPath)
		}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// cleanup runs the items and writes one audit line for each.
func (s *Server) cleanup(c echo.Context, ids []string, idle time.Duration) []collector.CleanupResult {
	ctx := longActionFor(c, time.Minute+time.Duration(len(ids))*15*time.Second)
	results := s.act.Cleanup(ctx, ids, idle)
	for _, r := range results {
		target := r.Item.Cwd
		if r.Item.PID > 0 {
			target = strings.TrimSpace(target + " pid " + strconv.Itoa(r.Item.PID))
		}
		err := s.audit.append(auditRecord{
			Time: time.Now().UTC(), Action: "cleanup " + string(r.Item.Kind), Target: cmp.Or(target, r.ID),
			Result: string(r.Outcome) + ": " + r.Message, Client: c.Request().RemoteAddr,
		})
		if err != nil {
			s.log.Error("audit log", "err", err)
		}
	}
	return results
}

// cleanupSummary counts the outcomes: "Cleanup: 2 done, 1 refused."
func cleanupSummary(results []collector.CleanupResult) string {
	n := map[collector.CleanupOutcome]int{}
	for _, r := range results {
		n[r.Outcome]++
	}
	var parts []string
	for _, o := range []collector.CleanupOutcome{collector.CleanupDone, collector.CleanupGone, collector.CleanupRefused, collector.CleanupFailed} {
		if n[o] > 0 {
			parts = append(parts, strconv.Itoa(n[o])+" "+string(o))
		}
	}
	if len(parts) == 0 {
		return "Cleanup: nothing was run."
	}
	return "Cleanup: " + strings.Join(parts, ", ") + "; each item's result is below."
}

// cleanupItemJSON is one item of GET /api/cleanup.
type cleanupItemJSON struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	WorkspaceID string `json:"workspace_id,omitempty"`
	Name        string `json:"name,omitempty"`
	Cwd         string `json:"cwd,omitempty"`
	PID         int    `json:"pid,omitempty"`
	CreateTime  string `json:"create_time,omitempty"`
	Reason      string `json:"reason"`
	Action      string `json:"action"`
	IdleSince   string `json:"idle_since,omitempty"`
}

func itemJSON(it collector.CleanupItem) cleanupItemJSON {
	j := cleanupItemJSON{
		ID: it.ID, Kind: string(it.Kind), WorkspaceID: it.WorkspaceID, Name: it.Name, Cwd: it.Cwd,
		PID: it.PID, Reason: it.Reason, Action: it.Action,
	}
	if !it.Created.IsZero() {
		j.CreateTime = it.Created.UTC().Format(time.RFC3339Nano)
	}
	if !it.IdleSince.IsZero() {
		j.IdleSince = it.IdleSince.UTC().Format(time.RFC3339)
	}
	return j
}

// apiCleanupPlan is GET /api/cleanup[?idle_hours=N]: the plan, each item
// with the id that runs it.
func (s *Server) apiCleanupPlan(c echo.Context) error {
	snap := s.src.Snapshot()
	if err := apiUnavailable(c, snap, true); err != nil {
		return err
	}
	idle, err := idleLimit(c.QueryParam("idle_hours"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	plan := snap.CleanupPlan(idle, time.Now())
	items := make([]cleanupItemJSON, 0, len(plan.Items))
	for _, it := range plan.Items {
		items = append(items, itemJSON(it))
	}
	return writeJSON(c, map[string]any{"idle_hours": int(idle / time.Hour), "items": items})
}

// cleanupRun is the body of POST /api/cleanup.
type cleanupRun struct {
	IDs       []string `json:"ids"`
	IdleHours int      `json:"idle_hours"`
}

// cleanupResultJSON is one result of POST /api/cleanup.
type cleanupResultJSON struct {
	ID      string           `json:"id"`
	Outcome string           `json:"outcome"`
	Message string           `json:"message"`
	Item    *cleanupItemJSON `json:"item,omitempty"`
}

// apiRunCleanup is POST /api/cleanup {"ids": [...], "idle_hours": N}: it
// runs those items of the plan GET /api/cleanup returned (with the same
// idle_hours) and answers each one's outcome: done, gone, refused (its
// state changed since the plan, or a check refused it) or failed.
func (s *Server) apiRunCleanup(c echo.Context) error {
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, `send the items as JSON (Content-Type: application/json): {"ids": ["<id from GET /api/cleanup>", ...], "idle_hours": 0}`)
	}
	var body cleanupRun
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(`the body is not {"ids": [...], "idle_hours": N}: %v`, err))
	}
	var idle time.Duration
	var err error
	if body.IdleHours != 0 {
		idle, err = idleLimit(strconv.Itoa(body.IdleHours))
	}
	if err == nil {
		err = checkCleanupIDs(body.IDs)
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	results := s.cleanup(c, body.IDs, idle)
	out := make([]cleanupResultJSON, 0, len(results))
	for _, r := range results {
		j := cleanupResultJSON{ID: r.ID, Outcome: string(r.Outcome), Message: r.Message}
		if r.Item.Kind != "" {
			it := itemJSON(r.Item)
			j.Item = &it
		}
		out = append(out, j)
	}
	s.src.Refresh(c.Request().Context())
	return writeJSON(c, map[string]any{"results": out})
}
