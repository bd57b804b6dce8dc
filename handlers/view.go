package handlers

import (
	"cmp"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"boneyard/internal/collector"
	"boneyard/procscan"
	"boneyard/registry"
	"boneyard/web/templates"
)

// column is one sortable column of the workspaces table.
type column struct {
	key   string
	label string
	cmp   func(a, b *collector.Workspace) int
}

// byResource compares workspaces by one resource figure; workspaces without
// a live hub sort first.
func byResource(f func(r *procscan.Resources) float64) func(a, b *collector.Workspace) int {
	key := func(w *collector.Workspace) float64 {
		if w.Resources == nil {
			return -1
		}
		return f(w.Resources)
	}
	return func(a, b *collector.Workspace) int { return cmp.Compare(key(a), key(b)) }
}

var columns = []column{
	{"status", "Status", func(a, b *collector.Workspace) int { return cmp.Compare(a.Status.Rank(), b.Status.Rank()) }},
	{"name", "Name", func(a, b *collector.Workspace) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	}},
	{"cwd", "Directory", func(a, b *collector.Workspace) int { return strings.Compare(a.Cwd, b.Cwd) }},
	{"hub", "Hub URL", func(a, b *collector.Workspace) int { return strings.Compare(a.HubURL, b.HubURL) }},
	{"nats", "NATS URL", func(a, b *collector.Workspace) int { return strings.Compare(a.NATSURL, b.NATSURL) }},
	{"pid", "PID", func(a, b *collector.Workspace) int { return cmp.Compare(a.HubPID, b.HubPID) }},
	{"cpu", "CPU", byResource(func(r *procscan.Resources) float64 { return r.CPUPercent })},
	{"rss", "RSS", byResource(func(r *procscan.Resources) float64 { return float64(r.RSS) })},
	{"ports", "Ports", byResource(func(r *procscan.Resources) float64 { return float64(len(r.Ports)) })},
	{"children", "Children", byResource(func(r *procscan.Resources) float64 { return float64(r.Children) })},
	{"uptime", "Uptime", byResource(func(r *procscan.Resources) float64 { return float64(r.Uptime) })},
	{"agent", "Agent ID", func(a, b *collector.Workspace) int { return strings.Compare(a.AgentID, b.AgentID) }},
	{"touched", "Last touched", func(a, b *collector.Workspace) int { return a.LastTouched.Compare(b.LastTouched) }},
	{"lock", "Lock", func(a, b *collector.Workspace) int { return cmp.Compare(a.Lock.PID, b.Lock.PID) }},
}

func findColumn(key string) *column {
	for i := range columns {
		if columns[i].key == key {
			return &columns[i]
		}
	}
	return nil
}

// view is the dashboard's filter and sort state; the zero value shows
// everything, problems first.
type view struct {
	status string // "" or a collector.Status
	q      string
	sort   string // "" (problems first) or a column key
	desc   bool
	// ignored describes the query values that were not understood; it is
	// not part of the view's URL.
	ignored []string
}

const maxQuery = 200

// parseView reads a view from a query string. An unknown value is ignored
// so a stale bookmark still opens, and named in v.ignored so the page can
// say why it shows more than was asked for.
func parseView(q url.Values) view {
	var v view
	if st := q.Get("status"); slices.Contains(collector.Statuses(), collector.Status(st)) {
		v.status = st
	} else if st != "" {
		v.ignored = append(v.ignored, "unknown status "+strconv.Quote(st)+": showing all")
	}
	v.q = strings.TrimSpace(q.Get("q"))
	if len(v.q) > maxQuery {
		v.q = v.q[:maxQuery]
	}
	if s := q.Get("sort"); findColumn(s) != nil {
		v.sort = s
	} else if s != "" {
		v.ignored = append(v.ignored, "unknown sort "+strconv.Quote(s)+": showing problems first")
	}
	v.desc = q.Get("dir") == "desc"
	return v
}

// query encodes the view; the empty view encodes as "".
func (v view) query() url.Values {
	q := url.Values{}
	if v.status != "" {
		q.Set("status", v.status)
	}
	if v.q != "" {
		q.Set("q", v.q)
	}
	if v.sort != "" {
		q.Set("sort", v.sort)
	}
	if v.desc {
		q.Set("dir", "desc")
	}
	return q
}

