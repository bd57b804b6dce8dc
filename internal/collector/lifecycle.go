package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"boneyard/internal/bonescli"
	"boneyard/internal/journal"
	"boneyard/lock"
	"boneyard/procscan"
)

// Starting, stopping and restarting hubs through the bones CLI: which
// workspaces offer it, the checks before bones runs, and what a run did.

// Bones is the bones CLI boneyard starts and stops hubs with, as resolved
// when it started.
type Bones struct {
	Path    string // the binary's absolute path; "" when there is none
	Problem string // why there is none, and what to do; "" when Path is set
}

// hubs is the collector's part for hub lifecycle actions: the CLI and the
// workspaces with an action under way.
type hubs struct {
	cli     *bonescli.CLI
	problem string

	mu   sync.Mutex
	busy map[string]string // workspace id -> the verb under way
}

func newHubs(cli *bonescli.CLI, why error) *hubs {
	h := &hubs{cli: cli, busy: make(map[string]string)}
	switch {
	case cli != nil:
	case why != nil:
		h.problem = why.Error()
	default:
		h.problem = "no bones CLI is configured: install bones on PATH, or start boneyard with --bones PATH"
	}
	return h
}

// Bones says which bones CLI hub actions run, or why there is none.
func (c *Collector) Bones() Bones {
	if c.hubs.cli == nil {
		return Bones{Problem: c.hubs.problem}
	}
	return Bones{Path: c.hubs.cli.Path}
}

// claim marks a lifecycle action on workspace id as under way, or refuses
// while another one is: two at once would race for the workspace lock.
func (h *hubs) claim(w *Workspace, verb string) (release func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if other, ok := h.busy[w.ID]; ok {
		return nil, Refuse(Conflict, "a %s of the hub of %s is under way; wait for its result, then reload the page", other, w.DisplayName())
	}
	h.busy[w.ID] = verb
	return func() {
		h.mu.Lock()
		delete(h.busy, w.ID)
		h.mu.Unlock()
	}, nil
}

// canStart tells whether Start is offered: no hub is known to run (idle,
// nothing to probe, or down) and the directory still holds its workspace
// marker.
func canStart(w *Workspace) bool {
	switch w.Status {
	case StatusIdle, StatusUnknown:
		return w.AgentID != ""
	case StatusDown:
		return w.Down != nil && w.Down.DirExists && w.Down.AgentIDExists
	}
	return false
}

// canStop tells whether Stop and Restart are offered: the entry names a
// hub that answers, or one that is alive and does not.
func canStop(w *Workspace) bool {
	return w.Status == StatusRunning || w.Status == StatusStopped
}

// HubAction is what a Start, Stop or Restart did.
type HubAction struct {
	OldPID int           // the hub stopped; 0 for a start
	Reaped bool          // restart: bones hub stop could not end the hub, so boneyard reaped it
	Silent bool          // a start printed nothing: bones found a live hub.pid and started nothing
	Output string        // what bones printed last
	Took   time.Duration // how long it all took
}

// CLIError is a bones command that ran and did not do what was asked. Msg
// says what failed and what to do; Output is what bones printed (a failed
// start's message ends with the hub log's tail).
type CLIError struct {
	Msg         string
	Output      string
	SlotsActive bool // bones hub stop refused for live swarm slots; a forced stop ends the hub anyway
}

func (e *CLIError) Error() string { return e.Msg }

// SlotsActive reports whether err is bones refusing a stop for live swarm
// slots, which a forced stop overrides.
func SlotsActive(err error) bool {
	var ce *CLIError
	return errors.As(err, &ce) && ce.SlotsActive
}

// maxOutput bounds the output kept in a CLIError: the end, where a
// failed start quotes the hub log.
const maxOutput = 8 << 10

func clipOutput(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxOutput {
		return "…" + s[len(s)-maxOutput:]
	}
	return s
}

// cli returns the bones CLI, or the refusal of verb without one.
func (c *Collector) cli(verb string) (*bonescli.CLI, error) {
	if c.hubs.cli == nil {
		return nil, Refuse(Conflict, "boneyard cannot %s hubs: %s", verb, c.hubs.problem)
	}
	return c.hubs.cli, nil
}

// workspaceMarked checks, just before bones runs there, that cwd is still
// a workspace: a directory holding its .bones/agent.id marker (bones
// itself never checks, and would make any directory a workspace).
func workspaceMarked(w *Workspace) error {
	fi, err := os.Stat(w.Cwd)
	if err != nil || !fi.IsDir() {
		return Refuse(Conflict, "the directory of %s (%s) is gone, so no hub can start there: Remove its entry", w.DisplayName(), w.Cwd)
	}
	marker := filepath.Join(lock.StateDir(w.Cwd), "agent.id")
	if fi, err := os.Lstat(marker); err != nil || !fi.Mode().IsRegular() {
		return Refuse(Conflict, "%s has no workspace marker %s, so boneyard starts no hub there: run bones up in it first", w.Cwd, marker)
	}
	return nil
}

