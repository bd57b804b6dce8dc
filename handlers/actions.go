package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/registry"
	"boneyard/web/templates"
)

// maxName bounds a workspace name, in characters.
const maxName = 100

// rejection is a refused action: nothing was changed, and the message says
// why and what to do.
type rejection struct {
	code int
	msg  string
}

func (r *rejection) Error() string { return r.msg }

func reject(code int, format string, args ...any) error {
	return &rejection{code: code, msg: fmt.Sprintf(format, args...)}
}

var detailPath = regexp.MustCompile(`^/workspaces/([0-9a-f]{16})$`)

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
	if m := detailPath.FindStringSubmatch(u.Path); m != nil {
		return back{detailID: m[1]}
	}
	if u.Path == "/" {
		return back{view: parseView(u.Query())}
	}
	return back{}
}

func (b back) href() string {
	if b.detailID != "" {
		return "/workspaces/" + b.detailID
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
	var rj *rejection
	if errors.As(err, &rj) {
		code, msg = rj.code, rj.msg
		a.audit("rejected: " + msg)
	} else {
		a.s.log.Error("action failed", "action", a.name, "target", a.target, "err", err)
		a.audit("error: " + err.Error())
	}
	f := &templates.Flash{Error: true, Message: msg}
	if isHTMX(a.c) {
		return render(a.c, code, templates.FlashBox(f, true))
	}
	if a.back.detailID != "" && findWorkspace(a.s.src.Snapshot(), a.back.detailID) != nil {
		return a.s.renderDetail(a.c, code, a.back.detailID, f)
	}
	return a.s.renderDashboard(a.c, code, a.back.view, f, form)
}

// succeed records the action, re-collects, and answers with the changed
// fragments (htmx) or a redirect with a flash message (no JS).
func (a *action) succeed(msg string, resetRegister bool) error {
	a.audit("ok")
	snap := a.s.src.Refresh(a.c.Request().Context())
	f := templates.Flash{Message: msg}
	detailGone := a.back.detailID != "" && findWorkspace(snap, a.back.detailID) == nil
	if !isHTMX(a.c) {
		a.s.setFlash(a.c, f)
		target := a.back.href()
		if detailGone {
			target = "/"
		}
		return a.c.Redirect(http.StatusSeeOther, target)
	}
	if detailGone {
		a.s.setFlash(a.c, f)
		a.c.Response().Header().Set("HX-Redirect", "/")
		return a.c.NoContent(http.StatusOK)
	}
	var buf bytes.Buffer
	if err := templates.FlashBox(&f, true).Render(a.c.Request().Context(), &buf); err != nil {
		return err
	}
	if a.back.detailID != "" {
		a.s.detailFragments(snap, a.back.detailID).writeFull(&buf)
	} else {
		a.s.dashFragments(snap, a.back.view).writeFull(&buf)
	}
	if resetRegister {
		if err := templates.RegisterSection(templates.RegisterForm{}, a.back.href(), true).Render(a.c.Request().Context(), &buf); err != nil {
			return err
		}
	}
	return a.c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func (s *Server) register(c echo.Context) error {
	a, err := s.newAction(c, "register")
	if err != nil {
		return err
	}
	cwd, name := a.form.Get("cwd"), a.form.Get("name")
	a.target = cwd
	form := templates.RegisterForm{Cwd: cwd, Name: name}
	if err := validateRegistration(cwd, name); err != nil {
		return a.failForm(err, form)
	}
	cwd = filepath.Clean(cwd)
	a.target = cwd
	kept, err := registry.RegisterIdle(cwd, name)
	if err != nil {
		return a.failForm(err, form)
	}
	if kept != nil {
		return a.failForm(reject(http.StatusConflict,
			"%s already has a live hub entry (pid %d); nothing was changed: the workspace is listed while its hub runs", cwd, kept.HubPID), form)
	}
	return a.succeed(fmt.Sprintf("Registered %s as %q.", cwd, name), true)
}

// validateRegistration checks a register form; every message says what to
// fix.
func validateRegistration(cwd, name string) error {
	switch {
	case cwd == "":
		return reject(http.StatusBadRequest, "enter the workspace directory as an absolute path")
	case hasControl(cwd):
		return reject(http.StatusBadRequest, "the directory contains a control character (a tab, newline or escape); enter the path without it")
	case !filepath.IsAbs(cwd):
		return reject(http.StatusBadRequest, "the directory %q is not absolute: enter its full path, e.g. /home/you/project", cwd)
	}
	fi, err := os.Stat(cwd)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return reject(http.StatusBadRequest, "the directory %s does not exist: check the path, or create the workspace first", cwd)
	case err != nil:
		return reject(http.StatusBadRequest, "the directory %s cannot be read (%v): check the path and its permissions", cwd, err)
	case !fi.IsDir():
		return reject(http.StatusBadRequest, "%s is not a directory: enter the workspace directory itself, not a file in it", cwd)
	}
	switch {
	case strings.TrimSpace(name) == "":
		return reject(http.StatusBadRequest, "a name is required: enter a short name for the workspace")
	case !utf8.ValidString(name):
		return reject(http.StatusBadRequest, "the name is not valid UTF-8: retype it")
	case utf8.RuneCountInString(name) > maxName:
		return reject(http.StatusBadRequest, "the name is too long (%d characters; at most %d): shorten it", utf8.RuneCountInString(name), maxName)
	case hasControl(name):
		return reject(http.StatusBadRequest, "the name contains a control character; use printable characters only")
	}
	return nil
}

func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

// workspaceFor resolves the {id} of a workspace action against the snapshot.
func (s *Server) workspaceFor(id string) (*collector.Workspace, error) {
	if idPattern.MatchString(id) {
		if w := findWorkspace(s.src.Snapshot(), id); w != nil {
			return w, nil
		}
	}
	return nil, reject(http.StatusNotFound, "there is no workspace with id %q: it may have been removed already; reload the page", id)
}

// workspaceAction starts an action on the workspace {id}. When the workspace
// is nil, the returned error is the finished response.
func (s *Server) workspaceAction(c echo.Context, name string) (*action, *collector.Workspace, error) {
	a, err := s.newAction(c, name)
	if err != nil {
		return nil, nil, err
	}
	a.target = c.Param("id")
	w, err := s.workspaceFor(a.target)
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
		return a.askConfirmation("remove", "the registry entry of "+displayName(w)+" ("+w.Cwd+")", templates.RemoveEffect)
	}
	if err := registry.Remove(w.Cwd); err != nil {
		return a.fail(err)
	}
	return a.succeed(fmt.Sprintf("Removed the entry of %s (%s).", displayName(w), w.Cwd), false)
}