// unfiltered is the view with its filters dropped and its sort kept.
func (v view) unfiltered() view {
	v.status, v.q = "", ""
	return v
}

// href is the dashboard URL of the view.
func (v view) href() string {
	if enc := v.query().Encode(); enc != "" {
		return "/?" + enc
	}
	return "/"
}

func (v view) matches(w *collector.Workspace) bool {
	if v.status != "" && string(w.Status) != v.status {
		return false
	}
	if v.q == "" {
		return true
	}
	q := strings.ToLower(v.q)
	return strings.Contains(strings.ToLower(w.Name), q) || strings.Contains(strings.ToLower(w.Cwd), q)
}

// apply filters and sorts the snapshot's workspaces; the snapshot's own
// order (problems first) breaks ties.
func (v view) apply(ws []collector.Workspace) []*collector.Workspace {
	out := make([]*collector.Workspace, 0, len(ws))
	for i := range ws {
		if v.matches(&ws[i]) {
			out = append(out, &ws[i])
		}
	}
	if col := findColumn(v.sort); col != nil {
		slices.SortStableFunc(out, func(a, b *collector.Workspace) int {
			if v.desc {
				return col.cmp(b, a)
			}
			return col.cmp(a, b)
		})
	} else if v.desc {
		slices.Reverse(out)
	}
	return out
}

func (v view) model() templates.View {
	m := templates.View{Q: v.q, Filtered: v.status != "" || v.q != ""}
	m.Statuses = append(m.Statuses, templates.Option{Value: "", Label: "any", Selected: v.status == ""})
	for _, st := range collector.Statuses() {
		m.Statuses = append(m.Statuses, templates.Option{Value: string(st), Label: string(st), Selected: v.status == string(st)})
	}
	m.Sorts = append(m.Sorts, templates.Option{Value: "", Label: "problems first", Selected: v.sort == ""})
	for _, c := range columns {
		m.Sorts = append(m.Sorts, templates.Option{Value: c.key, Label: strings.ToLower(c.label), Selected: v.sort == c.key})
	}
	m.Dirs = []templates.Option{
		{Value: "asc", Label: "ascending", Selected: !v.desc},
		{Value: "desc", Label: "descending", Selected: v.desc},
	}
	return m
}

// cells lays the columns out in the table, in order. Columns that share a
// cell are stacked in it, so the table fits a laptop screen; each keeps its
// own sort link in the header.
var cells = [][]string{
	{"status"}, {"name"}, {"cwd"}, {"hub", "nats"}, {"pid"},
	{"cpu"}, {"rss"}, {"ports"}, {"children"}, {"uptime"},
	{"agent", "touched", "lock"},
}

// headers are the table's header cells with a sort link per column: a click
// sorts by the column, a second click reverses.
func (v view) headers() []templates.Header {
	out := make([]templates.Header, 0, len(cells))
	for _, keys := range cells {
		h := templates.Header{Sort: "none"}
		for _, key := range keys {
			c := findColumn(key)
			next := v
			next.sort = c.key
			next.desc = v.sort == c.key && !v.desc
			sort := "none"
			if v.sort == c.key {
				sort = "ascending"
				if v.desc {
					sort = "descending"
				}
				h.Sort = sort
			}
			h.Columns = append(h.Columns, templates.Column{Label: c.label, Href: next.href(), Sort: sort})
		}
		out = append(out, h)
	}
	return out
}

// title is a page title with the problem count in front, so a background
// tab shows trouble: "(2) boneyard".
func title(snap *collector.Snapshot, page ...string) string {
	t := strings.Join(append(page, "boneyard"), " · ")
	if n := snap.Problems(); n > 0 {
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
			c.Detail = plural(n.Orphan, "workspace") + ", " + plural(n.ProcessOrphans, "process")
		}
		out = append(out, c)
	}
	return out
}

