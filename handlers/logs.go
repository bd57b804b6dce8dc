package handlers

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/internal/hublog"
	"boneyard/internal/safefile"
	"boneyard/web/templates"
)

// The hub log console: a workspace's log page, the merged page of every
// hub, downloads of the files, and the same lines as JSON.

// mergedPerHub is how many lines of each hub a merged page holds unless
// told: the newest of each, so that a quiet hub is not crowded out.
const mergedPerHub = 50

// mergedBudget bounds the bytes a merged search reads in all; each hub gets
// its share, at least 16 MiB and at most a single search's.
const mergedBudget = 512 << 20

// mergedOptions bound a merged search of n hubs, limit lines of each: at
// most hublog.MaxLimit lines and mergedBudget bytes in all.
func mergedOptions(n, limit int) hublog.Options {
	n = max(n, 1)
	return hublog.Options{
		Limit:  min(limit, max(1, hublog.MaxLimit/n)),
		Budget: min(hublog.DefaultBudget, max(16<<20, int64(mergedBudget/n))),
	}
}

// detailLogLines is how many lines a detail page's log panel holds.
const detailLogLines = 200

// downloadTime bounds the sending of a log file: a 10 MiB file takes
// milliseconds on loopback, a huge one is cut off rather than held open.
const downloadTime = 10 * time.Minute

func (s *Server) logRoutes(priv *echo.Group, guard []echo.MiddlewareFunc) {
	priv.GET(templates.WorkspaceLogPath(":id"), s.workspaceLog, guard...)
	priv.GET(templates.WorkspaceLogFilePath(":id", ":name"), s.logFile, guard...)
	priv.GET(templates.LogsPath, s.mergedLogs, guard...)
	priv.GET(templates.APIWorkspaceLogPath(":id"), s.apiWorkspaceLog, guard...)
	priv.GET(templates.APILogsPath, s.apiLogs, guard...)
}

// logWorkspace is the workspace a log route names, or the answer a page
// gets when it is not known.
func (s *Server) logWorkspace(c echo.Context, snap *collector.Snapshot) (*collector.Workspace, error) {
	id := c.Param("id")
	w := findWorkspace(snap, id)
	switch {
	case w != nil:
		return w, nil
	case !snap.Listed():
		return nil, s.unlistedWorkspace(c, snap, nil)
	}
	return nil, s.notFoundWorkspace(c, id, nil)
}

// workspaceLog is GET /workspaces/{id}/log: the newest lines the filters
// keep, over hub.log and its rotations, live; or, with ?before=, the page
// of lines before that place (the answer to "Load older lines").
func (s *Server) workspaceLog(c echo.Context) error {
	snap := s.src.Snapshot()
	w, err := s.logWorkspace(c, snap)
	if w == nil {
		return err
	}
	f := s.formatter()
	v := parseLogView(c.QueryParams(), f.now)
	before, err := hublog.ParseMark(v.before)
	if err != nil {
		v.ignored, v.before = append(v.ignored, err.Error()+": showing the newest lines"), ""
	}
	dir := logDir(w)
	var page hublog.Page
	var readErr error
	if v.err == nil {
		page, readErr = hublog.Search(dir, v.filter, hublog.Options{Before: before})
	}
	files, filesErr := hublog.Files(dir)
	readErr = errors.Join(readErr, filesErr)
	base := templates.WorkspaceLogPath(w.ID)
	live := v.before == "" && v.err == nil && readErr == nil
	list := f.logList(page, v, base, files, live)
	if isHTMX(c) && v.before != "" {
		return render(c, http.StatusOK, templates.LogPrepend(list))
	}
	l := &logLive{ws: w.ID, view: v, follow: live}
	if live {
		l.cursor = hublog.Cursors{w.ID: page.End}.String()
	}
	return render(c, http.StatusOK, templates.LogPageView(templates.LogPage{
		Page:      f.page(snap, livePage{log: l}, logTitle(snap, l)),
		Heading:   "Hub log of " + w.DisplayName(),
		Workspace: &templates.LogSource{ID: w.ID, Name: w.DisplayName(), Href: templates.WorkspacePath(w.ID)},
		Path:      f.path(dir),
		Filters:   f.logFilters(v, base, nil),
		List:      list,
		Files:     logFiles(w.ID, files),
		Notes:     logNotes(page.Refused, readErr),
	}))
}

// detailLog fills the log panel of w's detail page: its newest lines, and
// when live, a page that follows them from where they end.
func (s *Server) detailLog(f formatter, snap *collector.Snapshot, w *collector.Workspace, d *templates.Detail, live bool) {
	dir := logDir(w)
	page, readErr := hublog.Search(dir, nil, hublog.Options{Limit: detailLogLines})
	files, filesErr := hublog.Files(dir)
	readErr = errors.Join(readErr, filesErr)
	console := templates.WorkspaceLogPath(w.ID)
	d.Log = templates.LogPanel{
		Path:    f.path(w.LogPath),
		Console: console,
		Filters: f.logFilters(logView{}, console, nil),
		List:    f.logList(page, logView{}, console, files, readErr == nil),
		Files:   logFiles(w.ID, files),
		Notes:   logNotes(page.Refused, readErr),
	}
	if readErr == nil && live {
		d.Page = f.page(snap, livePage{detailID: w.ID, log: &logLive{ws: w.ID, detail: true, follow: true, cursor: hublog.Cursors{w.ID: page.End}.String()}}, d.Title)
	}
}

