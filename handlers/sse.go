package handlers

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
)

// stream is the state of one SSE client: what its page shows now.
type stream struct {
	s       *Server
	page    livePage
	dash    *dashFragments
	detail  *detailFragments
	logs    *logStream // the page's live log; nil for none
	logPage []byte     // a log page's title and banner as last sent
}

// update returns what changed since the client's last state (everything
// when full; nothing when nothing changed) and records the new state. A
// dashboard update is shared with other streams: callers must not modify
// it.
func (st *stream) update(snap *collector.Snapshot, full bool) ([]byte, error) {
	if st.page.log != nil && st.page.detailID == "" {
		return st.logPageUpdate(snap, full)
	}
	if st.page.detailID != "" {
		next, err := buildDetailFragments(snap, st.page.detailID, st.s.formatter())
		if err != nil {
			return nil, err
		}
		prev := st.detail
		st.detail = next
		if full || prev == nil {
			return next.html, nil
		}
		return next.diff(prev), nil
	}
	next, err := st.s.dashFragments(snap, st.page.view)
	if err != nil {
		return nil, err
	}
	prev := st.dash
	st.dash = next
	if full || prev == nil {
		return st.s.dashFull(snap, st.page.view)
	}
	// Streams of one view that saw the same snapshot get the same diff.
	key := diffKey{view: st.page.view.query().Encode(), from: prev.seq}
	return st.s.diffs.get(snap.Seq, key, func() ([]byte, error) { return next.diff(prev) })
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

// cappedRetry is how long a page over the stream cap waits before it asks
// again.
const cappedRetry = 30 * time.Second

// refuseStream answers a stream over the cap with one "capped" event that
// the page shows, and a long retry: it goes live once other pages close.
func (s *Server) refuseStream(c echo.Context) error {
	w := c.Response()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	msg := "Live updates are paused: boneyard already streams to " + strconv.Itoa(s.maxStreams) +
		" pages. Close some boneyard tabs; this page goes live again by itself within a minute."
	io.WriteString(w, "retry: "+strconv.Itoa(int(cappedRetry.Milliseconds()))+"\n\n")
	writeEvent(w, "capped", []byte(msg))
	s.log.Warn("sse: stream cap reached; a page was told to wait", "cap", s.maxStreams)
	return nil
}

// events is GET /events: one SSE stream per page, pushing the fragments that
// changed whenever the collector publishes a snapshot.
func (s *Server) events(c echo.Context) error {
	select {
	case <-s.closing:
		return echo.NewHTTPError(http.StatusServiceUnavailable, "boneyard is shutting down")
	default:
	}
	q := c.QueryParams()
	page, err := parseLivePage(q)
	if err != nil {
		return err
	}
	st := &stream{s: s, page: page}
	w := c.Response()
	if n := s.streams.Add(1); n > int64(s.maxStreams) {
		s.streams.Add(-1)
		return s.refuseStream(c)
	}
	defer s.streams.Add(-1)

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
	st.logs = s.openLogStream(page, snap, c.Request().Header.Get("Last-Event-ID"))
	defer st.logs.close()
	// The page was rendered from snapshot seq; when that is stale, send
	// everything so the page catches up.
	stale := q.Get("seq") != strconv.FormatUint(snap.Seq, 10)
	payload, err := st.update(snap, stale)
	if err != nil {
		s.log.Error("sse: render update", "err", err)
		return nil
	}
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
		case <-st.logs.ready():
			payload, id, rerr := st.logs.next()
			if rerr != nil {
				s.log.Error("sse: render log lines", "err", rerr)
				return nil
			}
			if len(payload) == 0 {
				continue
			}
			err = writeLogEvent(w, id, payload)
		case next, ok := <-updates:
			if !ok {
				return nil
			}
			st.logs.sync(next)
			payload, rerr := st.update(next, false)
			if rerr != nil {
				s.log.Error("sse: render update", "err", rerr)
				return nil
			}
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