// plural is "1 process", "2 processes", "0 workspaces".
func plural(n int, noun string) string {
	if n != 1 {
		if strings.HasSuffix(noun, "s") {
			noun += "es"
		} else {
			noun += "s"
		}
	}
	return strconv.Itoa(n) + " " + noun
}

// formatter turns snapshot values into display strings at one instant.
type formatter struct {
	now     time.Time
	home    string
	created map[int]time.Time // live hub pid -> process start
}

func newFormatter(snap *collector.Snapshot) formatter {
	home, _ := os.UserHomeDir()
	f := formatter{now: time.Now(), home: home, created: make(map[int]time.Time, len(snap.Processes))}
	for _, p := range snap.Processes {
		f.created[p.PID] = p.CreateTime
	}
	return f
}

// maxPath is the longest path a table cell shows whole, in characters.
const maxPath = 60

func (f formatter) path(p string) templates.Path {
	short := p
	if f.home != "" && f.home != "/" {
		if p == f.home {
			short = "~"
		} else if rest, ok := strings.CutPrefix(p, f.home+string(filepath.Separator)); ok {
			short = "~" + string(filepath.Separator) + rest
		}
	}
	elided := elide(short, maxPath)
	return templates.Path{Short: elided, Full: p, Elided: elided != short}
}

// elide shortens a path longer than limit characters in the middle, keeping
// its first element and as many of its last elements as fit (at least the
// last one): "~/…/deep/dir/ws", "/srv/…/ws". The ends tell paths apart; the middle rarely
// does.
func elide(p string, limit int) string {
	if utf8.RuneCountInString(p) <= limit {
		return p
	}
	sep := string(filepath.Separator)
	root, rel := "", p
	if strings.HasPrefix(p, sep) {
		root, rel = sep, p[len(sep):]
	}
	parts := strings.Split(rel, sep)
	if len(parts) < 3 {
		return p
	}
	head := root + parts[0] + sep + "…"
	tail := parts[len(parts)-1]
	for i := len(parts) - 2; i > 0; i-- {
		longer := parts[i] + sep + tail
		if utf8.RuneCountInString(head+sep+longer) > limit {
			break
		}
		tail = longer
	}
	return head + sep + tail
}

func (f formatter) stamp(t time.Time) templates.Stamp {
	if t.IsZero() {
		return templates.Stamp{Rel: "never"}
	}
	return templates.Stamp{Rel: ago(f.now.Sub(t)), UTC: t.UTC().Format(time.RFC3339)}
}

// ago is a coarse relative time; minute granularity keeps live updates from
// resending rows every few seconds.
func ago(d time.Duration) string {
	if d < time.Minute {
		return "just now"
	}
	return duration(d) + " ago"
}

// duration renders d in its two largest units, e.g. "3m", "2h 5m", "4d 1h".
func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func lockText(w *collector.Workspace) string {
	switch {
	case !w.Lock.Held:
		return "free"
	case w.Lock.PID > 0:
		return "held by pid " + strconv.Itoa(w.Lock.PID)
	default:
		return "held (holder unknown)"
	}
}

// displayName never returns "", so every row's link has a name.
func displayName(w *collector.Workspace) string {
	if strings.TrimSpace(w.Name) != "" {
		return w.Name
	}
	if b := filepath.Base(w.Cwd); b != "." && b != string(filepath.Separator) {
		return b
	}
	return w.ID
}