// seenCreateTime parses the create_time the page carried; "" means the page
// did not know it.
func seenCreateTime(raw string) (time.Time, bool, error) {
	if raw == "" {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, false, reject(http.StatusBadRequest, "the form's create_time %q is malformed: reload the page and try again", raw)
	}
	return t, true, nil
}

// notHub refuses a pid that names no live bones hub.
func notHub(pid int) error {
	return reject(http.StatusBadRequest, "pid %d is not a live bones hub (it may have exited already); nothing was signalled: reload the page to see the current processes", pid)
}

// reapError turns a refusal of the registry's reap into a message that
// says what was wrong and what to do; other errors pass through.
func reapError(pid int, err error) error {
	switch {
	case errors.Is(err, registry.ErrNotHub):
		return notHub(pid)
	case errors.Is(err, registry.ErrProcessChanged):
		return reject(http.StatusConflict, "process %d changed since the page was shown (the pid was reused); nothing was signalled: reload and check again", pid)
	case errors.Is(err, registry.ErrUnverified):
		return reject(http.StatusConflict, "the entry's started_at is missing or in the future, so pid %d cannot be shown to be its hub; nothing was signalled: use Remove to drop the entry, and stop the process yourself if it is a hub", pid)
	}
	return err
}

func (s *Server) reapWorkspace(c echo.Context) error {
	a, w, err := s.workspaceAction(c, "reap")
	if w == nil {
		return err
	}
	seen, haveSeen, err := seenCreateTime(a.form.Get("create_time"))
	if err != nil {
		return a.fail(err)
	}
	if !a.confirmed() {
		fields := []templates.Field{{Name: "pid", Value: a.form.Get("pid")}}
		if haveSeen {
			fields = append(fields, templates.Field{Name: "create_time", Value: a.form.Get("create_time")})
		}
		return a.askConfirmation("reap", "the hub of "+displayName(w)+" (pid "+strconv.Itoa(w.HubPID)+")", templates.ReapEffect, fields...)
	}
	// Read prunes an entry whose hub has exited or whose directory is gone;
	// the entry the page showed then still says which process was meant,
	// and ReapEntry signals it only if it is that hub, alive.
	entry, err := registry.Read(w.Cwd)
	if errors.Is(err, registry.ErrNotFound) {
		entry, err = w.Entry, nil
	}
	if err != nil {
		return a.fail(err)
	}
	if entry.HubPID == 0 {
		return a.fail(reject(http.StatusBadRequest, "%s has no hub process (pid 0), so it is not a live bones hub; use Remove to drop the entry", w.Cwd))
	}
	if p := a.form.Get("pid"); p != "" && p != strconv.Itoa(entry.HubPID) {
		return a.fail(reject(http.StatusConflict, "the hub of %s changed since the page was shown (pid %s, now %d); nothing was signalled: reload and try again", w.Cwd, p, entry.HubPID))
	}
	outcome, err := registry.ReapEntry(entry, seen)
	if errors.Is(err, registry.ErrNotHub) {
		return a.fail(reject(http.StatusBadRequest, "pid %d, which the entry of %s names, is not a live bones hub but another program; nothing was signalled: use Remove to drop the entry", entry.HubPID, w.Cwd))
	}
	if err != nil {
		return a.fail(reapError(entry.HubPID, err))
	}
	name := displayName(w)
	switch outcome {
	case registry.ReapExited:
		return a.succeed(fmt.Sprintf("The hub of %s (pid %d) had already exited; its entry is removed.", name, entry.HubPID), false)
	case registry.ReapRecycled:
		return a.succeed(fmt.Sprintf("Pid %d now belongs to a newer hub than the one that registered %s, so nothing was signalled; the stale entry is removed.", entry.HubPID, name), false)
	}
	return a.succeed(fmt.Sprintf("Reaped the hub of %s (pid %d) and removed its entry.", name, entry.HubPID), false)
}

