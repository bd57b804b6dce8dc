package handlers

import (
	"bytes"
	"io"
	"sync"
	"time"

	"boneyard/internal/collector"
	"boneyard/internal/hublog"
	"boneyard/web/templates"
)

// New log lines reach a page over its one event stream: the stream of a
// page with a live log follows the page's workspace (or every hub) from
// where the page's lines end, and sends what the filter keeps as an
// update that appends to #log-lines. Each such event carries the stream's
// position as its SSE id, so a stream the browser reopens (Last-Event-ID,
// or the cursor the page's script passes when a hidden tab comes back)
// goes on without losing or repeating a line.

// logPace is the least time between two reads of a stream's logs: lines
// that come in a burst go out together.
const logPace = 50 * time.Millisecond

// maxEventID bounds the SSE id of a log update: the browser sends it back
// as a request header on reconnecting, and headers are capped. A longer
// position is not sent, so a reconnect goes on from that moment.
const maxEventID = 4 << 10

// logWatch is the server's one hub log watcher, started with the first
// live log and closed with the streams.
type logWatch struct {
	mu     sync.Mutex
	w      *hublog.Watcher
	closed bool
}

func (lw *logWatch) get(s *Server) *hublog.Watcher {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.w == nil && !lw.closed {
		lw.w = hublog.NewWatcher(s.log, 0)
	}
	return lw.w
}

func (lw *logWatch) close() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.closed = true
	if lw.w != nil {
		lw.w.Close()
	}
}

// logStream is the live log of one event stream.
type logStream struct {
	s       *Server
	live    *logLive
	feed    *hublog.Feed
	from    hublog.Cursors // where the page's lines end, for sources not followed yet
	sources map[string]*templates.LogSource
	last    time.Time // the last read
}

// openLogStream starts following the live log of page p, from the position
// lastEventID names when the browser sends one, else from the page's; nil
// when the page shows no live log.
func (s *Server) openLogStream(p livePage, snap *collector.Snapshot, lastEventID string) *logStream {
	l := p.log
	if l == nil || !l.follow || (!l.detail && l.view.err != nil) {
		return nil
	}
	w := s.logWatch.get(s)
	if w == nil {
		return nil
	}
	from, err := hublog.ParseCursors(l.cursor)
	if id, ierr := hublog.ParseCursors(lastEventID); lastEventID != "" && ierr == nil {
		from, err = id, nil
	}
	if err != nil {
		s.log.Debug("sse: log position not understood; following from now", "err", err)
	}
	var filter *hublog.Filter
	if !l.detail {
		filter = l.view.filter
	}
	ls := &logStream{s: s, live: l, feed: w.NewFeed(filter), from: from, sources: map[string]*templates.LogSource{}}
	ls.sync(snap)
	return ls
}

// sync follows the workspaces of snap the stream shows and drops those
// gone from the merged view. A workspace new to the merged view is
// followed from now.
func (ls *logStream) sync(snap *collector.Snapshot) {
	if ls == nil {
		return
	}
	want := map[string]bool{}
	for i := range snap.Workspaces {
		w := &snap.Workspaces[i]
		if ls.live.ws != "" && w.ID != ls.live.ws || ls.live.ws == "" && ls.live.view.ws != "" && w.ID != ls.live.view.ws {
			continue
		}
		want[w.ID] = true
		if ls.live.ws == "" {
			ls.sources[w.ID] = logSource(w)
		}
		if err := ls.feed.Follow(w.ID, logDir(w), ls.from[w.ID]); err != nil {
			ls.s.log.Debug("sse: follow a hub log", "workspace", w.ID, "err", err)
		}
	}
	if ls.live.ws != "" || !snap.Listed() {
		// One workspace's page keeps its log while the registry blinks.
		return
	}
	for _, key := range ls.feed.Keys() {
		if !want[key] {
			ls.feed.Drop(key)
			delete(ls.sources, key)
		}
	}
}

// ready is signalled when a followed log may have new lines; nil (never
// ready) without a live log.
func (ls *logStream) ready() <-chan struct{} {
	if ls == nil {
		return nil
	}
	return ls.feed.Ready()
}

// next reads the new lines, at most one read every logPace, and returns
// them rendered for appending with the stream's position; nothing when no
// line is new or kept.
func (ls *logStream) next() (payload []byte, id string, err error) {
	if wait := logPace - time.Since(ls.last); wait > 0 {
		time.Sleep(wait)
	}
	fb := ls.feed.Read(0)
	ls.last = time.Now()
	for key, err := range fb.Failed {
		ls.s.log.Debug("sse: read a hub log", "workspace", key, "err", err)
	}
	f := ls.s.formatter()
	var lines []templates.LogLine
	for _, key := range ls.feed.Keys() {
		if n := fb.Skipped[key]; n > 0 {
			lines = append(lines, gapLine(n, ls.sources[key]))
		}
	}
	for _, e := range fb.Lines {
		lines = append(lines, f.logLine(e.Entry, ls.sources[e.Key]))
	}
	if len(lines) == 0 {
		return nil, "", nil
	}
	payload, err = fragment(templates.LogAppend(lines))
	if id = ls.feed.Cursors().String(); len(id) > maxEventID {
		id = ""
	}
	return payload, id, err
}

func (ls *logStream) close() {
	if ls != nil {
		ls.feed.Close()
	}
}

// writeLogEvent writes a log update with its SSE id, which the browser
// keeps for reconnecting; an empty id resets it.
func writeLogEvent(w io.Writer, id string, data []byte) error {
	if _, err := io.WriteString(w, "id: "+id+"\n"); err != nil {
		return err
	}
	return writeEvent(w, "update", data)
}

// logPageUpdate is what changed on a log page since the stream's last
// update: its title and health banner (its lines come from the feed).
func (st *stream) logPageUpdate(snap *collector.Snapshot, full bool) ([]byte, error) {
	html, err := fragment(templates.Title(logTitle(snap, st.page.log)), templates.HealthBanner(st.s.formatter().health(snap), true))
	if err != nil {
		return nil, err
	}
	if !full && bytes.Equal(html, st.logPage) {
		return nil, nil
	}
	st.logPage = html
	return html, nil
}
