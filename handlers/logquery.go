package handlers

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"boneyard/internal/hublog"
)

// logView is a log page's filters and place, from its query string:
// /workspaces/ID/log?level=ERROR&q=panic, /logs?level=ERROR&since=1h.
type logView struct {
	level, event, q string
	regex           bool
	since           string   // as given: "1h", "7d" or an RFC 3339 time
	ws              string   // the merged view's one workspace; "" for all
	before          string   // where the older lines shown end; "" for the newest
	ignored         []string // values not understood, said on the page
	filter          *hublog.Filter
	err             error // the filter cannot be applied: nothing is searched
}

// sinces are the choices of the since filter.
var sinces = []struct{ value, label string }{
	{"", "any time"}, {"5m", "5 minutes"}, {"15m", "15 minutes"}, {"1h", "1 hour"},
	{"6h", "6 hours"}, {"24h", "24 hours"}, {"7d", "7 days"},
}

// eventPattern is an event name a filter accepts.
var eventPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,31}$`)

// maxBefore bounds the place of older lines in a URL (a merged one names
// a place per workspace).
const maxBefore = 32 << 10

// parseLogView reads a log view from q at now. A value not understood is
// ignored (a stale bookmark still opens) and said in v.ignored; an invalid
// regular expression is an error the page shows.
func parseLogView(q url.Values, now time.Time) logView {
	v := logView{regex: q.Get("regex") == "1" || q.Get("regex") == "on"}
	query := hublog.Query{Regex: v.regex}
	if lv := q.Get("level"); lv != "" {
		if norm, ok := hublog.ParseLevel(lv); ok {
			v.level, query.Level = norm, norm
		} else {
			v.ignored = append(v.ignored, "unknown level "+strconv.Quote(lv)+": showing every level")
		}
	}
	if ev := strings.ToLower(strings.TrimSpace(q.Get("event"))); ev != "" {
		if eventPattern.MatchString(ev) {
			v.event, query.Event = ev, ev
		} else {
			v.ignored = append(v.ignored, "unknown event "+strconv.Quote(ev)+": showing every event")
		}
	}
	if s := strings.TrimSpace(q.Get("since")); s != "" {
		if t, ok := parseSince(s, now); ok {
			v.since, query.Since = s, t
		} else {
			v.ignored = append(v.ignored, "unknown since "+strconv.Quote(s)+" (use 15m, 1h, 7d or an RFC 3339 time): showing any time")
		}
	}
	v.q = strings.TrimSpace(q.Get("q"))
	query.Text = v.q
	if ws := q.Get("ws"); ws != "" {
		if idPattern.MatchString(ws) {
			v.ws = ws
		} else {
			v.ignored = append(v.ignored, "unknown workspace "+strconv.Quote(ws)+": showing every workspace")
		}
	}
	if b := q.Get("before"); len(b) <= maxBefore {
		v.before = b
	}
	v.filter, v.err = query.Compile()
	return v
}

// parseSince reads a since filter: a duration back from now (Go's syntax,
// plus a number of days like 7d) of at most a year, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 366 {
			return time.Time{}, false
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 || d > 366*24*time.Hour {
			return time.Time{}, false
		}
	}
	return now.Add(-d), true
}

// query encodes the view's filters (not its place).
func (v logView) query() url.Values {
	q := url.Values{}
	for _, kv := range [][2]string{{"ws", v.ws}, {"level", v.level}, {"event", v.event}, {"since", v.since}, {"q", v.q}} {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	if v.regex {
		q.Set("regex", "1")
	}
	return q
}

// filtered reports a filter set, one the page offers to clear.
func (v logView) filtered() bool { return len(v.query()) > 0 }

// href is the view at base, starting before the place before ("" for the
// newest lines).
func (v logView) href(base, before string) string {
	q := v.query()
	if before != "" {
		q.Set("before", before)
	}
	if enc := q.Encode(); enc != "" {
		return base + "?" + enc
	}
	return base
}

// logLive is the live log a page shows: the newest lines of a workspace
// (its detail page or its log console) or of every hub, as filtered, from
// where the page's lines end.
type logLive struct {
	ws     string // the workspace; "" for the merged view
	detail bool   // the detail page's panel: every line, no filter
	view   logView
	follow bool   // new lines are sent (a page of older lines gets none)
	cursor string // hublog.Cursors: where the page's lines end; "" follows from now
}

// parseLogLive reads the live log of an event stream's query: ?id=ID&cursor=
// (a detail page), ?log=ID&… (a log console) or ?logs=all&… (the merged
// view); nil when the page shows none.
func parseLogLive(q url.Values, now time.Time) (*logLive, bool) {
	cursor, follow := q.Get("cursor"), q.Has("cursor")
	switch {
	case q.Get("logs") == "all":
		return &logLive{view: parseLogView(q, now), follow: follow, cursor: cursor}, true
	case q.Get("log") != "":
		id := q.Get("log")
		if !idPattern.MatchString(id) {
			return nil, false
		}
		return &logLive{ws: id, view: parseLogView(q, now), follow: follow, cursor: cursor}, true
	case q.Get("id") != "" && follow:
		return &logLive{ws: q.Get("id"), detail: true, follow: true, cursor: cursor}, true
	}
	return nil, true
}

// query names the live log in an event stream's URL.
func (l *logLive) query() url.Values {
	if l.detail {
		return url.Values{"id": {l.ws}, "cursor": {l.cursor}}
	}
	q := l.view.query()
	if l.ws != "" {
		q.Set("log", l.ws)
	} else {
		q.Set("logs", "all")
	}
	if l.follow {
		q.Set("cursor", l.cursor)
	}
	return q
}
