package handlers

import (
	"strconv"
	"strings"
	"time"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

// The view models of web/templates, built from one snapshot.

// title is a page title with the count of problems and unacknowledged
// hub deaths in front, so a background tab shows trouble: "(2) boneyard".
func title(snap *collector.Snapshot, page ...string) string {
	t := strings.Join(append(page, "boneyard"), " · ")
	if n := snap.Attention(); n > 0 {
		return "(" + strconv.Itoa(n) + ") " + t
	}
	return t
}

// counts are the per-status totals, problems first. The orphan total
// includes process-only orphan hubs, as the title's problem count does, and
// says how it splits.
func counts(snap *collector.Snapshot) []templates.Count {
	n := snap.Counts()
	out := make([]templates.Count, 0, len(collector.Statuses()))
	for _, st := range collector.Statuses() {
		c := templates.Count{Status: string(st), N: n.Of(st)}
		if st == collector.StatusOrphan && n.ProcessOrphans > 0 {
			c.N += n.ProcessOrphans
			c.Detail = plural(n.Of(st), "workspace") + ", " + plural(n.ProcessOrphans, "process")
		}
		out = append(out, c)
	}
	return out
}

func (f formatter) row(snap *collector.Snapshot, w *collector.Workspace) templates.Row {
	r := templates.Row{
		ID:           w.ID,
		Name:         w.DisplayName(),
		Cwd:          f.path(w.Cwd),
		Status:       string(w.Status),
		OrphanReason: w.OrphanReason,
		Reason:       w.StoppedReason,
		HubURL:       w.HubURL,
		HubLink:      w.HubLink,
		NATSURL:      w.NATSURL,
		PID:          w.HubPID,
		CanReap:      w.CanReap,
		CanStart:     w.CanStart,
		CanStop:      w.CanStop,
		AgentID:      w.AgentID,
		LastTouched:  f.stamp(w.LastTouched),
		StartedAt:    f.stamp(w.StartedAt),
		Lock:         lockText(w.Lock),
		Uptime:       "—",
		CPU:          "—",
		RSS:          "—",
		Ports:        "—",
		Children:     "—",
		ReadOnly:     f.readOnly,
	}
	if !w.HubStarted.IsZero() {
		r.CreateTime = w.HubStarted.Format(time.RFC3339Nano)
	}
	if f.bones.Path == "" {
		r.LifecycleOff = "Turned off: " + f.bones.Problem
	}
	if res := w.Resources; res != nil {
		r.Uptime = duration(res.Uptime)
		r.CPU = percent(res.CPUPercent)
		r.RSS = bytesIEC(res.RSS)
		r.Children = strconv.Itoa(res.Children)
		if len(res.Ports) > 0 {
			ports := make([]string, len(res.Ports))
			for i, p := range res.Ports {
				ports[i] = strconv.Itoa(p)
			}
			r.Ports = strings.Join(ports, ", ")
		}
	}
	f.memory(&r, snap, w)
	return r
}

// orphans is the orphan section of a view: the orphans it matches, and how
// many it hides.
func (f formatter) orphans(snap *collector.Snapshot, v view) templates.Orphans {
	out := templates.Orphans{
		Rows:     make([]templates.OrphanRow, 0, len(snap.Orphans)),
		Unknown:  snap.Seq == 0 || snap.ListErr != nil || snap.ScanErr != nil,
		Clear:    v.unfiltered().href(),
		ReadOnly: f.readOnly,
	}
	for i := range snap.Orphans {
		o := &snap.Orphans[i]
		if !v.orphanMatches(o) {
			out.Hidden++
			continue
		}
		cwd := templates.Path{Short: "unknown", Full: "unknown"}
		if o.Cwd != "" {
			cwd = f.path(o.Cwd)
		}
		out.Rows = append(out.Rows, templates.OrphanRow{
			PID:        o.PID,
			Elapsed:    o.ETime,
			Cwd:        cwd,
			Reason:     o.Reason,
			Cmd:        o.Cmd,
			CreateTime: o.CreateTime.Format(time.RFC3339Nano),
		})
	}
	return out
}

// health tells the page how far to trust the snapshot: collecting before
// the first collection, else the latest collection's error with what to do.
func (f formatter) health(snap *collector.Snapshot) templates.Health {
	var h templates.Health
	switch {
	case snap.Seq == 0:
		return templates.Health{Collecting: true}
	case snap.ListErr != nil:
		h = templates.Health{Error: snap.Err.Error(), Hint: "The workspace list is unknown, not empty. " +
			"Make sure " + f.path(snap.RegistryDir).Short + " is a directory you can read and write; " +
			"boneyard retries on its own and this page updates when it succeeds."}
	case snap.Err != nil:
		h = templates.Health{Error: snap.Err.Error(), Hint: "The rest of the page is current. " +
			"boneyard retries on its own; its log has the details."}
	}
	h.Notes = f.leftOut(snap)
	return h
}

// maxNotes bounds the refused files named on a page; a registry full of
// planted files must not make every page huge.
const maxNotes = 20

// leftOut says what the collection refused to read or show, and why.
func (f formatter) leftOut(snap *collector.Snapshot) []string {
	notes := append([]string(nil), snap.Warnings...)
	for _, r := range snap.Refused {
		notes = append(notes, f.path(r.Path).Short+" was not read: it "+r.Reason+".")
	}
	if len(notes) > maxNotes {
		notes = append(notes[:maxNotes], strconv.Itoa(len(notes)-maxNotes)+" more; the log names them all.")
	}
	switch n := snap.OtherUsersHubs; {
	case n == 1:
		notes = append(notes, "1 bones hub process of another user runs on this host; it is not shown and cannot be reaped from here.")
	case n > 1:
		notes = append(notes, strconv.Itoa(n)+" bones hub processes of other users run on this host; they are not shown and cannot be reaped from here.")
	}
	return notes
}

// page is what every full page of p needs at snap: the title, the live
// URLs and the health banner. The events URL carries the snapshot the page
// is rendered from, so that the stream can tell whether the page is stale.
func (f formatter) page(snap *collector.Snapshot, p livePage, titleText string) templates.Page {
	q := p.query()
	titleURL := templates.TitlePath
	if enc := q.Encode(); enc != "" {
		titleURL += "?" + enc
	}
	q.Set("seq", strconv.FormatUint(snap.Seq, 10))
	return templates.Page{
		Title:     titleText,
		EventsURL: templates.EventsPath + "?" + q.Encode(),
		TitleURL:  titleURL,
		Health:    f.health(snap),
		ReadOnly:  f.readOnly,
		Favicon:   faviconURL(snap),
		Notices:   notices(snap),
	}
}

// dashboardModel is everything GET / renders for one view of one snapshot.
func (f formatter) dashboardModel(snap *collector.Snapshot, v view) templates.Dashboard {
	d := templates.Dashboard{
		Page:       f.page(snap, livePage{view: v}, title(snap)),
		Counts:     counts(snap),
		Headers:    v.headers(),
		Orphans:    f.orphans(snap, v),
		Collecting: snap.Seq == 0,
		Unlisted:   snap.Seq > 0 && snap.ListErr != nil,
		Empty:      snap.Listed() && len(snap.Workspaces)+len(snap.Down) == 0,
		View:       v.model(),
		Back:       v.href(),
		Remembers:  snap.Remembers(),
		Bones:      f.bones,
		Cleanup:    f.cleanupLink(snap),
	}
	if d.Remembers {
		d.Activity = f.activity(snap, v)
	}
	for _, w := range v.apply(snap.Table()) {
		d.Rows = append(d.Rows, f.row(snap, w))
	}
	return d
}

// detailModel is the page of workspace w, in the registry or down.
func (f formatter) detailModel(snap *collector.Snapshot, w *collector.Workspace) templates.Detail {
	row := f.row(snap, w)
	d := templates.Detail{
		Page:      f.page(snap, livePage{detailID: w.ID}, title(snap, row.Name)),
		Row:       row,
		Back:      templates.WorkspacePath(w.ID),
		Remembers: snap.Remembers(),
		Bones:     f.bones,
	}
	if d.Remembers {
		d.Timeline = f.timeline(snap, w.ID)
	}
	if w.Down != nil {
		d.LastPID, d.LastSeen = w.Down.PID, f.stamp(w.Down.LastSeen)
	} else {
		d.CPUChart, d.RSSChart = f.charts(snap, w)
	}
	return d
}

// findWorkspace is snap.Workspace as a pointer, nil when absent.
func findWorkspace(snap *collector.Snapshot, id string) *collector.Workspace {
	w, ok := snap.Workspace(id)
	if !ok {
		return nil
	}
	return &w
}