// StartHub runs `bones hub start --detach` in w's directory. w must offer
// Start (CanStart) and still be marked as a workspace. bones returns once
// the hub is ready; when a hub already runs there it starts nothing and
// says nothing (Silent): the next collection shows what runs. A failure is
// a *CLIError with what bones said.
func (c *Collector) StartHub(ctx context.Context, w Workspace) (HubAction, error) {
	cli, err := c.cli("start")
	if err != nil {
		return HubAction{}, err
	}
	if !w.CanStart {
		return HubAction{}, Refuse(Conflict, "%s is %s, so Start is not offered: it is for idle, unknown and down workspaces whose directory holds .bones/agent.id; reload the page", w.DisplayName(), w.Status)
	}
	if err := workspaceMarked(&w); err != nil {
		return HubAction{}, err
	}
	release, err := c.hubs.claim(&w, "start")
	if err != nil {
		return HubAction{}, err
	}
	defer release()
	done := c.expect(w.ID, 0)
	defer done()
	res, err := cli.Start(ctx, w.Cwd)
	if err != nil {
		return HubAction{}, cliFailure("start", &w, err)
	}
	act := HubAction{Silent: res.Message() == "", Output: clipOutput(res.Message()), Took: res.Took}
	if !act.Silent {
		c.recordStart(&w, "")
	}
	return act, nil
}

// recordStart records the hub bones started for w, as its entry names it.
func (c *Collector) recordStart(w *Workspace, how string) {
	e, err := c.src.reg.Read(w.Cwd)
	if err != nil || e.HubPID == 0 {
		return
	}
	detail := journal.FromBoneyard + how + ": pid " + strconv.Itoa(e.HubPID)
	c.record(Event{Kind: journal.KindHubStarted, WorkspaceID: w.ID, Name: e.Name, Cwd: w.Cwd, PID: e.HubPID, Detail: detail})
}

// recordStop records that boneyard stopped w's hub pid, started at created,
// and how the hub ended.
func (c *Collector) recordStop(w *Workspace, pid int, created time.Time, how string) {
	detail := journal.FromBoneyard + how
	if c.journal != nil {
		detail += "; " + c.journal.Ending(journal.Hub{WorkspaceID: w.ID, Cwd: w.Cwd, PID: pid, Created: created}).Detail
	}
	c.record(Event{Kind: journal.KindHubStopped, WorkspaceID: w.ID, Name: w.DisplayName(), Cwd: w.Cwd, PID: pid, Detail: detail})
}

// StopHub runs `bones hub stop` (with --force when force is set) in w's
// directory: SIGTERM to the pid in its hub.pid, SIGKILL after 2 s; the hub
// removes its own entry. w must offer Stop (CanStop); seenPID and seen are
// the hub pid and process start the page showed (0 and zero when not
// known), and a hub that changed since is refused. bones refusing for live
// swarm slots is a *CLIError with SlotsActive; so is a hub that survives.
func (c *Collector) StopHub(ctx context.Context, w Workspace, seenPID int, seen time.Time, force bool) (HubAction, error) {
	cli, created, release, err := c.beginStop(&w, seenPID, seen, "stop")
	if err != nil {
		return HubAction{}, err
	}
	defer release()
	res, err := cli.Stop(ctx, w.Cwd, force)
	if err != nil {
		return HubAction{}, cliFailure("stop", &w, err)
	}
	if stillRuns(w.HubPID, created) {
		return HubAction{}, &CLIError{
			Msg: fmt.Sprintf("bones hub stop returned, but the hub of %s (pid %d) still runs: its hub.pid names another process or none. "+
				"Restart falls back to reaping it; Reap stops it and removes its entry.", w.DisplayName(), w.HubPID),
			Output: clipOutput(res.Message()),
		}
	}
	how := ": bones hub stop"
	if force {
		how += " --force"
	}
	c.recordStop(&w, w.HubPID, created, how)
	return HubAction{OldPID: w.HubPID, Output: clipOutput(res.Message()), Took: res.Took}, nil
}

