package collector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"boneyard/internal/journal"
	"boneyard/procscan"
	"boneyard/registry"
)

// Reason classifies a Refusal, so that a caller can answer it in its own
// terms (an HTTP status, an exit code).
type Reason int

const (
	// Invalid: the request cannot be right as it stands (a malformed or
	// missing value, a pid that is no live bones hub).
	Invalid Reason = iota + 1
	// NotFound: what the request names does not exist.
	NotFound
	// Conflict: the request no longer matches what is there (it changed
	// since it was shown), or a rule keeps it from being done here.
	Conflict
)

// Refusal is an action refused before anything was changed or signalled.
// Msg says what was wrong and what to do.
type Refusal struct {
	Reason Reason
	Msg    string
}

func (r *Refusal) Error() string { return r.Msg }

// Refuse returns a *Refusal with the formatted message.
func Refuse(r Reason, format string, args ...any) error {
	return &Refusal{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// maxName bounds a workspace name, in characters.
const maxName = 100

// Register records an idle registry row named name for the workspace
// directory cwd, as `bones up` does, so it is listed before its first hub
// starts. A live hub's entry is left in place (a Conflict). It returns the
// cleaned directory once cwd passed validation, "" before; errors other
// than a *Refusal come from writing the registry.
func (c *Collector) Register(cwd, name string) (string, error) {
	if err := validateRegistration(cwd, name); err != nil {
		return "", err
	}
	cwd = filepath.Clean(cwd)
	kept, err := c.src.reg.RegisterIdle(cwd, name)
	if err != nil {
		return cwd, err
	}
	if kept != nil {
		return cwd, Refuse(Conflict, "%s already has a live hub entry (pid %d); nothing was changed: the workspace is listed while its hub runs", cwd, kept.HubPID)
	}
	return cwd, nil
}

// validateRegistration checks a registration; every message says what to
// fix.
func validateRegistration(cwd, name string) error {
	switch {
	case cwd == "":
		return Refuse(Invalid, "enter the workspace directory as an absolute path")
	case hasControl(cwd):
		return Refuse(Invalid, "the directory contains a control character (a tab, newline or escape); enter the path without it")
	case !filepath.IsAbs(cwd):
		return Refuse(Invalid, "the directory %q is not absolute: enter its full path, e.g. /home/you/project", cwd)
	}
	fi, err := os.Stat(cwd)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Refuse(Invalid, "the directory %s does not exist: check the path, or create the workspace first", cwd)
	case err != nil:
		return Refuse(Invalid, "the directory %s cannot be read (%v): check the path and its permissions", cwd, err)
	case !fi.IsDir():
		return Refuse(Invalid, "%s is not a directory: enter the workspace directory itself, not a file in it", cwd)
	}
	switch {
	case strings.TrimSpace(name) == "":
		return Refuse(Invalid, "a name is required: enter a short name for the workspace")
	case !utf8.ValidString(name):
		return Refuse(Invalid, "the name is not valid UTF-8: retype it")
	case utf8.RuneCountInString(name) > maxName:
		return Refuse(Invalid, "the name is too long (%d characters; at most %d): shorten it", utf8.RuneCountInString(name), maxName)
	case hasControl(name):
		return Refuse(Invalid, "the name contains a control character; use printable characters only")
	}
	return nil
}

func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

// Remove deletes w's registry entry. A hub process still running keeps
// running, as an orphan. The journal records the removal.
func (c *Collector) Remove(w Workspace) error {
	done := c.expect(w.ID, w.HubPID)
	defer done()
	if err := c.src.reg.Remove(w.Cwd); err != nil {
		return err
	}
	detail := "registry entry removed from the dashboard"
	if w.HubPID > 0 && procscan.Alive(w.HubPID) {
		detail += fmt.Sprintf("; its hub (pid %d) keeps running, as an orphan", w.HubPID)
	}
	c.record(Event{Kind: journal.KindRemoved, WorkspaceID: w.ID, Name: w.DisplayName(), Cwd: w.Cwd, PID: w.HubPID, Detail: detail})
	return nil
}

// Reaped is what ReapWorkspace did.
type Reaped struct {
	PID     int // the hub pid the entry named
	Outcome ReapOutcome
}

// ReapWorkspace stops the hub of w, a workspace as a page showed it, and
// removes its entry. seenPID and seen are the hub pid and its process's
// start time as shown (0 and the zero time when not known): if the entry
// names another pid now, or the pid names another process, nothing is
// signalled.
func (c *Collector) ReapWorkspace(w Workspace, seenPID int, seen time.Time) (Reaped, error) {
	// The journal must not take the hub's end for a death: ReapSeen
	// signals only the pid the page showed.
	expected := w.HubPID
	if seenPID != 0 {
		expected = seenPID
	}
	done := c.expect(w.ID, expected)
	defer done()
	outcome, entry, err := c.src.reg.ReapSeen(w.Entry, seenPID, seen)
	var changed *registry.HubChangedError
	switch {
	case errors.Is(err, registry.ErrNoHub):
		return Reaped{}, Refuse(Invalid, "%s has no hub process (pid 0), so it is not a live bones hub; use Remove to drop the entry", w.Cwd)
	case errors.As(err, &changed):
		return Reaped{}, Refuse(Conflict, "the hub of %s changed since the page was shown (pid %d, now %d); nothing was signalled: reload and try again", w.Cwd, changed.Seen, changed.Current)
	case errors.Is(err, registry.ErrNotHub):
		return Reaped{}, Refuse(Invalid, "pid %d, which the entry of %s names, is not a live bones hub but another program; nothing was signalled: use Remove to drop the entry", entry.HubPID, w.Cwd)
	case err != nil:
		return Reaped{}, reapError(entry.HubPID, err)
	}
	c.record(Event{Kind: journal.KindReaped, WorkspaceID: w.ID, Name: w.DisplayName(), Cwd: w.Cwd, PID: entry.HubPID,
		Detail: c.reapDetail(outcome, w.Cwd, entry.HubPID, w.HubStarted)})
	return Reaped{PID: entry.HubPID, Outcome: outcome}, nil
}

// reapDetail says what a workspace reap did, and how the hub ended.
func (c *Collector) reapDetail(outcome ReapOutcome, cwd string, pid int, created time.Time) string {
	switch outcome {
	case ReapExited:
		return "its hub had already exited; the entry was removed from the dashboard"
	case ReapRecycled:
		return fmt.Sprintf("pid %d belongs to a newer hub, so nothing was signalled; the stale entry was removed from the dashboard", pid)
	}
	return "reaped from the dashboard: " + c.signalled(cwd, pid, created)
}

// signalled says how a hub boneyard stopped ended: after SIGTERM with a
// clean stop, or not (SIGKILL follows a SIGTERM ignored for 2 s).
func (c *Collector) signalled(cwd string, pid int, created time.Time) string {
	const sent = "SIGTERM, then SIGKILL after 2 s if it was still running"
	if c.journal == nil || cwd == "" {
		return sent
	}
	end := c.journal.Ending(journal.Hub{Cwd: cwd, PID: pid, Created: created})
	if end.Clean {
		return "SIGTERM; " + end.Detail
	}
	return sent + "; " + end.Detail
}

// ReapProcess stops the hub process pid, which must be a process-only
// orphan in the latest snapshot (see ProcessReapable) whose start time is
// seen, as a page showed it.
func (c *Collector) ReapProcess(pid int, seen time.Time) error {
	snap := c.Snapshot()
	if err := snap.ProcessReapable(pid); err != nil {
		return err
	}
	o, _ := snap.Orphan(pid)
	done := c.expect("", pid)
	defer done()
	if err := registry.ReapProcess(pid, seen); err != nil {
		return reapError(pid, err)
	}
	c.record(Event{Kind: journal.KindReaped, PID: pid, Cwd: o.Cwd,
		Detail: "orphan hub process reaped from the dashboard: " + c.signalled(o.Cwd, pid, o.CreateTime)})
	return nil
}

// Forget removes the down workspace id from what boneyard remembers; the
// journal records it, and keeps its history. A workspace still in the
// registry cannot be forgotten. It returns the workspace as it was known.
func (c *Collector) Forget(id string) (Known, error) {
	k, err := c.known(id, "forget")
	if err != nil {
		return Known{}, err
	}
	if k.Present {
		return k, Refuse(Conflict, "%s (%s) is still in the registry, so it is not down and cannot be forgotten: remove its entry first", k.Name, k.Cwd)
	}
	if err := c.journal.Forget(id); err != nil {
		return k, c.journalError(id, "forget", err)
	}
	return k, nil
}

// Acknowledge marks the last hub death of workspace id as seen: it leaves
// the title's count, and stays in the history. It returns the workspace
// as it was known: Death nil means there was nothing to acknowledge.
func (c *Collector) Acknowledge(id string) (Known, error) {
	k, err := c.known(id, "acknowledge")
	if err != nil {
		return Known{}, err
	}
	if err := c.journal.Acknowledge(id); err != nil {
		return k, c.journalError(id, "acknowledge", err)
	}
	return k, nil
}

// known returns the workspace id as the journal knows it, or the refusal
// of verb on it.
func (c *Collector) known(id, verb string) (Known, error) {
	if c.journal == nil {
		return Known{}, Refuse(NotFound, "boneyard runs without its journal here, so it remembers no workspace to %s", verb)
	}
	k, ok := c.journal.Workspace(id)
	if !ok {
		return Known{}, Refuse(NotFound, "boneyard remembers no workspace with id %q (it may have been forgotten already), so there is nothing to %s: reload the page", id, verb)
	}
	return k, nil
}

// journalError turns the journal's refusal into one of ours; other errors
// (writing the journal) pass through.
func (c *Collector) journalError(id, verb string, err error) error {
	if errors.Is(err, journal.ErrUnknownWorkspace) {
		return Refuse(NotFound, "boneyard remembers no workspace with id %q (it was forgotten meanwhile), so there is nothing to %s: reload the page", id, verb)
	}
	return err
}

// expect tells the journal, if any, that an action on workspace id and
// hub pid is under way; call done once it is recorded or failed.
func (c *Collector) expect(id string, pid int) (done func()) {
	if c.journal == nil {
		return func() {}
	}
	return c.journal.Expect(id, pid)
}

// record records what an action did, between collections, so that no
// observation made before the action is taken for one made after it. A
// failure to write is logged: the action itself succeeded.
func (c *Collector) record(e Event) {
	if c.journal == nil {
		return
	}
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	if err := c.journal.Record(e); err != nil {
		c.log.Warn("collector: journal", "action", e.Kind, "err", err)
	}
}

// notHub refuses a pid that names no live bones hub.
func notHub(pid int) error {
	return Refuse(Invalid, "pid %d is not a live bones hub (it may have exited already); nothing was signalled: reload the page to see the current processes", pid)
}

// reapError turns a refusal of the registry's reap into one that says what
// was wrong and what to do; other errors pass through.
func reapError(pid int, err error) error {
	switch {
	case errors.Is(err, registry.ErrNotHub):
		return notHub(pid)
	case errors.Is(err, registry.ErrProcessChanged):
		return Refuse(Conflict, "process %d changed since the page was shown (the pid was reused); nothing was signalled: reload and check again", pid)
	case errors.Is(err, registry.ErrUnverified):
		return Refuse(Conflict, "the entry's started_at is missing or in the future, so pid %d cannot be shown to be its hub; nothing was signalled: use Remove to drop the entry, and stop the process yourself if it is a hub", pid)
	case errors.Is(err, registry.ErrNotYours):
		return Refuse(Conflict, "pid %d runs as another user, so boneyard does not signal it; nothing was signalled: ask its owner to stop it", pid)
	case errors.Is(err, registry.ErrWrongWorkspace):
		return Refuse(Conflict, "pid %d is a hub of another workspace than this entry's, so nothing was signalled: use Remove to drop this entry, and reap that hub from its own workspace", pid)
	case errors.Is(err, registry.ErrNotOwned):
		return Refuse(Conflict, "the registry entry is owned by another user, so boneyard neither trusts nor changes it; nothing was signalled: ask its owner, or remove the file yourself after checking it")
	}
	return err
}
