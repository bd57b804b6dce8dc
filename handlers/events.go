package handlers

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"boneyard/collector"
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
	model   templates.Dashboard
	title   string
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
		model:   d,
		title:   d.Title,
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

// writeDiff writes only what changed from prev to fr: the title, counts and
// orphan section when they differ; changed rows, highlighted when their
// status changed; deleted rows; or the whole table when rows were added or
// reordered.
func (fr *dashFragments) writeDiff(buf *bytes.Buffer, prev *dashFragments) {
	if fr.title != prev.title {
		writeTitle(buf, fr.title)
	}
	if !bytes.Equal(fr.counts, prev.counts) {
		buf.Write(fr.counts)
	}
	if !bytes.Equal(fr.orphans, prev.orphans) {
		buf.Write(fr.orphans)
	}
	sameSet := slices.Equal(fr.ids, prev.ids)
	onlyRemoved := !sameSet && len(fr.ids) > 0 && isSubsequence(fr.ids, prev.ids) && fr.model.Empty == prev.model.Empty
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
	section []byte // nil when the workspace is gone
}

func (s *Server) detailFragments(snap *collector.Snapshot, id string) *detailFragments {
	w := findWorkspace(snap, id)
	if w == nil {
		return &detailFragments{title: "gone · " + title(snap)}
	}
	d := detailModel(snap, w, newFormatter(snap))
	return &detailFragments{title: d.Title, section: renderBytes(templates.DetailSection(d, true))}
}

func (fr *detailFragments) writeFull(buf *bytes.Buffer) {
	writeTitle(buf, fr.title)
	if fr.section == nil {
		buf.Write(renderBytes(templates.FlashBox(&templates.Flash{Error: true,
			Message: "This workspace is no longer in the registry: there is no workspace with this id."}, true)))
		return
	}
	buf.Write(fr.section)
}

func (fr *detailFragments) writeDiff(buf *bytes.Buffer, prev *detailFragments) {
	if fr.title != prev.title || !bytes.Equal(fr.section, prev.section) {
		fr.writeFull(buf)
	}
}

// fragmentCache shares the fragments of the latest snapshot between streams
// that show the same view.
type fragmentCache struct {
	mu    sync.Mutex
	seq   uint64
	views map[string]*dashFragments
}

// maxCachedViews bounds the cache; more distinct views are rendered per
// stream.
const maxCachedViews = 64

func (s *Server) dashFragments(snap *collector.Snapshot, v view) *dashFragments {
	key := v.query().Encode()
	c := &s.frags
	c.mu.Lock()
	if c.views == nil || c.seq != snap.Seq {
		c.seq, c.views = snap.Seq, map[string]*dashFragments{}
	}
	fr, ok := c.views[key]
	c.mu.Unlock()
	if ok {
		return fr
	}
	fr = buildDashFragments(snap, v)
	c.mu.Lock()
	if c.seq == snap.Seq && len(c.views) < maxCachedViews {
		c.views[key] = fr
	}
	c.mu.Unlock()
	return fr
}

// stream is the state of one SSE client: what its page shows now.
type stream struct {
	s        *Server
	detailID string
	view     view
	dash     *dashFragments
	detail   *detailFragments
}

// update writes what changed since the client's last state (everything when
// full) and records the new state.
func (st *stream) update(buf *bytes.Buffer, snap *collector.Snapshot, full bool) {
	if st.detailID != "" {
		next := st.s.detailFragments(snap, st.detailID)
		if full || st.detail == nil {
			next.writeFull(buf)
		} else {
			next.writeDiff(buf, st.detail)
		}
		st.detail = next
		return
	}
	next := st.s.dashFragments(snap, st.view)
	if full || st.dash == nil {
		next.writeFull(buf)
	} else {
		next.writeDiff(buf, st.dash)
	}
	st.dash = next
}

// writeEvent writes one SSE event; every line of data gets its own "data:"
// field, as the format requires.
func writeEvent(w *bytes.Buffer, name string, data []byte) {
	w.WriteString("event: " + name + "\n")
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(string(data))
	for line := range strings.SplitSeq(text, "\n") {
		w.WriteString("data: " + line + "\n")
	}
	w.WriteString("\n")
}

// events is GET /events: one SSE stream per page, pushing the fragments that
// changed whenever the collector publishes a snapshot.
func (s *Server) events(c echo.Context) error {
	select {
	case <-s.closing:
		return echo.NewHTTPError(http.StatusServiceUnavailable, "boneyard is shutting down")
	default:
	}
	s.streams.Add(1)
	defer s.streams.Done()

	q := c.QueryParams()
	st := &stream{s: s, view: parseView(q)}
	if id := q.Get("id"); id != "" {
		if !idPattern.MatchString(id) {
			return echo.NewHTTPError(http.StatusNotFound, "no workspace with id "+strconv.Quote(id))
		}
		st.detailID = id
	}

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
	var buf bytes.Buffer
	var payload bytes.Buffer
	// The page was rendered from snapshot seq; when that is stale, send
	// everything so the page catches up.
	stale := q.Get("seq") != strconv.FormatUint(snap.Seq, 10)
	st.update(&payload, snap, stale)
	if !stale {
		payload.Reset()
	}
	buf.WriteString("retry: 2000\n\n")
	if payload.Len() > 0 {
		writeEvent(&buf, "update", payload.Bytes())
	}
	if err := flushEvent(w, rc, &buf); err != nil {
		return nil
	}

	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	ctx := c.Request().Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.closing:
			return nil
		case <-heartbeat.C:
			buf.WriteString(": heartbeat\n\n")
		case next, ok := <-updates:
			if !ok {
				return nil
			}
			payload.Reset()
			st.update(&payload, next, false)
			if payload.Len() == 0 {
				continue
			}
			writeEvent(&buf, "update", payload.Bytes())
		}
		if err := flushEvent(w, rc, &buf); err != nil {
			return nil
		}
	}
}

func flushEvent(w http.ResponseWriter, rc *http.ResponseController, buf *bytes.Buffer) error {
	_, err := w.Write(buf.Bytes())
	buf.Reset()
	if err != nil {
		return err
	}
	return rc.Flush()
}
