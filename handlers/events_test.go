package handlers

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boneyard/registry"
)

// live is a real HTTP server on 127.0.0.1:0 over the env's collector, with a
// short write timeout that streams must survive.
type live struct {
	base string
	hs   *http.Server
	srv  *Server
}

func (e *env) listen() *live {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	srv, err := New(e.config(ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		e.t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, WriteTimeout: 200 * time.Millisecond, ReadHeaderTimeout: time.Second}
	hs.RegisterOnShutdown(srv.CloseStreams)
	go hs.Serve(ln)
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
	})
	return &live{base: "http://" + ln.Addr().String(), hs: hs, srv: srv}
}

// sse is an open event stream; events carries each event's data (and each
// heartbeat comment as ":").
type sse struct {
	resp   *http.Response
	events chan string
	closed chan struct{}
}

func (l *live) stream(t testing.TB, query string) *sse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, l.base+"/events?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{resp: resp, events: make(chan string, 100), closed: make(chan struct{})}
	go func() {
		defer close(s.closed)
		readSSE(resp.Body, func(_, data string) { s.events <- data }, func() { s.events <- ":" })
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return s
}

// readSSE reads an event stream until it ends, calling event with each
// event's id (the last one set) and data, and comment for each comment.
func readSSE(body io.Reader, event func(id, data string), comment func()) {
	r := bufio.NewReader(body)
	var id string
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, ":"):
			comment()
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		case line == "" && data != nil:
			event(id, strings.Join(data, "\n"))
			data = nil
		}
	}
}

// next returns the first event (skipping heartbeats) in which every
// selector matches, failing after a bounded wait.
func (s *sse) next(t testing.TB, sels ...string) dom {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if ev == ":" {
				continue
			}
			d := parseDOM(t, ev)
			ok := true
			for _, sel := range sels {
				ok = ok && d.has(sel)
			}
			if ok {
				return d
			}
		case <-s.closed:
			t.Fatalf("stream closed while waiting for %q", sels)
		case <-deadline:
			t.Fatalf("no event with %q in time", sels)
		}
	}
}

func seqQuery(e *env) string { return "seq=" + strconv.FormatUint(e.col.Snapshot().Seq, 10) }

func TestEventsSendChangedFragments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	l := e.listen()
	keep := e.idle(e.workspace("keep"), "keep")
	e.refresh()
	// Sorted by name, rows keep their order when their status changes.
	s := l.stream(t, "sort=name&"+seqQuery(e))

	// A registry write reaches the stream through fsnotify: the new row is
	// sent with the table, and the counts.
	dir := e.workspace("added")
	id := e.idle(dir, "added")
	d := s.next(t, "section#ws-section[hx-swap-oob=true] tr#ws-"+id)
	d.one("ul#counts[hx-swap-oob=true]")

	// A status change sends the row, highlighted, and nothing else of the
	// table. Rows travel inside a template, which the HTML parser keeps.
	startHub(t, "serve", dir, true)
	d = s.next(t, "template tr#ws-"+id+"[data-status=running].changed[hx-swap-oob=true]")
	wantNone(t, d, "#ws-"+keep, "#ws-section")
	if err := os.Remove(filepath.Join(dir, ".bones", "agent.id")); err != nil {
		t.Fatal(err)
	}
	e.col.Trigger()
	d = s.next(t, "template tr#ws-"+id+"[data-status=orphan].changed")
	if got := titleOf(d); got != "(1) boneyard" {
		t.Errorf("title %q, want the orphan counted", got)
	}

	// Removing an entry deletes its row.
	if err := e.reg.Remove(e.home + "/src/keep"); err != nil {
		t.Fatal(err)
	}
	s.next(t, "template tr#ws-"+keep+"[hx-swap-oob=delete]")
}

func TestEventsCatchUpAndHeartbeat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	l := e.listen()
	id := e.idle(e.workspace("w"), "w")
	e.refresh()
	// A page rendered from an older snapshot gets everything at once.
	s := l.stream(t, "seq=0")
	s.next(t, "title", "section#ws-section tr#ws-"+id, "section#orphans", "div#health", "ul#counts")
	// Heartbeats keep coming past the server's 200 ms write timeout.
	time.Sleep(400 * time.Millisecond)
	beats := 0
	deadline := time.After(5 * time.Second)
	for beats < 2 {
		select {
		case ev := <-s.events:
			if ev == ":" {
				beats++
			}
		case <-s.closed:
			t.Fatal("the stream was cut (write timeout not cleared?)")
		case <-deadline:
			t.Fatal("no heartbeats")
		}
	}
}

func TestEventsRespectTheView(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	l := e.listen()
	e.refresh()
	s := l.stream(t, "status=running&"+seqQuery(e))
	dir := e.workspace("idle-one")
	id := e.idle(dir, "idle-one")
	d := s.next(t, "li[data-count=idle]")
	wantNone(t, d, "#ws-"+id)
	startHub(t, "serve", dir, true)
	s.next(t, "tr#ws-"+id+"[data-status=running]")
}

func TestEventsDetailStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	l := e.listen()
	dir := e.workspace("d")
	id := e.idle(dir, "d")
	e.refresh()
	s := l.stream(t, "id="+id+"&"+seqQuery(e))
	startHub(t, "serve", dir, true)
	s.next(t, "section#detail[hx-swap-oob=true] dd#detail-status[data-status=running]")
	if err := e.reg.Remove(dir); err != nil {
		t.Fatal(err)
	}
	d := s.next(t, "section#detail #gone")
	wantText(t, d.one("#gone"), "no longer in the registry")
	if got := titleOf(d); got != "(1) gone · boneyard" {
		t.Errorf("title %q", got)
	}
}

// TestTitleRoute checks the title a hidden tab polls: plain text, the same
// as the page it came from shows, problem count included.
func TestTitleRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	gone := e.workspace("gone")
	startHub(t, "serve", gone, true)
	// An orphan: the workspace marker is gone while the hub runs.
	if err := os.Remove(filepath.Join(gone, ".bones", "agent.id")); err != nil {
		t.Fatal(err)
	}
	id := registry.WorkspaceID(gone)
	e.refresh()
	tests := []struct{ name, page, want string }{
		{"dashboard", "/", "(1) boneyard"},
		{"filtered dashboard", "/?status=running", "(1) boneyard"},
		{"detail", "/workspaces/" + id, "(1) gone · boneyard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.page(tt.page, http.StatusOK)
			if got := titleOf(d); got != tt.want {
				t.Fatalf("%s has title %q, want %q", tt.page, got, tt.want)
			}
			w := e.get(val(d.one("body"), "data-title-url"))
			if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
				t.Fatalf("GET the title: %d %q", w.Code, w.Header().Get("Content-Type"))
			}
			if got := w.Body.String(); got != tt.want {
				t.Errorf("title %q, want %q", got, tt.want)
			}
			if n := e.srv.Streams(); n != 0 {
				t.Errorf("%d streams open after a title request", n)
			}
		})
	}
	if w := e.get("/title?id=nope"); w.Code != http.StatusNotFound {
		t.Errorf("the title of a bad id: %d, want 404", w.Code)
	}
	r := request(http.MethodGet, "/title", nil)
	r.Header.Del("Authorization")
	if w := e.serve(r); w.Code != http.StatusUnauthorized {
		t.Errorf("unauthenticated title request: %d", w.Code)
	}
}

func TestShutdownClosesStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	l := e.listen()
	e.refresh()
	var streams []*sse
	for range 5 {
		streams = append(streams, l.stream(t, seqQuery(e)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := l.hs.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := l.srv.WaitStreams(ctx); err != nil {
		t.Fatalf("streams still open: %v", err)
	}
	for i, s := range streams {
		select {
		case <-s.closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("stream %d still open after shutdown", i)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	// New streams are refused once closing.
	r := request(http.MethodGet, "/events", nil)
	r.Host = strings.TrimPrefix(l.base, "http://")
	w := httptest.NewRecorder()
	l.srv.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("a stream after shutdown: %d, want 503", w.Code)
	}
}

func TestWriteEventSplitsLines(t *testing.T) {
	t.Parallel()
	tests := []struct{ data, want string }{
		{"a\nb\r\nc\rd", "event: update\ndata: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"<p>one line</p>", "event: update\ndata: <p>one line</p>\n\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := writeEvent(&buf, "update", []byte(tt.data)); err != nil || buf.String() != tt.want {
			t.Errorf("writeEvent(%q) = %q, %v; want %q", tt.data, buf.String(), err, tt.want)
		}
	}
}

// TestStreamCap: past MaxStreams a page gets one "capped" event saying why
// it is not live, and a long retry; once a stream closes, a new one is live.
func TestStreamCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	e.refresh()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config(ln.Addr().(*net.TCPAddr).Port)
	cfg.MaxStreams = 2
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { srv.CloseStreams(); hs.Close() })
	l := &live{base: "http://" + ln.Addr().String(), hs: hs, srv: srv}

	first := l.stream(t, seqQuery(e))
	l.stream(t, seqQuery(e))
	get := func() string {
		req, _ := http.NewRequest(http.MethodGet, l.base+"/events?"+seqQuery(e), nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return string(b)
	}
	if got, want := get(), "retry: 30000\n\nevent: capped\ndata: Live updates are paused: boneyard already streams to 2 pages. Close some boneyard tabs; this page goes live again by itself within a minute.\n\n"; got != want {
		t.Fatalf("third stream got %q, want %q", got, want)
	}
	first.resp.Body.Close()
	<-first.closed
	deadline := time.Now().Add(5 * time.Second)
	for srv.streams.Load() > 1 {
		if time.Now().After(deadline) {
			t.Fatal("closed stream still counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.stream(t, seqQuery(e))
}