// logSources are the workspaces of snap a merged view reads: all, or the
// one v names.
func logSources(snap *collector.Snapshot, v logView) ([]hublog.Source, map[string]*templates.LogSource) {
	var srcs []hublog.Source
	tags := map[string]*templates.LogSource{}
	for i := range snap.Workspaces {
		w := &snap.Workspaces[i]
		if v.ws != "" && w.ID != v.ws {
			continue
		}
		srcs = append(srcs, hublog.Source{Key: w.ID, Dir: logDir(w)})
		tags[w.ID] = logSource(w)
	}
	return srcs, tags
}

// mergedNotes say which workspaces' logs could not be read.
func mergedNotes(mp hublog.MergedPage, tags map[string]*templates.LogSource) []string {
	var out []string
	for key, err := range mp.Failed {
		out = append(out, "The hub log of "+tags[key].Name+" cannot be read: "+err.Error()+".")
	}
	for key, p := range mp.Pages {
		for _, r := range p.Refused {
			out = append(out, tags[key].Name+": "+r+": boneyard does not read it.")
		}
	}
	slices.Sort(out)
	return out
}

// mergedLogs is GET /logs: the newest lines of every hub the filters keep,
// merged by time, each tagged with its workspace, live.
func (s *Server) mergedLogs(c echo.Context) error {
	snap := s.src.Snapshot()
	f := s.formatter()
	v := parseLogView(c.QueryParams(), f.now)
	before, err := hublog.ParseMarks(v.before)
	if err != nil {
		v.ignored, v.before = append(v.ignored, err.Error()+": showing the newest lines"), ""
	}
	srcs, tags := logSources(snap, v)
	if v.ws != "" && len(srcs) == 0 && snap.Listed() {
		v.ignored = append(v.ignored, "no workspace with id "+strconv.Quote(v.ws)+" is registered")
	}
	var mp hublog.MergedPage
	if v.err == nil {
		mp = hublog.SearchMerged(srcs, v.filter, before, mergedOptions(len(srcs), mergedPerHub))
	}
	live := v.before == "" && v.err == nil
	list := f.mergedList(mp, v, tags, live)
	if isHTMX(c) && v.before != "" {
		return render(c, http.StatusOK, templates.LogPrepend(list))
	}
	l := &logLive{view: v, follow: live}
	if live {
		l.cursor = mp.End.String()
	}
	return render(c, http.StatusOK, templates.LogPageView(templates.LogPage{
		Page:    f.page(snap, livePage{log: l}, logTitle(snap, l)),
		Heading: "Hub logs",
		Filters: f.logFilters(v, templates.LogsPath, snap.Workspaces),
		List:    list,
		Notes:   mergedNotes(mp, tags),
	}))
}

// unsafeName is what a download's file name leaves out of the workspace's
// name: anything but letters, digits, dot, dash and underscore.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// logFile is GET /workspaces/{id}/log/files/{name}: hub.log or one of its
// rotations, as it is, as text: the bytes it held when opened.
func (s *Server) logFile(c echo.Context) error {
	snap := s.src.Snapshot()
	w, err := s.logWorkspace(c, snap)
	if w == nil {
		return err
	}
	name := c.Param("name")
	file, size, err := hublog.OpenFile(logDir(w), name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return echo.NewHTTPError(http.StatusNotFound, "There is no log file "+strconv.Quote(name)+" in "+logDir(w)+".")
	case safefile.Reason(err) != "":
		return echo.NewHTTPError(http.StatusForbidden, name+" "+safefile.Reason(err)+": boneyard does not read it.")
	case err != nil:
		return err
	}
	defer file.Close()
	if err := http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(downloadTime)); err != nil {
		s.log.Debug("log download: extend write deadline", "err", err)
	}
	h := c.Response().Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", `attachment; filename="`+unsafeName.ReplaceAllString(w.DisplayName(), "_")+"-"+name+`"`)
	c.Response().WriteHeader(http.StatusOK)
	if _, err := io.Copy(c.Response(), io.NewSectionReader(file, 0, size)); err != nil {
		s.log.Debug("log download", "file", name, "err", err)
	}
	return nil
}

// logLineJSON is one line in the JSON of the log APIs.
type logLineJSON struct {
	Time        *string           `json:"time"` // RFC 3339 UTC; null when unknown
	Level       string            `json:"level"`
	Event       string            `json:"event"`
	Msg         string            `json:"msg"`
	Fields      map[string]string `json:"fields"`
	Raw         string            `json:"raw"`
	File        string            `json:"file"`
	Plain       bool              `json:"plain"`
	WorkspaceID string            `json:"workspace_id,omitempty"`
}

