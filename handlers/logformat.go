package handlers

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"boneyard/internal/collector"
	"boneyard/internal/hublog"
	"boneyard/web/templates"
)

// The log views' models, built from what hublog read.

// maxSummary is the longest one-line summary of a line's fields, in bytes.
const maxSummary = 160

// logDir is the state directory whose logs are w's: where its hub.log is.
func logDir(w *collector.Workspace) string { return filepath.Dir(w.LogPath) }

// logSource is w as the merged view tags its lines.
func logSource(w *collector.Workspace) *templates.LogSource {
	return &templates.LogSource{ID: w.ID, Name: w.DisplayName(), Href: templates.WorkspaceLogPath(w.ID)}
}

func (f formatter) logTime(t time.Time) templates.LogTime {
	if t.IsZero() {
		return templates.LogTime{}
	}
	local, now := t.Local(), f.now.Local()
	layout := "15:04:05"
	switch {
	case local.Year() != now.Year():
		layout = "2006-01-02 15:04:05"
	case local.YearDay() != now.YearDay():
		layout = "Jan 2 15:04:05"
	}
	return templates.LogTime{
		Local: local.Format(layout),
		UTC:   t.UTC().Format(time.RFC3339Nano),
		Title: t.UTC().Format("2006-01-02 15:04:05 UTC"),
	}
}

// logLine is an entry as the log views show it; src tags it in the merged
// view.
func (f formatter) logLine(e hublog.Entry, src *templates.LogSource) templates.LogLine {
	l := templates.LogLine{
		Time:   f.logTime(e.Time),
		Event:  hublog.Clip(e.Event, 32),
		Msg:    hublog.Printable(e.Msg),
		Plain:  e.Plain,
		Raw:    hublog.Printable(e.Raw),
		File:   e.File,
		Source: src,
	}
	switch lv, ok := hublog.ParseLevel(e.Level); {
	case e.Panic:
		l.Level, l.LevelClass, l.Alert = "panic", "panic", true
	case e.Plain:
	case ok:
		l.Level, l.LevelClass, l.Alert = lv, strings.ToLower(lv), lv == "ERROR"
	case e.Level != "":
		l.Level, l.LevelClass = hublog.Clip(e.Level, 12), "info"
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := hublog.Printable(e.Fields[k])
		l.Fields = append(l.Fields, templates.Field{Name: hublog.Printable(k), Value: v})
		parts = append(parts, hublog.Printable(k)+"="+v)
	}
	l.Summary = hublog.Clip(strings.Join(parts, " "), maxSummary)
	if l.Msg == "" && !l.Plain {
		// A line without msg, like a task mutation, says it in its fields.
		l.Msg, l.Summary = l.Summary, ""
		if len(keys) > 0 {
			l.Summary = "all " + plural(len(keys), "field")
		}
	}
	if e.Cut > 0 {
		l.Cut = bytesIEC(uint64(e.Cut)) + " left out"
	}
	return l
}

// gapLine notes lines a live view passed over.
func gapLine(skipped int64, src *templates.LogSource) templates.LogLine {
	return templates.LogLine{
		Gap: true, Plain: true, Source: src,
		Msg: bytesIEC(uint64(skipped)) + " of new lines passed over: more arrived at once than a page can show. The downloads have them all.",
	}
}

// logOptions are the choices of a select with "" meaning any; the current
// value is kept as a choice when it is not a listed one.
func logOptions(anyLabel string, values []string, cur string, label func(string) string) []templates.Option {
	out := []templates.Option{{Value: "", Label: anyLabel, Selected: cur == ""}}
	for _, v := range values {
		out = append(out, templates.Option{Value: v, Label: label(v), Selected: v == cur})
	}
	if cur != "" && !slices.Contains(values, cur) {
		out = append(out, templates.Option{Value: cur, Label: label(cur), Selected: true})
	}
	return out
}

