package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

// What boneyard remembers, as pages and JSON: the recent activity, a
// workspace's timeline, desktop notices, the favicon's badge, and the
// forget and acknowledge actions.

const (
	// activityRows is how many events the dashboard lists.
	activityRows = 30
	// timelineRows is how many events a workspace's page lists.
	timelineRows = 100
	// maxAPIEvents bounds /api/events?limit=.
	maxAPIEvents = 1000
	// sparkPoints and chartPoints are the points a row's and a detail
	// page's chart draw.
	sparkPoints = 30
	chartPoints = 120
	// maxBadge is the highest count the favicon's badge shows; above it
	// shows "9+".
	maxBadge = 9
)

// journalRoutes adds the routes of what boneyard remembers.
func (s *Server) journalRoutes(pub, priv *echo.Group, guard []echo.MiddlewareFunc) {
	pub.GET(templates.FaviconPath(":n"), favicon)
	priv.POST(templates.ForgetPath(":id"), s.forget, guard...)
	priv.POST(templates.AckPath(":id"), s.acknowledge, guard...)
	priv.GET(templates.NoticesPath, s.currentNotices, guard...)
	priv.GET(templates.APIEventsPath, s.apiEvents, guard...)
	priv.GET(templates.APIKnownPath, s.apiKnown, guard...)
}

// clock is an event's time for a list: the time of day on now's day, with
// the date otherwise.
func (f formatter) clock(t time.Time) templates.Stamp {
	t, now := t.Local(), f.now.Local()
	layout := "Jan 2 2006 15:04:05"
	switch {
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		layout = "15:04:05"
	case t.Year() == now.Year():
		layout = "Jan 2 15:04:05"
	}
	return templates.Stamp{Rel: t.Format(layout), UTC: t.UTC().Format(time.RFC3339)}
}

// shortClock is clock to the minute, for a row's one-line summary.
func (f formatter) shortClock(t time.Time) string {
	s := f.clock(t).Rel
	return s[:len(s)-3]
}

func (f formatter) eventRow(e collector.Event) templates.EventRow {
	r := templates.EventRow{Time: f.clock(e.Time), Kind: string(e.Kind), WorkspaceID: e.WorkspaceID, Name: e.Name, PID: e.PID, Detail: e.Detail}
	if e.Cwd != "" {
		r.Cwd = f.path(e.Cwd)
	}
	if r.Name == "" {
		r.Name = e.WorkspaceID
	}
	return r
}

func (f formatter) eventRows(evs []collector.Event) []templates.EventRow {
	rows := make([]templates.EventRow, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, f.eventRow(e))
	}
	return rows
}

// activity is the dashboard's recent activity for view v.
func (f formatter) activity(snap *collector.Snapshot, v view) templates.Activity {
	a := templates.Activity{
		Rows: f.eventRows(snap.Events(collector.EventFilter{Kind: collector.Kind(v.kind), Limit: activityRows})),
		Kind: v.kind,
	}
	a.Kinds = append(a.Kinds, templates.Option{Value: "", Label: "any", Selected: v.kind == ""})
	for _, k := range collector.Kinds() {
		a.Kinds = append(a.Kinds, templates.Option{Value: string(k), Label: string(k), Selected: v.kind == string(k)})
	}
	table := v
	table.kind = ""
	for key, vals := range table.query() {
		a.Keep = append(a.Keep, templates.Field{Name: key, Value: vals[0]})
	}
	slices.SortFunc(a.Keep, func(x, y templates.Field) int { return strings.Compare(x.Name, y.Name) })
	a.Clear = table.href()
	a.APIURL = templates.APIEventsPath
	if v.kind != "" {
		a.APIURL += "?kind=" + v.kind
	}
	return a
}

// notices are the snapshot's notices for the page's script.
func notices(snap *collector.Snapshot) templates.Notices {
	n := templates.Notices{Run: snap.NoticeRun, Items: make([]templates.Notice, 0, len(snap.Notices))}
	for _, x := range snap.Notices {
		item := templates.Notice{ID: x.ID, Serial: x.Serial, Kind: string(x.Kind), WorkspaceID: x.WorkspaceID, Title: x.Title, Body: x.Body}
		if x.WorkspaceID != "" {
			item.URL = templates.WorkspacePath(x.WorkspaceID)
		}
		n.Items = append(n.Items, item)
	}
	return n
}

