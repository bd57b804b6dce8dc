package handlers

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"boneyard/internal/collector"
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
func byResource(f func(r *collector.Resources) float64) func(a, b *collector.Workspace) int {
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
	{"cpu", "CPU", byResource(func(r *collector.Resources) float64 { return r.CPUPercent })},
	{"rss", "RSS", byResource(func(r *collector.Resources) float64 { return float64(r.RSS) })},
	{"ports", "Ports", byResource(func(r *collector.Resources) float64 { return float64(len(r.Ports)) })},
	{"children", "Children", byResource(func(r *collector.Resources) float64 { return float64(r.Children) })},
	{"uptime", "Uptime", byResource(func(r *collector.Resources) float64 { return float64(r.Uptime) })},
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
	kind   string // the recent activity's kind, "" for all
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
	if k := q.Get("kind"); slices.Contains(collector.Kinds(), collector.Kind(k)) {
		v.kind = k
	} else if k != "" {
		v.ignored = append(v.ignored, "unknown event kind "+strconv.Quote(k)+": showing every kind")
	}
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
	if v.kind != "" {
		q.Set("kind", v.kind)
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
		return templates.DashboardPath + "?" + enc
	}
	return templates.DashboardPath
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
	m := templates.View{Q: v.q, Filtered: v.status != "" || v.q != "", Kind: v.kind}
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

// orphanMatches applies the view to a process-only orphan: it is an orphan,
// so any other status filter hides it, and q matches its cwd or command.
func (v view) orphanMatches(o *collector.Orphan) bool {
	if v.status != "" && v.status != string(collector.StatusOrphan) {
		return false
	}
	if v.q == "" {
		return true
	}
	q := strings.ToLower(v.q)
	return strings.Contains(strings.ToLower(o.Cwd), q) || strings.Contains(strings.ToLower(o.Cmd), q)
}
