package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

// Start, stop and restart a workspace's hub through the bones CLI.

// hubActionDeadline bounds the answer to a lifecycle action: a restart may
// run bones hub stop (10 s), a reap (about 2.5 s) and bones hub start
// (30 s) before it answers, longer than the server's write timeout.
const hubActionDeadline = 50 * time.Second

// longAction gives the answer to a lifecycle action hubActionDeadline.
func longAction(c echo.Context) context.Context { return longActionFor(c, hubActionDeadline) }

// longActionFor gives the answer to c d, more than the server's write
// timeout, and returns a context that outlives the request: a browser that
// goes away must not cut bones off half way through a start.
func longActionFor(c echo.Context, d time.Duration) context.Context {
	// A writer without deadlines (a test's recorder) needs none.
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(d))
	return context.WithoutCancel(c.Request().Context())
}

func (s *Server) startHub(c echo.Context) error {
	// A down workspace, which only the journal remembers, starts too.
	a, w, err := s.workspaceActionIn(c, "start", shownWorkspace)
	if w == nil {
		return err
	}
	if !a.confirmed() {
		return a.askConfirmation("start", "the hub of "+w.DisplayName()+" ("+w.Cwd+")", templates.StartEffect)
	}
	did, err := s.act.StartHub(longAction(c), *w)
	if err != nil {
		return a.fail(err)
	}
	return a.succeedAfter(func(snap *collector.Snapshot) string { return startedMessage(w, did, snap) }, false)
}

// startedMessage says what a start did, as the collection after it shows.
func startedMessage(w *collector.Workspace, did collector.HubAction, snap *collector.Snapshot) string {
	name, took := w.DisplayName(), seconds(did.Took)
	if did.Silent {
		return fmt.Sprintf("bones hub start found a hub already running in %s (its .bones/hub.pid names a live process) and started nothing; the row shows what boneyard sees now.", w.Cwd)
	}
	if now := findWorkspace(snap, w.ID); now != nil && now.HubPID > 0 {
		return fmt.Sprintf("Started the hub of %s: pid %d, %s (bones took %s).", name, now.HubPID, now.Status, took)
	}
	return fmt.Sprintf("bones hub start returned after %s, but boneyard sees no hub in %s yet; the row shows what it sees.", took, w.Cwd)
}

func (s *Server) stopHub(c echo.Context) error    { return s.stopOrRestart(c, false) }
func (s *Server) restartHub(c echo.Context) error { return s.stopOrRestart(c, true) }

// stopOrRestart handles POST stop and restart: the hub as the page showed
// it (pid, create_time) and force=yes after bones refused for live swarm
// slots.
func (s *Server) stopOrRestart(c echo.Context, restart bool) error {
	verb := "stop"
	if restart {
		verb = "restart"
	}
	a, w, err := s.workspaceAction(c, verb)
	if w == nil {
		return err
	}
	force := a.form.Get("force") == "yes"
	if force {
		a.name = "force-" + verb
	}
	pid, seen, fields, err := a.seenHub()
	if err != nil {
		return a.fail(err)
	}
	if !a.confirmed() {
		effect := templates.StopEffect
		if restart {
			effect = templates.RestartEffect
		}
		if force {
			fields = append(fields, templates.Field{Name: "force", Value: "yes"})
			effect = templates.ForceStopEffect + " " + effect
		}
		return a.askConfirmation(a.verb(), "the hub of "+w.DisplayName()+" (pid "+strconv.Itoa(w.HubPID)+")", effect, fields...)
	}
	act := s.act.StopHub
	if restart {
		act = s.act.RestartHub
	}
	did, err := act(longAction(c), *w, pid, seen, force)
	if err != nil {
		a.offer = forceOffer(a, w, restart, err)
		return a.fail(err)
	}
	if restart {
		return a.succeedAfter(func(snap *collector.Snapshot) string { return restartedMessage(w, did, snap) }, false)
	}
	return a.succeed(fmt.Sprintf("Stopped the hub of %s (pid %d) in %s.", w.DisplayName(), did.OldPID, seconds(did.Took)), false)
}

// forceOffer is "Stop anyway" (or "Restart anyway") when bones refused
// for live swarm slots, nil otherwise.
func forceOffer(a *action, w *collector.Workspace, restart bool, err error) *templates.Retry {
	if !collector.SlotsActive(err) {
		return nil
	}
	r := &templates.Retry{
		Label:   "Stop anyway",
		Path:    templates.StopPath(w.ID),
		Confirm: "Stop the hub of " + w.DisplayName() + " anyway? " + templates.ForceStopEffect,
	}
	if restart {
		r.Label, r.Path = "Restart anyway", templates.RestartPath(w.ID)
		r.Confirm = "Restart the hub of " + w.DisplayName() + " anyway? " + templates.ForceStopEffect
	}
	r.Fields = []templates.Field{{Name: "pid", Value: a.form.Get("pid")}}
	if ct := a.form.Get("create_time"); ct != "" {
		r.Fields = append(r.Fields, templates.Field{Name: "create_time", Value: ct})
	}
	r.Fields = append(r.Fields, templates.Field{Name: "force", Value: "yes"}, templates.Field{Name: "back", Value: a.back.href()})
	return r
}

// restartedMessage says what a restart did, as the collection after it
// shows.
func restartedMessage(w *collector.Workspace, did collector.HubAction, snap *collector.Snapshot) string {
	name := w.DisplayName()
	how := fmt.Sprintf("stopped pid %d", did.OldPID)
	if did.Reaped {
		how = fmt.Sprintf("bones hub stop could not end pid %d, so boneyard reaped it after checking it was that hub", did.OldPID)
	}
	if did.Silent {
		return fmt.Sprintf("Restart of %s: %s, but bones hub start then found a live hub.pid and started nothing; the row shows what boneyard sees now.", name, how)
	}
	if now := findWorkspace(snap, w.ID); now != nil && now.HubPID > 0 {
		return fmt.Sprintf("Restarted the hub of %s: %s, then started pid %d, %s (%s in all).", name, how, now.HubPID, now.Status, seconds(did.Took))
	}
	return fmt.Sprintf("Restart of %s: %s and ran bones hub start, but boneyard sees no hub there yet; the row shows what it sees.", name, how)
}

// seconds renders a short duration: "0.41 s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}
