package handlers

import (
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

// renderBytes renders a component that cannot fail on an in-memory buffer.
func renderBytes(comp templ.Component) []byte {
	var buf bytes.Buffer
	if err := comp.Render(context.Background(), &buf); err != nil {
		// Components only write to the buffer; an error here is a bug.
		panic("render fragment: " + err.Error())
	}
	return buf.Bytes()
}

// rowFragment is one rendered table row (as an out-of-band swap).
type rowFragment struct {
	status string
	html   []byte
}

// dashFragments are the parts of one dashboard view of one snapshot that
// live updates swap, each rendered once and shared by every stream showing
// that view.
type dashFragments struct {
	seq     uint64
	model   templates.Dashboard
	title   string
	health  []byte
	counts  []byte
	orphans []byte
	ids     []string
	rows    map[string]rowFragment

	sectionOnce sync.Once
	section     []byte
}

func buildDashFragments(snap *collector.Snapshot, v view) *dashFragments {
	d := dashboardModel(snap, v, newFormatter(snap))
	fr := &dashFragments{
		seq:     snap.Seq,
		model:   d,
		title:   d.Title,
		health:  renderBytes(templates.HealthBanner(d.Health, true)),
		counts:  renderBytes(templates.Counts(d.Counts, true)),
		orphans: renderBytes(templates.OrphanSection(d.Orphans, d.Back, true)),
		rows:    make(map[string]rowFragment, len(d.Rows)),
	}
	for _, r := range d.Rows {
		fr.ids = append(fr.ids, r.ID)
		fr.rows[r.ID] = rowFragment{status: r.Status, html: renderBytes(templates.WorkspaceRow(r, d.Back, true))}
	}
	return fr
}

func (fr *dashFragments) sectionHTML() []byte {
	fr.sectionOnce.Do(func() { fr.section = renderBytes(templates.WorkspaceSection(fr.model, true)) })
	return fr.section
}

func writeTitle(buf *bytes.Buffer, title string) {
	buf.WriteString("<title>" + html.EscapeString(title) + "</title>")
}

// writeFull writes every live fragment of the view.
func (fr *dashFragments) writeFull(buf *bytes.Buffer) {
	writeTitle(buf, fr.title)
	buf.Write(fr.health)
	buf.Write(fr.counts)
	buf.Write(fr.sectionHTML())
	buf.Write(fr.orphans)
}

// writeRow writes one row as an out-of-band swap; table rows travel inside a
// template so the HTML parser keeps them.
func writeRow(buf *bytes.Buffer, row []byte) {
	buf.WriteString("<template>")
	buf.Write(row)
	buf.WriteString("</template>")
}

// sectionState tells which of its forms the workspace section takes: rows
// (or "no match"), the empty state, collecting or unlisted.
func (fr *dashFragments) sectionState() [3]bool {
	return [3]bool{fr.model.Empty, fr.model.Collecting, fr.model.Unlisted}
}

// writeDiff writes only what changed from prev to fr: the title, health
// banner, counts and orphan section when they differ; changed rows,
// highlighted when their status changed; deleted rows; or the whole section
// when rows were added or reordered or it changed form.
func (fr *dashFragments) writeDiff(buf *bytes.Buffer, prev *dashFragments) {
	if fr.title != prev.title {
		writeTitle(buf, fr.title)
	}
	if !bytes.Equal(fr.health, prev.health) {
		buf.Write(fr.health)
	}
	if !bytes.Equal(fr.counts, prev.counts) {
		buf.Write(fr.counts)
	}
	if !bytes.Equal(fr.orphans, prev.orphans) {
		buf.Write(fr.orphans)
	}
	sameForm := fr.sectionState() == prev.sectionState()
	sameSet := slices.Equal(fr.ids, prev.ids) && sameForm
	onlyRemoved := !sameSet && sameForm && len(fr.ids) > 0 && isSubsequence(fr.ids, prev.ids)
	if !sameSet && !onlyRemoved {
		buf.Write(fr.sectionHTML())
	}
	if onlyRemoved {
		for _, id := range prev.ids {
			if _, ok := fr.rows[id]; !ok {
				writeRow(buf, []byte(`<tr id="ws-`+id+`" hx-swap-oob="delete"></tr>`))
			}
		}
	}
	for i, id := range fr.ids {
		old, had := prev.rows[id]
		cur := fr.rows[id]
		switch {
		case had && old.status != cur.status:
			r := fr.model.Rows[i]
			r.Changed = true
			writeRow(buf, renderBytes(templates.WorkspaceRow(r, fr.model.Back, true)))
		case (sameSet || onlyRemoved) && had && !bytes.Equal(old.html, cur.html):
			writeRow(buf, cur.html)
		}
	}
}

// isSubsequence reports whether sub is seq with some elements left out.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}

// detailFragments are the live parts of one workspace's page.
type detailFragments struct {
	title   string
	health  []byte
	section []byte
}

func (s *Server) detailFragments(snap *collector.Snapshot, id string) *detailFragments {
	f := newFormatter(snap)
	health := renderBytes(templates.HealthBanner(f.health(snap), true))
	w := findWorkspace(snap, id)
	if w == nil {
		// Without a listing, absence proves nothing: keep the page as it is.
		if !listed(snap) {
			return &detailFragments{title: title(snap), health: health, section: []byte{}}
		}
		gone := templates.Detail{Gone: true, Row: templates.Row{ID: id}}
		return &detailFragments{title: title(snap, "gone"), health: health, section: renderBytes(templates.DetailSection(gone, true))}
	}
	d := detailModel(snap, w, f)
	return &detailFragments{title: d.Title, health: health, section: renderBytes(templates.DetailSection(d, true))}
}

func (fr *detailFragments) writeFull(buf *bytes.Buffer) {
	writeTitle(buf, fr.title)
	buf.Write(fr.health)
	buf.Write(fr.section)
}

func (fr *detailFragments) writeDiff(buf *bytes.Buffer, prev *detailFragments) {
	if fr.title != prev.title || !bytes.Equal(fr.health, prev.health) || !bytes.Equal(fr.section, prev.section) {
		fr.writeFull(buf)
	}
}

// snapCache shares what is rendered from the latest snapshot (fragments,
// pages, full updates) between requests and streams showing the same view.
// A newer snapshot empties it.
type snapCache struct {
	mu    sync.Mutex
	seq   uint64
	items map[string]*cacheItem
}

type cacheItem struct {
	once sync.Once
	val  any
}

// maxCached bounds the cache; further distinct views are rendered per use.
const maxCached = 128

// get returns the value cached for key at seq, building it once.
func (c *snapCache) get(seq uint64, key string, build func() any) any {
	c.mu.Lock()
	if seq > c.seq || c.items == nil {
		c.seq, c.items = seq, map[string]*cacheItem{}
	}
	it := c.items[key]
	if it == nil && (seq != c.seq || len(c.items) >= maxCached) {
		c.mu.Unlock()
		return build()
	}
	if it == nil {
		it = &cacheItem{}
		c.items[key] = it
	}
	c.mu.Unlock()
	it.once.Do(func() { it.val = build() })
	return it.val
}

func (s *Server) dashFragments(snap *collector.Snapshot, v view) *dashFragments {
	return s.cache.get(snap.Seq, "frags?"+v.query().Encode(), func() any { return buildDashFragments(snap, v) }).(*dashFragments)
}

// dashFull is every live fragment of a view, for streams that catch up.
func (s *Server) dashFull(snap *collector.Snapshot, v view) []byte {
	return s.cache.get(snap.Seq, "full?"+v.query().Encode(), func() any {
		var buf bytes.Buffer
		s.dashFragments(snap, v).writeFull(&buf)
		return buf.Bytes()
	}).([]byte)
}

// stream is the state of one SSE client: what its page shows now.
type stream struct {
	s        *Server
	detailID string
	view     view
	dash     *dashFragments
	detail   *detailFragments
}

// update returns what changed since the client's last state (everything
// when full; nil when nothing changed) and records the new state. A full
// dashboard update is shared with other streams: callers must not modify it.
func (st *stream) update(snap *collector.Snapshot, full bool) []byte {
	var buf bytes.Buffer
	if st.detailID != "" {
		next := st.s.detailFragments(snap, st.detailID)
		if full || st.detail == nil {
			next.writeFull(&buf)
		} else {
			next.writeDiff(&buf, st.detail)
		}
		st.detail = next
		return buf.Bytes()
	}
	next := st.s.dashFragments(snap, st.view)
	prev := st.dash
	st.dash = next
	if full || prev == nil {
		return st.s.dashFull(snap, st.view)
	}
	// Streams of one view that saw the same snapshot get the same diff.
	key := "diff?" + st.view.query().Encode() + "&from=" + strconv.FormatUint(prev.seq, 10)
	return st.s.cache.get(snap.Seq, key, func() any {
		next.writeDiff(&buf, prev)
		return buf.Bytes()
	}).([]byte)
}

// writeEvent writes one SSE event; every line of data gets its own "data:"
// field, as the format requires. Rendered fragments rarely hold a line
// break, so the common case copies nothing.
func writeEvent(w io.Writer, name string, data []byte) error {
	if bytes.IndexAny(data, "\r\n") < 0 {
		if _, err := io.WriteString(w, "event: "+name+"\ndata: "); err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n\n")
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("event: " + name + "\n")
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(data))
	for line := range strings.SplitSeq(text, "\n") {
		buf.WriteString("data: " + line + "\n")
	}
	buf.WriteString("\n")
	_, err := w.Write(buf.Bytes())
	return err
}

// title is the page title the stream's page shows for snap.
func (st *stream) title(snap *collector.Snapshot) string {
	if st.detailID != "" {
		return st.s.detailFragments(snap, st.detailID).title
	}
	return st.s.dashFragments(snap, st.view).title
}

// events is GET /events: one SSE stream per page, pushing the fragments that
// changed whenever the collector publishes a snapshot. With title=1 it
// answers the page's current title once, as plain text: a hidden tab closes
// its stream, so that the browser's few connections per host stay free for
// other tabs, and polls this to keep its problem count fresh.
func (s *Server) events(c echo.Context) error {
	select {
	case <-s.closing:
		return echo.NewHTTPError(http.StatusServiceUnavailable, "boneyard is shutting down")
	default:
	}

	q := c.QueryParams()
	st := &stream{s: s, view: parseView(q)}
	if id := q.Get("id"); id != "" {
		if !idPattern.MatchString(id) {
			return echo.NewHTTPError(http.StatusNotFound, "no workspace with id "+strconv.Quote(id))
		}
		st.detailID = id
	}
	if q.Get("title") == "1" {
		return c.String(http.StatusOK, st.title(s.src.Snapshot()))
	}
	s.streams.Add(1)
	defer s.streams.Add(-1)

	w := c.Response()
	rc := http.NewResponseController(w)
	// A stream lives for hours: the server's write timeout must not cut it.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		s.log.Debug("sse: clear write deadline", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	updates, cancel := s.src.Subscribe()
	defer cancel()
	snap := s.src.Snapshot()
	// The page was rendered from snapshot seq; when that is stale, send
	// everything so the page catches up.
	stale := q.Get("seq") != strconv.FormatUint(snap.Seq, 10)
	payload := st.update(snap, stale)
	if _, err := io.WriteString(w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	if stale && len(payload) > 0 {
		if err := writeEvent(w, "update", payload); err != nil {
			return nil
		}
	}
	if rc.Flush() != nil {
		return nil
	}

	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	ctx := c.Request().Context()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-s.closing:
			return nil
		case <-heartbeat.C:
			_, err = io.WriteString(w, ": heartbeat\n\n")
		case next, ok := <-updates:
			if !ok {
				return nil
			}
			payload := st.update(next, false)
			if len(payload) == 0 {
				continue
			}
			err = writeEvent(w, "update", payload)
		}
		if err != nil || rc.Flush() != nil {
			return nil
		}
	}
}