func (f formatter) row(w *collector.Workspace) templates.Row {
	r := templates.Row{
		ID:           w.ID,
		Name:         displayName(w),
		Cwd:          f.path(w.Cwd),
		Status:       string(w.Status),
		OrphanReason: w.OrphanReason,
		HubURL:       w.HubURL,
		HubLink:      registry.IsLoopbackHTTP(w.HubURL),
		NATSURL:      w.NATSURL,
		PID:          w.HubPID,
		AgentID:      w.AgentID,
		LastTouched:  f.stamp(w.LastTouched),
		StartedAt:    f.stamp(w.StartedAt),
		Lock:         lockText(w),
		Uptime:       "—",
		CPU:          "—",
		RSS:          "—",
		Ports:        "—",
		Children:     "—",
	}
	if w.Status == collector.StatusStopped {
		r.Reason = f.stoppedReason(w)
	}
	live := w.Status == collector.StatusRunning || w.Status == collector.StatusStopped || w.Status == collector.StatusOrphan
	r.CanReap = w.HubPID > 1 && (live || w.Resources != nil)
	if ct, ok := f.created[w.HubPID]; ok && w.HubPID > 0 {
		r.CreateTime = ct.Format(time.RFC3339Nano)
	}
	if res := w.Resources; res != nil {
		r.Uptime = duration(res.Uptime)
		r.CPU = strconv.FormatFloat(res.CPUPercent, 'f', 1, 64) + "%"
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
	return r
}

// stoppedReason says why a workspace is stopped, as an orphan's reason
// does: its hub process is dead, or alive but not answering.
func (f formatter) stoppedReason(w *collector.Workspace) string {
	pid := strconv.Itoa(w.HubPID)
	if _, alive := f.created[w.HubPID]; !alive && w.Resources == nil {
		return "pid " + pid + " is dead"
	}
	if w.HubURL == "" {
		return "pid " + pid + " alive, no hub URL to ask"
	}
	return "pid " + pid + " alive, hub not answering at " + w.HubURL
}

// orphanMatches applies the view to a process-only orphan: it is an orphan,
// so any other status filter hides it, and q matches its cwd or command.
func (v view) orphanMatches(o *registry.OrphanHub) bool {
	if v.status != "" && v.status != string(collector.StatusOrphan) {
		return false
	}
	if v.q == "" {
		return true
	}
	q := strings.ToLower(v.q)
	return strings.Contains(strings.ToLower(o.Cwd), q) || strings.Contains(strings.ToLower(o.Cmd), q)
}

// orphans is the orphan section of a view: the orphans it matches, and how
// many it hides.
func (f formatter) orphans(snap *collector.Snapshot, v view) templates.Orphans {
	out := templates.Orphans{
		Rows:    make([]templates.OrphanRow, 0, len(snap.Orphans)),
		Unknown: snap.Seq == 0 || snap.ListErr != nil || snap.ScanErr != nil,
		Clear:   v.unfiltered().href(),
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
	switch {
	case snap.Seq == 0:
		return templates.Health{Collecting: true}
	case snap.ListErr != nil:
		return templates.Health{Error: snap.Err.Error(), Hint: "The workspace list is unknown, not empty. " +
			"Make sure " + f.path(registry.RegistryDir()).Short + " is a directory you can read and write; " +
			"boneyard retries on its own and this page updates when it succeeds."}
	case snap.Err != nil:
		return templates.Health{Error: snap.Err.Error(), Hint: "The rest of the page is current. " +
			"boneyard retries on its own; its log has the details."}
	}
	return templates.Health{}
}

// dashboardModel is everything GET / renders for one view of one snapshot.
func dashboardModel(snap *collector.Snapshot, v view, f formatter) templates.Dashboard {
	d := templates.Dashboard{
		Page: templates.Page{
			Title:     title(snap),
			EventsURL: eventsURL(v.query(), snap.Seq),
			Health:    f.health(snap),
		},
		Counts:     counts(snap),
		Headers:    v.headers(),
		Orphans:    f.orphans(snap, v),
		Collecting: snap.Seq == 0,
		Unlisted:   snap.Seq > 0 && snap.ListErr != nil,
		Empty:      snap.Seq > 0 && snap.ListErr == nil && len(snap.Workspaces) == 0,
		View:       v.model(),
		Back:       v.href(),
	}
	for _, w := range v.apply(snap.Workspaces) {
		d.Rows = append(d.Rows, f.row(w))
	}
	return d
}

// eventsURL is the SSE stream of a view, tagged with the snapshot the page
// was rendered from so the stream can tell whether the page is stale.
func eventsURL(q url.Values, seq uint64) string {
	q.Set("seq", strconv.FormatUint(seq, 10))
	return "/events?" + q.Encode()
}

// findWorkspace is snap.Workspace as a pointer, nil when absent.
func findWorkspace(snap *collector.Snapshot, id string) *collector.Workspace {
	w, ok := snap.Workspace(id)
	if !ok {
		return nil
	}
	return &w
}