// RestartHub stops w's hub as StopHub does, then starts one as StartHub
// does. A hub that bones hub stop cannot end (its hub.pid names another
// process or none, or bones timed out) is reaped by boneyard instead,
// which checks the pid's identity first (Reaped).
func (c *Collector) RestartHub(ctx context.Context, w Workspace, seenPID int, seen time.Time, force bool) (HubAction, error) {
	cli, created, release, err := c.beginStop(&w, seenPID, seen, "restart")
	if err != nil {
		return HubAction{}, err
	}
	defer release()
	began := time.Now()
	act := HubAction{OldPID: w.HubPID}
	res, stopErr := cli.Stop(ctx, w.Cwd, force)
	if errors.Is(stopErr, bonescli.ErrSlotsActive) {
		return HubAction{}, cliFailure("stop", &w, stopErr)
	}
	if stillRuns(w.HubPID, created) {
		_, entry, err := c.src.reg.ReapSeen(w.Entry, w.HubPID, created)
		if err != nil {
			return HubAction{}, fmt.Errorf("bones hub stop did not end the hub of %s (pid %d), and boneyard's reap did not either: %w", w.DisplayName(), w.HubPID, reapError(entry.HubPID, err))
		}
		act.Reaped = true
	} else if stopErr != nil && !errors.Is(stopErr, bonescli.ErrTimeout) {
		return HubAction{}, cliFailure("stop", &w, stopErr)
	}
	how := " (restart): bones hub stop"
	if act.Reaped {
		how = " (restart): bones hub stop could not end it, so boneyard reaped it"
	}
	c.recordStop(&w, w.HubPID, created, how)
	if err := workspaceMarked(&w); err != nil {
		return HubAction{}, err
	}
	res, err = cli.Start(ctx, w.Cwd)
	if err != nil {
		var ce *CLIError
		if errors.As(cliFailure("start", &w, err), &ce) {
			ce.Msg = fmt.Sprintf("The hub of %s (pid %d) was stopped, but starting it again failed: %s", w.DisplayName(), w.HubPID, ce.Msg)
			return HubAction{}, ce
		}
		return HubAction{}, err
	}
	act.Silent, act.Output, act.Took = res.Message() == "", clipOutput(res.Message()), time.Since(began)
	if !act.Silent {
		c.recordStart(&w, " (restart)")
	}
	return act, nil
}

// beginStop checks a stop or restart of w, claims the workspace and tells
// the journal the hub's end is boneyard's doing: w must offer Stop and
// still name the hub the page showed. It returns the CLI, the hub's
// process start as known, and release, which ends the claim and the
// journal's expectation.
func (c *Collector) beginStop(w *Workspace, seenPID int, seen time.Time, verb string) (*bonescli.CLI, time.Time, func(), error) {
	cli, err := c.cli(verb)
	if err != nil {
		return nil, time.Time{}, nil, err
	}
	if !w.CanStop {
		return nil, time.Time{}, nil, Refuse(Conflict, "%s is %s, so it has no hub to %s: Stop and Restart are for running and stopped hubs; reload the page", w.DisplayName(), w.Status, verb)
	}
	if seenPID != 0 && seenPID != w.HubPID {
		return nil, time.Time{}, nil, Refuse(Conflict, "the hub of %s changed since the page was shown (pid %d, now %d); nothing was done: reload and try again", w.Cwd, seenPID, w.HubPID)
	}
	created := w.HubStarted
	if !seen.IsZero() {
		if !created.IsZero() && created.Sub(seen).Abs() > createTolerance {
			return nil, time.Time{}, nil, Refuse(Conflict, "process %d changed since the page was shown (the pid was reused); nothing was done: reload and try again", w.HubPID)
		}
		created = seen
	}
	unclaim, err := c.hubs.claim(w, verb)
	if err != nil {
		return nil, time.Time{}, nil, err
	}
	done := c.expect(w.ID, w.HubPID)
	return cli, created, func() { done(); unclaim() }, nil
}

// createTolerance is how far two readings of one process's start time may
// differ (they are rounded differently).
const createTolerance = 10 * time.Millisecond

// stillRuns reports whether pid is alive and, when created is known, the
// process that started then.
func stillRuns(pid int, created time.Time) bool {
	if !procscan.Alive(pid) {
		return false
	}
	if created.IsZero() {
		return true
	}
	ct, err := procscan.CreateTime(pid)
	return err == nil && ct.Sub(created).Abs() <= createTolerance
}

// cliFailure turns a failed run of bones hub verb in w into a *CLIError
// that says what happened and what to do; an error starting bones at all
// passes through, with context.
func cliFailure(verb string, w *Workspace, err error) error {
	var ee *bonescli.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("bones hub %s in %s: %w", verb, w.Cwd, err)
	}
	out := clipOutput(ee.Message())
	summary, _, _ := strings.Cut(out, "\n--- ")
	switch {
	case errors.Is(err, bonescli.ErrSlotsActive):
		return &CLIError{SlotsActive: true, Output: out, Msg: fmt.Sprintf(
			"bones refused to stop the hub of %s: swarm slots are active there. Close them first, or stop it anyway: the slots lose their hub.", w.DisplayName())}
	case errors.Is(err, bonescli.ErrTimeout):
		return &CLIError{Output: out, Msg: fmt.Sprintf(
			"bones hub %s in %s did not finish within %s and was killed; the page shows what boneyard sees now: check the hub log, then try again.", verb, w.Cwd, ee.Took.Round(time.Second))}
	}
	if summary == "" {
		summary = "it printed nothing"
	}
	return &CLIError{Output: out, Msg: fmt.Sprintf("bones hub %s failed in %s (exit %d): %s", verb, w.Cwd, ee.ExitCode, summary)}
}