// faviconURL is the icon with the title's count as a badge.
func faviconURL(snap *collector.Snapshot) string {
	n := snap.Attention()
	if n == 0 {
		return templates.StaticPath("favicon.svg")
	}
	return templates.FaviconPath(strconv.Itoa(min(n, maxBadge+1)))
}

// favicon is GET /favicon/{n}: the icon with a badge of n, 1 to 10 (shown
// "9+"). It tells nothing but the number in its own URL, so it needs no
// token, as the static icon does not.
func favicon(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 || n > maxBadge+1 || c.Param("n") != strconv.Itoa(n) {
		return echo.ErrNotFound
	}
	label := strconv.Itoa(n)
	if n > maxBadge {
		label = strconv.Itoa(maxBadge) + "+"
	}
	b, err := fragment(templates.FaviconSVG(label))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/svg+xml", b)
}

// currentNotices is GET /notices: the latest notices, as the pages carry
// them, for a hidden tab that closed its event stream.
func (s *Server) currentNotices(c echo.Context) error {
	return render(c, http.StatusOK, templates.NoticeList(notices(s.src.Snapshot()), false))
}

// memory fills r with what the journal says of w: how it went down, its
// unacknowledged death, its flapping, and its resource charts.
func (f formatter) memory(r *templates.Row, snap *collector.Snapshot, w *collector.Workspace) {
	if w.Down != nil {
		r.Down = true
		r.Summary = w.Down.Summary(f.now)
		r.LastTouched = f.stamp(w.Down.LastSeen)
		r.Lock = "—"
	}
	if w.Death != nil {
		r.Death = "hub died " + f.shortClock(w.Death.Time)
	}
	if w.Flapping {
		r.Flapping = fmt.Sprintf("hub died %d times in %d min", w.Deaths, int(collector.FlapWindow/time.Minute))
	}
	if series := snap.Series(w, sparkPoints); len(series) > 0 {
		r.CPUSpark = spark(series, cpuOf, percent, "CPU", templates.SparkWidth, templates.SparkHeight, f)
		r.RSSSpark = spark(series, rssOf, rssText, "Memory", templates.SparkWidth, templates.SparkHeight, f)
	}
}

func cpuOf(s collector.Sample) float64 { return s.CPUPercent }
func rssOf(s collector.Sample) float64 { return float64(s.RSS) }
func percent(v float64) string         { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }
func rssText(v float64) string         { return bytesIEC(uint64(v)) }

// spark draws series in a w by h box: time left to right, value from 0 at
// the bottom to its peak at the top. One sample draws nothing.
func spark(series []collector.Sample, value func(collector.Sample) float64, text func(float64) string, what string, w, h int, f formatter) templates.Spark {
	return plot(series, value, text, what, templates.ChartPlot{W: w, H: h}, f)
}

// plot draws series in the area p of a chart.
func plot(series []collector.Sample, value func(collector.Sample) float64, text func(float64) string, what string, p templates.ChartPlot, f formatter) templates.Spark {
	peak := 0.0
	for _, x := range series {
		peak = max(peak, value(x))
	}
	first, last := series[0].Time, series[len(series)-1].Time
	sp := templates.Spark{Label: fmt.Sprintf("%s since %s: peak %s, now %s", what, f.shortClock(first), text(peak), text(value(series[len(series)-1])))}
	if len(series) < 2 || !last.After(first) {
		sp.Label = fmt.Sprintf("%s: one sample so far, %s", what, text(value(series[0])))
		return sp
	}
	span := float64(last.Sub(first))
	var b strings.Builder
	for i, x := range series {
		px := float64(p.X) + float64(x.Time.Sub(first))/span*float64(p.W)
		py := float64(p.Y + p.H)
		if peak > 0 {
			// A line at the very edge would be half cut off.
			py -= value(x) / peak * (float64(p.H) - 1)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(px, 'f', 1, 64) + "," + strconv.FormatFloat(py-0.5, 'f', 1, 64))
	}
	sp.Points = b.String()
	return sp
}