// logFilters is the filter form of v, sent to action; workspaces, for the
// merged view, are the choices of its workspace filter.
func (f formatter) logFilters(v logView, action string, workspaces []collector.Workspace) templates.LogFilters {
	same := func(s string) string { return s }
	sinceLabels := map[string]string{}
	var sinceValues []string
	for _, s := range sinces[1:] {
		sinceValues = append(sinceValues, s.value)
		sinceLabels[s.value] = s.label
	}
	m := templates.LogFilters{
		Action:   action,
		Levels:   logOptions("any", hublog.Levels(), v.level, same),
		Events:   logOptions("any", hublog.Events(), v.event, same),
		Sinces:   logOptions(sinces[0].label, sinceValues, v.since, func(s string) string { return cmp.Or(sinceLabels[s], s) }),
		Q:        v.q,
		Regex:    v.regex,
		Ignored:  v.ignored,
		Filtered: v.filtered(),
		Clear:    action,
	}
	if v.err != nil {
		m.Error = "This filter cannot be applied: " + v.err.Error() + "."
	}
	if workspaces != nil {
		ws := slices.Clone(workspaces)
		slices.SortFunc(ws, func(a, b collector.Workspace) int {
			return cmp.Or(strings.Compare(strings.ToLower(a.DisplayName()), strings.ToLower(b.DisplayName())), strings.Compare(a.ID, b.ID))
		})
		ids := make([]string, len(ws))
		names := map[string]string{}
		for i, w := range ws {
			ids[i], names[w.ID] = w.ID, w.DisplayName()+" ("+w.ID[:6]+")"
		}
		m.Workspaces = logOptions("every workspace", ids, v.ws, func(id string) string { return cmp.Or(names[id], id) })
	}
	return m
}

// logFiles are the downloads of workspace id's log files.
func logFiles(id string, files []hublog.LogFile) []templates.LogFile {
	out := make([]templates.LogFile, 0, len(files))
	for _, lf := range files {
		m := templates.LogFile{Name: lf.Name, Size: bytesIEC(uint64(lf.Size)), Refused: lf.Refused}
		if lf.Refused == "" {
			m.Href = templates.WorkspaceLogFilePath(id, lf.Name)
		} else {
			m.Size = ""
		}
		out = append(out, m)
	}
	return out
}

// logNotes say what was not read: refused files, or the whole log.
func logNotes(refused []string, readErr error) []string {
	var out []string
	for _, r := range refused {
		out = append(out, r+": boneyard does not read it.")
	}
	if readErr != nil {
		out = append(out, "The hub log cannot be read: "+readErr.Error()+".")
	}
	return out
}

// emptyText is what a list without lines says.
func emptyText(v logView, files []hublog.LogFile, gone bool) string {
	switch {
	case gone:
		return "The file these older lines were in is gone: rotated out or removed."
	case v.filtered() || v.before != "":
		return "No line matches this filter."
	case len(files) == 0:
		return "There is no hub log yet: its lines appear here once the hub writes them."
	}
	return "The hub log has no lines yet."
}

// logList is a page of one workspace's lines at base, as v filters them.
func (f formatter) logList(p hublog.Page, v logView, base string, files []hublog.LogFile, live bool) templates.LogList {
	l := templates.LogList{Lines: make([]templates.LogLine, 0, len(p.Lines)), Live: live, Empty: emptyText(v, files, p.Gone)}
	for _, e := range p.Lines {
		l.Lines = append(l.Lines, f.logLine(e, nil))
	}
	if !p.Older.IsZero() {
		l.Older = v.href(base, p.Older.String())
	}
	if p.Partial {
		l.OlderNote = "This page stopped after reading " + bytesIEC(uint64(p.Scanned)) + partialWhen(f, p.Reached) + "; older lines may match."
	}
	if v.before != "" {
		l.Newest = v.href(base, "")
	}
	return l
}

func partialWhen(f formatter, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ", back to " + f.logTime(t).Local
}

// mergedList is a page of the merged view.
func (f formatter) mergedList(mp hublog.MergedPage, v logView, sources map[string]*templates.LogSource, live bool) templates.LogList {
	l := templates.LogList{Lines: make([]templates.LogLine, 0, len(mp.Lines)), Live: live, Merged: true}
	for _, e := range mp.Lines {
		l.Lines = append(l.Lines, f.logLine(e.Entry, sources[e.Key]))
	}
	if len(mp.Older) > 0 {
		l.Older = v.href(templates.LogsPath, mp.Older.String())
	}
	if v.before != "" {
		l.Newest = v.href(templates.LogsPath, "")
	}
	partial := 0
	for _, p := range mp.Pages {
		if p.Partial {
			partial++
		}
	}
	if partial > 0 {
		l.OlderNote = "The search stopped early in " + plural(partial, "log") + " (read as far as allowed); older lines may match."
	}
	switch {
	case len(sources) == 0:
		l.Empty = "No workspace is known, so there is no log to show."
	case v.filtered() || v.before != "":
		l.Empty = "No line matches this filter."
	default:
		l.Empty = "No hub has written a line yet."
	}
	return l
}

// logTitle is the title of a log page.
func logTitle(snap *collector.Snapshot, l *logLive) string {
	if l.ws == "" {
		return title(snap, "Logs")
	}
	if w := findWorkspace(snap, l.ws); w != nil {
		return title(snap, w.DisplayName()+" log")
	}
	return title(snap, "Log")
}
