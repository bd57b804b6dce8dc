package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"boneyard/procscan"
)

// End-of-day cleanup: a plan of what to clean, item by item with the reason
// for each, drawn from a snapshot; and running the items a person ticked,
// each with the checks of its single action, refusing any whose state
// changed since the plan.

// CleanupKind is what a cleanup item does.
type CleanupKind string

// The kinds, in the order a plan lists them.
const (
	// CleanReapProcess reaps a process-only orphan hub, as ReapProcess.
	CleanReapProcess CleanupKind = "reap-process"
	// CleanReapOrphan reaps an orphaned workspace's hub and removes its
	// entry, as ReapWorkspace.
	CleanReapOrphan CleanupKind = "reap-orphan"
	// CleanRemoveEntry removes the entry of a stopped hub, one whose pid
	// lives and does not answer: the hub is reaped with it, as
	// ReapWorkspace, so that it does not linger as an orphan. (Entries
	// whose directory is gone never reach a snapshot: the registry prunes
	// them as it lists.)
	CleanRemoveEntry CleanupKind = "remove-entry"
	// CleanForgetDown forgets a down workspace, as Forget: it leaves the
	// table, its history stays.
	CleanForgetDown CleanupKind = "forget-down"
	// CleanStopIdle stops a running hub with no log activity for longer
	// than the plan's idle limit, as StopHub (without force).
	CleanStopIdle CleanupKind = "stop-idle"
)

// CleanupKinds returns every kind in the order a plan lists them.
func CleanupKinds() []CleanupKind {
	return []CleanupKind{CleanReapProcess, CleanReapOrphan, CleanRemoveEntry, CleanForgetDown, CleanStopIdle}
}

// CleanupItem is one thing a cleanup will do.
type CleanupItem struct {
	// ID names the item and the state it was planned from: running it is
	// refused when the same target is in another state now.
	ID          string
	Kind        CleanupKind
	WorkspaceID string    // "" for a process-only orphan
	Name        string    // the workspace's name; "" for a process-only orphan
	Cwd         string    // its directory; "" when unknown
	PID         int       // the hub process acted on; 0 for none
	Created     time.Time // that process's start, as the scan saw it; zero when unknown
	Reason      string    // why it is in the plan
	Action      string    // what running it does
	IdleSince   time.Time // stop-idle: the hub's last sign of activity

	state string // what else the item was planned from, for its ID
}

// target is the part of an item's ID that names what it acts on.
func (it CleanupItem) target() string {
	if it.WorkspaceID != "" {
		return string(it.Kind) + ":" + it.WorkspaceID
	}
	return string(it.Kind) + ":" + strconv.Itoa(it.PID)
}

// CleanupPlan is what a cleanup would do, as of one snapshot.
type CleanupPlan struct {
	Seq       uint64        // the snapshot planned from
	IdleAfter time.Duration // stop running hubs idle for longer; 0: none
	Items     []CleanupItem // in CleanupKinds order, then as the snapshot lists them
}

// MaxIdleAfter bounds a cleanup's idle limit: thirty days.
const MaxIdleAfter = 30 * 24 * time.Hour