// charts are a detail page's resource charts of w.
func (f formatter) charts(snap *collector.Snapshot, w *collector.Workspace) (cpu, rss templates.Chart) {
	series := snap.Series(w, chartPoints)
	cpu, rss = templates.Chart{Title: "CPU"}, templates.Chart{Title: "Memory (RSS)"}
	if len(series) == 0 {
		return cpu, rss
	}
	peak := func(value func(collector.Sample) float64) float64 {
		m := 0.0
		for _, x := range series {
			m = max(m, value(x))
		}
		return m
	}
	from, to := f.shortClock(series[0].Time), f.shortClock(series[len(series)-1].Time)
	cpu.Spark = plot(series, cpuOf, percent, "CPU", templates.DetailPlot, f)
	cpu.Max, cpu.From, cpu.To = percent(peak(cpuOf)), from, to
	rss.Spark = plot(series, rssOf, rssText, "Memory", templates.DetailPlot, f)
	rss.Max, rss.From, rss.To = rssText(peak(rssOf)), from, to
	return cpu, rss
}

// timeline is workspace id's events, newest first.
func (f formatter) timeline(snap *collector.Snapshot, id string) []templates.EventRow {
	return f.eventRows(snap.Events(collector.EventFilter{WorkspaceID: id, Limit: timelineRows}))
}

// forgottenModel is the page of a workspace known only from its events
// (newest first): its history, nothing live, nothing to act on.
func (f formatter) forgottenModel(snap *collector.Snapshot, id string, evs []collector.Event) templates.Detail {
	name, cwd := id, ""
	for _, e := range evs {
		if cwd == "" && e.Cwd != "" {
			cwd = e.Cwd
		}
		if name == id && e.Name != "" {
			name = e.Name
		}
	}
	row := templates.Row{ID: id, Name: name}
	if cwd != "" {
		row.Cwd = f.path(cwd)
	}
	return templates.Detail{
		Page:      f.page(snap, livePage{detailID: id}, title(snap, name)),
		Row:       row,
		Back:      templates.WorkspacePath(id),
		Forgotten: true,
		Remembers: true,
		Timeline:  f.eventRows(evs),
	}
}

// history returns the events of workspace id when the snapshot remembers
// any, for the page of a workspace no longer listed or down.
func history(snap *collector.Snapshot, id string) []collector.Event {
	if !snap.Remembers() || !idPattern.MatchString(id) {
		return nil
	}
	return snap.Events(collector.EventFilter{WorkspaceID: id, Limit: timelineRows})
}

// shownWorkspace is the workspace id as its page shows it: in the
// registry, or down.
func shownWorkspace(snap *collector.Snapshot, id string) *collector.Workspace {
	if w := findWorkspace(snap, id); w != nil {
		return w
	}
	if w, ok := snap.DownWorkspace(id); ok {
		return &w
	}
	return nil
}

// knownAction starts an action on the remembered workspace {id}. When the
// id is nil, the returned error is the finished response.
func (s *Server) knownAction(c echo.Context, name string) (*action, *string, error) {
	a, err := s.newAction(c, name)
	if err != nil {
		return nil, nil, err
	}
	id := c.Param("id")
	a.target = id
	if !idPattern.MatchString(id) {
		return a, nil, a.fail(collector.Refuse(collector.NotFound, "there is no workspace with id %q: reload the page", id))
	}
	return a, &id, nil
}

// forget is POST /workspaces/{id}/forget: a down workspace leaves the
// dashboard; its history stays.
func (s *Server) forget(c echo.Context) error {
	a, id, err := s.knownAction(c, "forget")
	if id == nil {
		return err
	}
	if k, ok := s.src.Snapshot().KnownWorkspace(*id); ok {
		a.target = k.Cwd
		if !a.confirmed() && !k.Present {
			return a.askConfirmation("forget", k.Name+" ("+k.Cwd+")", templates.ForgetEffect)
		}
	}
	k, err := s.act.Forget(*id)
	if err != nil {
		return a.fail(err)
	}
	return a.succeed(fmt.Sprintf("Forgot %s (%s); its history stays.", k.Name, k.Cwd), false)
}

// acknowledge is POST /workspaces/{id}/ack: the workspace's last hub death
// leaves the title's count; it stays in the history.
func (s *Server) acknowledge(c echo.Context) error {
	a, id, err := s.knownAction(c, "acknowledge")
	if id == nil {
		return err
	}
	k, err := s.act.Acknowledge(*id)
	if err != nil {
		return a.fail(err)
	}
	a.target = k.Cwd
	if k.Death == nil {
		return a.succeed(fmt.Sprintf("The hub of %s has no death to acknowledge.", k.Name), false)
	}
	return a.succeed(fmt.Sprintf("Acknowledged the death of the hub of %s (pid %d, %s).", k.Name, k.Death.PID, s.formatter().shortClock(k.Death.Time)), false)
}