type logList struct {
	Schema schema        `json:"schema"`
	Data   []logLineJSON `json:"data"`
}

func logJSON(e hublog.Entry, ws string) logLineJSON {
	j := logLineJSON{Level: e.Level, Event: e.Event, Msg: e.Msg, Fields: e.Fields, Raw: e.Raw, File: e.File, Plain: e.Plain, WorkspaceID: ws}
	if j.Fields == nil {
		j.Fields = map[string]string{}
	}
	if !e.Time.IsZero() {
		t := e.Time.UTC().Format(time.RFC3339Nano)
		j.Time = &t
	}
	return j
}

// apiLogView parses a log API's query: anything not understood is a 400
// that says what, and limit is 1 to hublog.MaxLimit (def when absent).
func apiLogView(q url.Values, now time.Time, def int) (logView, int, error) {
	v := parseLogView(q, now)
	switch {
	case v.err != nil:
		return v, 0, echo.NewHTTPError(http.StatusBadRequest, "This filter cannot be applied: "+v.err.Error()+".")
	case len(v.ignored) > 0:
		return v, 0, echo.NewHTTPError(http.StatusBadRequest, "Bad query: "+v.ignored[0]+".")
	}
	limit := def
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > hublog.MaxLimit {
			return v, 0, echo.NewHTTPError(http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(hublog.MaxLimit)+".")
		}
		limit = n
	}
	return v, limit, nil
}

// nextLink sets the Link header to the next (older) page: the request's
// query with before; none when there is none.
func nextLink(c echo.Context, base, before string) {
	if before == "" {
		return
	}
	q := maps.Clone(c.QueryParams())
	q.Set("before", before)
	c.Response().Header().Set("Link", "<"+base+"?"+q.Encode()+`>; rel="next"`)
}

// apiWorkspaceLog is GET /api/workspaces/{id}/log: the newest lines the
// filters keep (level, event, q, regex, since, limit), oldest first, in
// the envelope of the other APIs; the Link header's rel="next" is the page
// of older lines.
func (s *Server) apiWorkspaceLog(c echo.Context) error {
	snap := s.src.Snapshot()
	if err := apiUnavailable(c, snap, false); err != nil {
		return err
	}
	id := c.Param("id")
	w := findWorkspace(snap, id)
	if w == nil {
		return echo.NewHTTPError(http.StatusNotFound, "There is no workspace with id "+strconv.Quote(id)+" in the registry.")
	}
	v, limit, err := apiLogView(c.QueryParams(), time.Now(), hublog.DefaultLimit)
	if err != nil {
		return err
	}
	before, err := hublog.ParseMark(v.before)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Bad before: "+err.Error()+".")
	}
	page, err := hublog.Search(logDir(w), v.filter, hublog.Options{Before: before, Limit: limit})
	if err != nil {
		return err
	}
	out := logList{Schema: schema{Verb: "workspace.log", Version: "v1"}, Data: make([]logLineJSON, 0, len(page.Lines))}
	for _, e := range page.Lines {
		out.Data = append(out.Data, logJSON(e, ""))
	}
	nextLink(c, templates.APIWorkspaceLogPath(w.ID), page.Older.String())
	return writeJSON(c, out)
}

// apiLogs is GET /api/logs: the newest lines of every hub (or of ws) the
// filters keep, limit of each (default mergedPerHub; at most
// hublog.MaxLimit in all), merged by time, oldest first, each with its
// workspace_id; Link rel="next" as for one.
func (s *Server) apiLogs(c echo.Context) error {
	snap := s.src.Snapshot()
	if err := apiUnavailable(c, snap, false); err != nil {
		return err
	}
	v, limit, err := apiLogView(c.QueryParams(), time.Now(), mergedPerHub)
	if err != nil {
		return err
	}
	before, err := hublog.ParseMarks(v.before)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Bad before: "+err.Error()+".")
	}
	srcs, _ := logSources(snap, v)
	if v.ws != "" && len(srcs) == 0 {
		return echo.NewHTTPError(http.StatusNotFound, "There is no workspace with id "+strconv.Quote(v.ws)+" in the registry.")
	}
	mp := hublog.SearchMerged(srcs, v.filter, before, mergedOptions(len(srcs), limit))
	for key, err := range mp.Failed {
		s.log.Warn("api logs: read a hub log", "workspace", key, "err", err)
	}
	out := logList{Schema: schema{Verb: "logs", Version: "v1"}, Data: make([]logLineJSON, 0, len(mp.Lines))}
	for _, e := range mp.Lines {
		out.Data = append(out.Data, logJSON(e.Entry, e.Key))
	}
	older := ""
	if len(mp.Older) > 0 {
		older = mp.Older.String()
	}
	nextLink(c, templates.APILogsPath, older)
	return writeJSON(c, out)
}
