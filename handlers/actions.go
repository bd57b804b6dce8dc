package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

// statusOf is the HTTP status that answers a refusal.
func statusOf(r collector.Reason) int {
	switch r {
	case collector.NotFound:
		return http.StatusNotFound
	case collector.Conflict:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// back is where an action returns to: the dashboard with its view, or a
// workspace's detail page. Anything else in the form falls back to "/", so
// the redirect can never leave this site.
type back struct {
	view     view
	detailID string
}

func parseBack(raw string) back {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return back{}
	}
	if id, ok := strings.CutPrefix(u.Path, templates.WorkspacePath("")); ok && idPattern.MatchString(id) {
		return back{detailID: id}
	}
	if u.Path == templates.DashboardPath {
		return back{view: parseView(u.Query())}
	}
	return back{}
}

func (b back) href() string {
	if b.detailID != "" {
		return templates.WorkspacePath(b.detailID)
	}
	return b.view.href()
}

// action is one POST being handled.
type action struct {
	s      *Server
	c      echo.Context
	name   string // audit action
	target string // audit target
	back   back
	form   url.Values
	offer  *templates.Retry // what a failure offers instead, e.g. Stop anyway
}

func (s *Server) newAction(c echo.Context, name string) (*action, error) {
	form, err := parseForm(c)
	if err != nil {
		return nil, err
	}
	return &action{s: s, c: c, name: name, form: form, back: parseBack(form.Get("back"))}, nil
}

// verb names the action in messages.
func (a *action) verb() string {
	if a.name == "reap-process" {
		return "reap"
	}
	return a.name
}

func (a *action) audit(result string) {
	err := a.s.audit.append(auditRecord{
		Time: time.Now().UTC(), Action: a.name, Target: a.target, Result: result,
		Client: a.c.Request().RemoteAddr,
	})
	if err != nil {
		a.s.log.Error("audit log", "err", err)
	}
}

// confirmed reports whether the user confirmed; htmx sends confirm=yes after
// the browser's dialog, a plain form gets a confirmation page first.
func (a *action) confirmed() bool { return a.form.Get("confirm") == "yes" }

func (a *action) askConfirmation(verb, what, effect string, fields ...templates.Field) error {
	fields = append(fields, templates.Field{Name: "back", Value: a.back.href()})
	return render(a.c, http.StatusOK, templates.ConfirmPage(templates.Confirm{
		Page:      templates.Page{Title: "Confirm " + verb + " · boneyard"},
		Verb:      verb,
		Target:    what,
		Effect:    effect,
		Action:    a.c.Request().URL.Path,
		Hidden:    fields,
		CancelURL: a.back.href(),
	}))
}

// fail answers a refused or failed action: 4xx with the message in #flash
// (htmx) or the page it came from rendered with the message (no JS).
func (a *action) fail(err error) error { return a.failForm(err, templates.RegisterForm{}) }

// failForm is fail that keeps what the user typed into the register form.
func (a *action) failForm(err error, form templates.RegisterForm) error {
	code := http.StatusInternalServerError
	msg := fmt.Sprintf("The %s could not be completed because of a problem on this host, not with what you entered; reload the page to see what changed, then try again (details: %v)", a.verb(), err)
	f := &templates.Flash{Error: true, Retry: a.offer}
	var (
		rf *collector.Refusal
		ce *collector.CLIError
	)
	switch {
	case errors.As(err, &rf):
		code, msg = statusOf(rf.Reason), rf.Msg
		a.audit("rejected: " + msg)
	case errors.As(err, &ce):
		// bones ran and did not do it: what it said is the answer.
		code, msg, f.Output = http.StatusUnprocessableEntity, ce.Msg, ce.Output
		if ce.SlotsActive {
			code = http.StatusConflict
		}
		a.audit("failed: " + msg)
	default:
		a.s.log.Error("action failed", "action", a.name, "target", a.target, "err", err)
		a.audit("error: " + err.Error())
	}
	f.Message = msg
	if isHTMX(a.c) {
		return render(a.c, code, templates.FlashBox(f, true))
	}
	if a.back.detailID != "" && shownWorkspace(a.s.src.Snapshot(), a.back.detailID) != nil {
		return a.s.renderDetail(a.c, code, a.back.detailID, f)
	}
	return a.s.renderDashboard(a.c, code, a.back.view, f, form)
}

// succeed records the action, re-collects, and answers with the changed
// fragments (htmx) or a redirect with a flash message (no JS).
func (a *action) succeed(msg string, resetRegister bool) error {
	return a.succeedAfter(func(*collector.Snapshot) string { return msg }, resetRegister)
}

// succeedAfter is succeed with the message told by the collection that
// follows the action.
func (a *action) succeedAfter(message func(*collector.Snapshot) string, resetRegister bool) error {
	a.audit("ok")
	snap := a.s.src.Refresh(a.c.Request().Context())
	f := templates.Flash{Message: message(snap)}
	detailGone := a.back.detailID != "" && shownWorkspace(snap, a.back.detailID) == nil
	if !isHTMX(a.c) {
		a.s.setFlash(a.c, f)
		target := a.back.href()
		if detailGone {
			target = templates.DashboardPath
		}
		return a.c.Redirect(http.StatusSeeOther, target)
	}
	if detailGone {
		a.s.setFlash(a.c, f)
		a.c.Response().Header().Set("HX-Redirect", templates.DashboardPath)
		return a.c.NoContent(http.StatusOK)
	}
	var live []byte
	if a.back.detailID != "" {
		fr, err := buildDetailFragments(snap, a.back.detailID, a.s.formatter())
		if err != nil {
			return err
		}
		live = fr.html
	} else {
		full, err := a.s.dashFull(snap, a.back.view)
		if err != nil {
			return err
		}
		live = full
	}
	comps := []templ.Component{templates.FlashBox(&f, true), templ.Raw(string(live))}
	if resetRegister {
		comps = append(comps, templates.RegisterSection(templates.RegisterForm{}, a.back.href(), true))
	}
	return render(a.c, http.StatusOK, comps...)
}

func (s *Server) register(c echo.Context) error {
	a, err := s.newAction(c, "register")
	if err != nil {
		return err
	}
	cwd, name := a.form.Get("cwd"), a.form.Get("name")
	a.target = cwd
	form := templates.RegisterForm{Cwd: cwd, Name: name}
	clean, err := s.act.Register(cwd, name)
	if clean != "" {
		a.target = clean
	}
	if err != nil {
		return a.failForm(err, form)
	}
	return a.succeed(fmt.Sprintf("Registered %s as %q.", clean, name), true)
}

// workspaceFor resolves the {id} of a workspace action against the
// snapshot with lookup: findWorkspace (the registry's workspaces) or
// shownWorkspace (the down ones the journal remembers too).
func (s *Server) workspaceFor(id string, lookup func(*collector.Snapshot, string) *collector.Workspace) (*collector.Workspace, error) {
	if idPattern.MatchString(id) {
		if w := lookup(s.src.Snapshot(), id); w != nil {
			return w, nil
		}
	}
	return nil, collector.Refuse(collector.NotFound, "there is no workspace with id %q: it may have been removed already; reload the page", id)
}

// workspaceAction starts an action on the registry's workspace {id}. When
// the workspace is nil, the returned error is the finished response.
func (s *Server) workspaceAction(c echo.Context, name string) (*action, *collector.Workspace, error) {
	return s.workspaceActionIn(c, name, findWorkspace)
}

// workspaceActionIn is workspaceAction for the workspaces lookup finds.
func (s *Server) workspaceActionIn(c echo.Context, name string, lookup func(*collector.Snapshot, string) *collector.Workspace) (*action, *collector.Workspace, error) {
	a, err := s.newAction(c, name)
	if err != nil {
		return nil, nil, err
	}
	a.target = c.Param("id")
	w, err := s.workspaceFor(a.target, lookup)
	if err != nil {
		return a, nil, a.fail(err)
	}
	a.target = w.Cwd
	return a, w, nil
}

func (s *Server) remove(c echo.Context) error {
	a, w, err := s.workspaceAction(c, "remove")
	if w == nil {
		return err
	}
	if !a.confirmed() {
		return a.askConfirmation("remove", "the registry entry of "+w.DisplayName()+" ("+w.Cwd+")", templates.RemoveEffect)
	}
	if err := s.act.Remove(*w); err != nil {
		return a.fail(err)
	}
	return a.succeed(fmt.Sprintf("Removed the entry of %s (%s).", w.DisplayName(), w.Cwd), false)
}

// seenCreateTime parses the create_time the page carried; "" means the page
// did not know it.
func seenCreateTime(raw string) (time.Time, bool, error) {
	if raw == "" {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, false, collector.Refuse(collector.Invalid, "the form's create_time %q is malformed: reload the page and try again", raw)
	}
	return t, true, nil
}

// seenPID parses the hub pid the page carried; "" (0) means the page did
// not say.
func seenPID(raw string) (int, error) {
	if raw == "" {
		return 0, nil
	}
	pid, err := strconv.Atoi(raw)
	if err != nil || pid <= 0 {
		return 0, collector.Refuse(collector.Invalid, "the form's pid %q is malformed: reload the page and try again", raw)
	}
	return pid, nil
}

// seenHub parses the hub the page showed, its pid and process start (zero
// values when the page did not say), and returns the fields that carry
// them through a confirmation page.
func (a *action) seenHub() (pid int, seen time.Time, fields []templates.Field, err error) {
	seen, haveSeen, err := seenCreateTime(a.form.Get("create_time"))
	if err != nil {
		return 0, time.Time{}, nil, err
	}
	if pid, err = seenPID(a.form.Get("pid")); err != nil {
		return 0, time.Time{}, nil, err
	}
	fields = []templates.Field{{Name: "pid", Value: a.form.Get("pid")}}
	if haveSeen {
		fields = append(fields, templates.Field{Name: "create_time", Value: a.form.Get("create_time")})
	}
	return pid, seen, fields, nil
}

func (s *Server) reapWorkspace(c echo.Context) error {
	a, w, err := s.workspaceAction(c, "reap")
	if w == nil {
		return err
	}
	pid, seen, fields, err := a.seenHub()
	if err != nil {
		return a.fail(err)
	}
	if !a.confirmed() {
		return a.askConfirmation("reap", "the hub of "+w.DisplayName()+" (pid "+strconv.Itoa(w.HubPID)+")", templates.ReapEffect, fields...)
	}
	reaped, err := s.act.ReapWorkspace(*w, pid, seen)
	if err != nil {
		return a.fail(err)
	}
	name := w.DisplayName()
	switch reaped.Outcome {
	case collector.ReapExited:
		return a.succeed(fmt.Sprintf("The hub of %s (pid %d) had already exited; its entry is removed.", name, reaped.PID), false)
	case collector.ReapRecycled:
		return a.succeed(fmt.Sprintf("Pid %d now belongs to a newer hub than the one that registered %s, so nothing was signalled; the stale entry is removed.", reaped.PID, name), false)
	}
	return a.succeed(fmt.Sprintf("Reaped the hub of %s (pid %d) and removed its entry.", name, reaped.PID), false)
}

func (s *Server) reapProcess(c echo.Context) error {
	a, err := s.newAction(c, "reap-process")
	if err != nil {
		return err
	}
	a.target = "pid " + c.Param("pid")
	pid, err := strconv.Atoi(c.Param("pid"))
	if err != nil {
		return a.fail(collector.Refuse(collector.Invalid, "%q is not a pid, so not a live bones hub: reap a hub from the page's list of hub processes", c.Param("pid")))
	}
	seen, haveSeen, err := seenCreateTime(a.form.Get("create_time"))
	if err == nil && !haveSeen {
		err = collector.Refuse(collector.Invalid, "the form has no create_time, so a reused pid could not be told apart: reload the page and try again")
	}
	if err != nil {
		return a.fail(err)
	}
	// Refused before the confirmation, so that nobody confirms what cannot
	// be done.
	if err := s.src.Snapshot().ProcessReapable(pid); err != nil {
		return a.fail(err)
	}
	if !a.confirmed() {
		return a.askConfirmation("reap", "hub process "+strconv.Itoa(pid), templates.ReapProcessEffect,
			templates.Field{Name: "create_time", Value: a.form.Get("create_time")})
	}
	if err := s.act.ReapProcess(pid, seen); err != nil {
		return a.fail(err)
	}
	return a.succeed(fmt.Sprintf("Reaped hub process %d.", pid), false)
}