// CleanupPlan returns what a cleanup would do as of s: reap the
// process-only orphan hubs and the orphaned workspaces' hubs, remove the
// entries of stopped hubs (reaping the hub), forget the down workspaces,
// and with idleAfter > 0 stop
// the running hubs whose last activity (their log's modification, else
// their start) is more than idleAfter before now. A
// snapshot that cannot speak for the registry or the processes plans
// nothing.
func (s *Snapshot) CleanupPlan(idleAfter time.Duration, now time.Time) CleanupPlan {
	p := CleanupPlan{Seq: s.Seq, IdleAfter: idleAfter, Items: []CleanupItem{}}
	if !s.Listed() || s.ScanErr != nil {
		return p
	}
	for _, o := range s.Orphans {
		cwd := o.Cwd
		p.add(CleanupItem{
			Kind: CleanReapProcess, Cwd: cwd, PID: o.PID, Created: o.CreateTime, Reason: o.Reason,
			Action: fmt.Sprintf("reap hub process %d: %s", o.PID, reapSignals),
		})
	}
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		if w.Status == StatusOrphan && w.CanReap {
			p.add(workspaceItem(w, CleanReapOrphan, w.OrphanReason,
				fmt.Sprintf("reap its hub (pid %d): %s; its entry is removed", w.HubPID, reapSignals)))
		}
	}
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		if w.Status == StatusStopped {
			reason := "its hub does not answer"
			if w.StoppedReason != "" {
				reason += ": " + w.StoppedReason
			}
			p.add(workspaceItem(w, CleanRemoveEntry, reason,
				fmt.Sprintf("remove its entry, reaping its hub (pid %d) first if it still runs: %s", w.HubPID, reapSignals)))
		}
	}
	for i := range s.Down {
		w := &s.Down[i]
		if w.Down == nil {
			continue
		}
		it := CleanupItem{
			Kind: CleanForgetDown, WorkspaceID: w.ID, Name: w.DisplayName(), Cwd: w.Cwd,
			Reason: "down: " + w.Down.Summary(now),
			Action: "forget it: it leaves the table; its history stays",
			state:  fmt.Sprintf("%d\x00%d\x00%d", w.Down.Since.UnixNano(), w.Down.PID, w.Down.PIDCreate.UnixNano()),
		}
		p.add(it)
	}
	if idleAfter <= 0 {
		return p
	}
	for i := range s.Workspaces {
		w := &s.Workspaces[i]
		if w.Status != StatusRunning || !w.CanStop {
			continue
		}
		last := lastActivity(w)
		if last.IsZero() || now.Sub(last) <= idleAfter {
			continue
		}
		it := workspaceItem(w, CleanStopIdle,
			fmt.Sprintf("no log activity for %s (more than %s)", roundDuration(now.Sub(last)), roundDuration(idleAfter)),
			"stop its hub with bones hub stop: SIGTERM, then SIGKILL after 2 s")
		it.IdleSince = last
		p.add(it)
	}
	return p
}

// reapSignals is how a reap ends a hub.
const reapSignals = "SIGTERM, then SIGKILL after 2 s"

// lastActivity is a running hub's last sign of activity: its log's
// modification time (a hub logs as it starts), else, without a log, its
// start.
func lastActivity(w *Workspace) time.Time {
	switch {
	case !w.LogModified.IsZero():
		return w.LogModified
	case !w.HubStarted.IsZero():
		return w.HubStarted
	}
	return w.StartedAt
}

// roundDuration renders d for a reason: hours and minutes, or minutes.
func roundDuration(d time.Duration) string {
	if d >= time.Hour {
		return d.Truncate(time.Minute).String()
	}
	return d.Round(time.Minute).String()
}

func workspaceItem(w *Workspace, kind CleanupKind, reason, action string) CleanupItem {
	return CleanupItem{
		Kind: kind, WorkspaceID: w.ID, Name: w.DisplayName(), Cwd: w.Cwd,
		PID: w.HubPID, Created: w.HubStarted, Reason: reason, Action: action,
	}
}

// add gives it its ID and appends it.
func (p *CleanupPlan) add(it CleanupItem) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%s\x00%s", it.target(), it.Cwd, it.PID, it.Created.UnixNano(), it.Name, it.state)
	it.ID = it.target() + ":" + hex.EncodeToString(h.Sum(nil))[:12]
	p.Items = append(p.Items, it)
}

// Item returns the plan's item id, if it has it.
func (p *CleanupPlan) Item(id string) (CleanupItem, bool) {
	for _, it := range p.Items {
		if it.ID == id {
			return it, true
		}
	}
	return CleanupItem{}, false
}

// CleanupOutcome is what running one item came to.
type CleanupOutcome string

const (
	CleanupDone    CleanupOutcome = "done"    // it did what the plan said
	CleanupGone    CleanupOutcome = "gone"    // what it was to act on is gone already: nothing to do
	CleanupRefused CleanupOutcome = "refused" // not done: its state changed since the plan, or a check refused it
	CleanupFailed  CleanupOutcome = "failed"  // it was tried and did not work
)

// CleanupResult is one item's result.
type CleanupResult struct {
	ID      string
	Item    CleanupItem // as planned; only the ID when it is no longer in the plan
	Outcome CleanupOutcome
	Message string // what happened, or why not
}

// ValidCleanupID reports whether id has the shape of a cleanup item id:
// "<kind>:<workspace id or pid>:<12 hex>".
func ValidCleanupID(id string) bool {
	kind, rest, ok := strings.Cut(id, ":")
	if !ok || len(id) > 64 {
		return false
	}
	target, sum, ok := strings.Cut(rest, ":")
	if !ok || len(sum) != 12 || strings.Trim(sum, "0123456789abcdef") != "" || target == "" {
		return false
	}
	for _, k := range CleanupKinds() {
		if string(k) == kind {
			return strings.Trim(target, "0123456789abcdef") == ""
		}
	}
	return false
}