func (s *Server) reapProcess(c echo.Context) error {
	a, err := s.newAction(c, "reap-process")
	if err != nil {
		return err
	}
	a.target = "pid " + c.Param("pid")
	pid, err := strconv.Atoi(c.Param("pid"))
	if err != nil {
		return a.fail(reject(http.StatusBadRequest, "%q is not a pid, so not a live bones hub: reap a hub from the page's list of hub processes", c.Param("pid")))
	}
	seen, haveSeen, err := seenCreateTime(a.form.Get("create_time"))
	if err == nil && !haveSeen {
		err = reject(http.StatusBadRequest, "the form has no create_time, so a reused pid could not be told apart: reload the page and try again")
	}
	if err != nil {
		return a.fail(err)
	}
	if err := processOnlyOrphan(s.src.Snapshot(), pid); err != nil {
		return a.fail(err)
	}
	if !a.confirmed() {
		return a.askConfirmation("reap", "hub process "+strconv.Itoa(pid), templates.ReapProcessEffect,
			templates.Field{Name: "create_time", Value: a.form.Get("create_time")})
	}
	if err := registry.ReapProcess(pid, seen); err != nil {
		return a.fail(reapError(pid, err))
	}
	return a.succeed(fmt.Sprintf("Reaped hub process %d.", pid), false)
}

// processOnlyOrphan refuses a process reap unless snap lists pid as a hub
// process that no registry entry accounts for: a registered hub is reaped
// through its workspace, which also removes its entry.
func processOnlyOrphan(snap *collector.Snapshot, pid int) error {
	if _, ok := snap.Orphan(pid); ok {
		return nil
	}
	for _, w := range snap.Workspaces {
		if w.HubPID == pid {
			return reject(http.StatusConflict, "hub process %d is the registered hub of %s (%s), so nothing was signalled: use Reap on that workspace, which also removes its entry", pid, displayName(&w), w.Cwd)
		}
	}
	if p, ok := snap.Process(pid); ok {
		return reject(http.StatusConflict, "hub process %d runs in %s, a registered workspace, so it is not a process-only orphan and nothing was signalled: use Reap on that workspace, or Remove its entry first", pid, p.Cwd)
	}
	return notHub(pid)
}