// eventJSON is one event of /api/events, every field always present.
type eventJSON struct {
	Time        string `json:"time"`
	Kind        string `json:"kind"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	Cwd         string `json:"cwd"`
	PID         int    `json:"pid"`
	Detail      string `json:"detail"`
}

func eventOf(e collector.Event) eventJSON {
	return eventJSON{
		Time: e.Time.UTC().Format(time.RFC3339Nano), Kind: string(e.Kind), WorkspaceID: e.WorkspaceID,
		Name: e.Name, Cwd: e.Cwd, PID: e.PID, Detail: e.Detail,
	}
}

// eventFilter parses the query of /api/events; a bad value is refused,
// naming what is allowed.
func eventFilter(c echo.Context) (collector.EventFilter, error) {
	q := c.QueryParams()
	var f collector.EventFilter // Limit 0: the journal's default, 100
	bad := func(format string, args ...any) error {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(format, args...))
	}
	for key := range q {
		if !slices.Contains([]string{"workspace", "kind", "since", "limit"}, key) {
			return f, bad("unknown parameter %q: use workspace, kind, since and limit", key)
		}
	}
	if id := q.Get("workspace"); id != "" {
		if !idPattern.MatchString(id) {
			return f, bad("workspace=%q is not a workspace id: give its 16 lower-case hex characters, as /api/workspaces lists them", id)
		}
		f.WorkspaceID = id
	}
	if k := q.Get("kind"); k != "" {
		if !slices.Contains(collector.Kinds(), collector.Kind(k)) {
			var kinds []string
			for _, k := range collector.Kinds() {
				kinds = append(kinds, string(k))
			}
			return f, bad("kind=%q is not an event kind: use one of %s", k, strings.Join(kinds, ", "))
		}
		f.Kind = collector.Kind(k)
	}
	if since := q.Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return f, bad("since=%q is not an RFC 3339 time: give one like 2026-03-04T14:02:00Z", since)
		}
		f.Since = t
	}
	if limit := q.Get("limit"); limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > maxAPIEvents {
			return f, bad("limit=%q is not a number from 1 to %d", limit, maxAPIEvents)
		}
		f.Limit = n
	}
	return f, nil
}

// apiEvents is GET /api/events: the events boneyard remembers, newest
// first, in the boneyard.events v1 envelope.
func (s *Server) apiEvents(c echo.Context) error {
	f, err := eventFilter(c)
	if err != nil {
		return err
	}
	evs := s.src.Snapshot().Events(f)
	data := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		data = append(data, eventOf(e))
	}
	return writeJSON(c, struct {
		Schema schema      `json:"schema"`
		Data   []eventJSON `json:"data"`
	}{schema{Verb: "boneyard.events", Version: "v1"}, data})
}

// knownJSON is one workspace of /api/known.
type knownJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Cwd       string     `json:"cwd"`
	Status    string     `json:"status"`
	LastEvent *eventJSON `json:"last_event"`
}

// apiKnown is GET /api/known: every workspace boneyard remembers, with
// its status now (as in the registry, down, or gone), sorted by name, in
// the boneyard.known v1 envelope.
func (s *Server) apiKnown(c echo.Context) error {
	snap := s.src.Snapshot()
	if err := apiUnavailable(c, snap, false); err != nil {
		return err
	}
	known := snap.KnownWorkspaces()
	data := make([]knownJSON, 0, len(known))
	for _, k := range known {
		row := knownJSON{ID: k.ID, Name: k.Name, Cwd: k.Cwd, Status: k.Status}
		if k.LastEvent != nil {
			e := eventOf(*k.LastEvent)
			row.LastEvent = &e
		}
		data = append(data, row)
	}
	slices.SortStableFunc(data, func(a, b knownJSON) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return writeJSON(c, struct {
		Schema schema      `json:"schema"`
		Data   []knownJSON `json:"data"`
	}{schema{Verb: "boneyard.known", Version: "v1"}, data})
}