// Cleanup runs the items ids of a plan with idle limit idleAfter: it plans
// again from a fresh collection and runs each requested item that is still
// in that plan as it was, in plan order, through its single action and
// that action's checks. An item whose target is in another state now is
// refused, one whose target is gone is reported gone; neither is acted on.
// It returns one result per distinct id, in plan order then as requested.
func (c *Collector) Cleanup(ctx context.Context, ids []string, idleAfter time.Duration) []CleanupResult {
	snap := c.Refresh(ctx)
	plan := snap.CleanupPlan(idleAfter, time.Now())
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var out []CleanupResult
	for _, it := range plan.Items {
		if want[it.ID] {
			delete(want, it.ID)
			out = append(out, c.runItem(ctx, snap, it))
		}
	}
	seen := make(map[string]bool, len(want))
	for _, id := range ids {
		if !want[id] || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, notInPlan(&plan, id))
	}
	return out
}

// notInPlan is the result of an id the fresh plan does not hold: its
// target is there in another state (refused), or not at all (gone).
func notInPlan(plan *CleanupPlan, id string) CleanupResult {
	r := CleanupResult{ID: id, Item: CleanupItem{ID: id}, Outcome: CleanupGone,
		Message: "not in the cleanup plan any more: what it was to act on is gone or no longer needs it; nothing was done"}
	i := strings.LastIndexByte(id, ':')
	if i < 0 {
		return r
	}
	for _, it := range plan.Items {
		if it.target() == id[:i] {
			r.Item, r.Outcome = it, CleanupRefused
			r.Message = "its state changed since the plan was shown (" + it.Reason + " now); nothing was done: review the new plan and run it again"
			return r
		}
	}
	return r
}

// runItem runs one planned item through its single action.
func (c *Collector) runItem(ctx context.Context, snap *Snapshot, it CleanupItem) CleanupResult {
	r := CleanupResult{ID: it.ID, Item: it}
	var err error
	switch it.Kind {
	case CleanReapProcess:
		if err = c.ReapProcess(it.PID, it.Created); err == nil {
			r.Message = fmt.Sprintf("reaped hub process %d", it.PID)
		} else if !procscan.Alive(it.PID) {
			r.Outcome, r.Message = CleanupGone, fmt.Sprintf("hub process %d had exited already", it.PID)
			return r
		}
	case CleanReapOrphan, CleanRemoveEntry:
		w, ok := snap.Workspace(it.WorkspaceID)
		if !ok {
			return CleanupResult{ID: it.ID, Item: it, Outcome: CleanupGone, Message: "its entry is gone already"}
		}
		var reaped Reaped
		if reaped, err = c.ReapWorkspace(w, it.PID, it.Created); err == nil {
			r.Message = reapedMessage(reaped)
		}
	case CleanForgetDown:
		if _, err = c.Forget(it.WorkspaceID); err == nil {
			r.Message = "forgot it: it left the table; its history stays"
		}
	case CleanStopIdle:
		w, ok := snap.Workspace(it.WorkspaceID)
		if !ok {
			return CleanupResult{ID: it.ID, Item: it, Outcome: CleanupGone, Message: "its hub stopped already"}
		}
		if _, err = c.StopHub(ctx, w, it.PID, it.Created, false); err == nil {
			r.Message = fmt.Sprintf("stopped its hub (pid %d)", it.PID)
		}
	}
	var (
		rf *Refusal
		ce *CLIError
	)
	switch {
	case err == nil:
		r.Outcome = CleanupDone
	case errors.As(err, &rf):
		r.Outcome, r.Message = CleanupRefused, rf.Msg
	case errors.As(err, &ce) && ce.SlotsActive:
		r.Outcome, r.Message = CleanupRefused, ce.Msg+" ("+ce.Output+")"
	default:
		r.Outcome, r.Message = CleanupFailed, err.Error()
	}
	return r
}

// reapedMessage says what a workspace reap did.
func reapedMessage(r Reaped) string {
	switch r.Outcome {
	case ReapExited:
		return fmt.Sprintf("its hub (pid %d) had exited already; removed its entry", r.PID)
	case ReapRecycled:
		return fmt.Sprintf("pid %d belongs to a newer hub now, so nothing was signalled; removed the stale entry", r.PID)
	}
	return fmt.Sprintf("reaped its hub (pid %d) and removed its entry", r.PID)
}
