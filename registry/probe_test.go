package registry

import (
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

func TestIsAlive(t *testing.T) {
	t.Parallel()
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(ok.Close)
	redirect := httptest.NewServer(http.RedirectHandler("http://10.255.255.1/", http.StatusFound))
	t.Cleanup(redirect.Close)
	hung := hungListeners(t, 1)
	live, dead := os.Getpid(), deadPID(t)

	done, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name string
		pid  int
		url  string
		want bool
		ctx  context.Context // nil: IsAlive
	}{
		{"404 counts as an answer", live, notFound.URL, true, nil},
		{"answering hub, live context", live, ok.URL, true, context.Background()},
		{"answering hub, context done", live, ok.URL, false, done},
		{"200", live, ok.URL, true, nil},
		{"redirect answer, not followed", live, redirect.URL, true, nil},
		{"localhost", live, "http://localhost:" + port(notFound.URL), true, nil},
		{"dead pid", dead, notFound.URL, false, nil},
		{"pid 0", 0, notFound.URL, false, nil},
		{"nothing listening", live, hubtest.ClosedURL(t), false, nil},
		{"listener never answers", live, hung.urls[0], false, nil},
		{"empty url", live, "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entry{Cwd: "/w", HubPID: tt.pid, HubURL: tt.url}
			if tt.ctx != nil {
				if got := IsAliveContext(tt.ctx, e); got != tt.want {
					t.Errorf("IsAliveContext = %v, want %v", got, tt.want)
				}
				return
			}
			if got := IsAlive(e); got != tt.want {
				t.Errorf("IsAlive = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestProbeNeverContactsNonLoopback proves that a hub_url that is not http(s)
// on loopback is never dialled: the probe client's dial counter stays put,
// while a loopback URL moves it (so the counter does count). The counter is
// the whole process's, so the test does not run in parallel with others.
func TestProbeNeverContactsNonLoopback(t *testing.T) {
	r, home := testRegistry(t)
	live := os.Getpid()
	urls := []string{
		"http://10.255.255.1/",
		"http://10.255.255.1:8080/",
		"https://8.8.8.8/",
		"http://[2001:db8::1]:80/",
		"http://example.com/",
		"http://127.0.0.1.nip.io/",
		"http://localhost.example.com/",
		"http://user:pw@127.0.0.1/",
		"ftp://127.0.0.1/",
		"file:///etc/passwd",
		"nats://127.0.0.1:4222",
		"127.0.0.1:80",
		"http://%zz/",
	}
	before := probeDials.Load()
	for i, u := range urls {
		if IsAlive(Entry{Cwd: "/w", HubPID: live, HubURL: u}) {
			t.Errorf("IsAlive(%q) = true", u)
		}
		cwd := hubtest.Workspace(t, home, "ws"+itoa(i), true)
		mustWrite(t, r, Entry{Cwd: cwd, Name: u, HubPID: live, HubURL: u})
	}
	infos, err := r.ListInfo()
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if info.HubStatus != HubUnknown {
			t.Errorf("%q: status %s, want unknown", info.HubURL, info.HubStatus)
		}
	}
	if n := probeDials.Load() - before; n != 0 {
		t.Fatalf("%d connection attempts to non-loopback URLs", n)
	}

	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	if !IsAlive(Entry{Cwd: "/w", HubPID: live, HubURL: srv.URL}) || probeDials.Load() == before {
		t.Fatal("a loopback probe was not counted; the check above proves nothing")
	}
}

// TestListInfoProbesConcurrently checks that unresponsive hubs are probed
// at the same time, not one after another: every hung listener holds a
// probe's connection open at once.
func TestListInfoProbesConcurrently(t *testing.T) {
	t.Parallel()
	const hubs = 20
	r, home := testRegistry(t)
	hung := hungListeners(t, hubs)
	for i, u := range hung.urls {
		cwd := hubtest.Workspace(t, home, "ws"+itoa(i), true)
		mustWrite(t, r, Entry{Cwd: cwd, Name: "ws", HubPID: os.Getpid(), HubURL: u})
	}
	// A long timeout, so that every probe is still waiting when the last
	// one connects, also on a slow host.
	infos, err := r.ListInfoFunc(func(e Entry) bool { return isAlive(context.Background(), e, 2*time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if info.HubStatus != HubStopped {
			t.Errorf("%s: status %s, want stopped", info.HubURL, info.HubStatus)
		}
	}
	if peak := hung.peak(); peak != hubs {
		t.Errorf("at most %d probes were open at once, want %d", peak, hubs)
	}
}

// hung is a set of listeners that accept connections and never answer.
type hung struct {
	urls []string
	mu   sync.Mutex
	open int
	max  int
}

// hungListeners starts n unresponsive loopback listeners. Each connection
// is read until the client gives up, so the number of connections open at
// once can be observed.
func hungListeners(t testing.TB, n int) *hung {
	t.Helper()
	h := &hung{}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		h.urls = append(h.urls, "http://"+ln.Addr().String())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				h.change(1)
				go func() {
					io.Copy(io.Discard, c)
					c.Close()
					h.change(-1)
				}()
			}
		}()
	}
	return h
}

func (h *hung) change(d int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open += d
	h.max = max(h.max, h.open)
}

func (h *hung) peak() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.max
}

// port returns the port of a URL like http://127.0.0.1:1234.
func port(url string) string {
	_, p, _ := net.SplitHostPort(url[len("http://"):])
	return p
}

// TestListInfoWithHubProcesses runs real hub processes: one serving, one
// that accepts connections and never answers, and one that dies.
func TestListInfoWithHubProcesses(t *testing.T) {
	t.Parallel()
	r, home := testRegistry(t)
	serving := hubtest.Workspace(t, home, "serving", true)
	hanging := hubtest.Workspace(t, home, "hanging", true)
	dying := hubtest.Workspace(t, home, "dying", true)
	startHub(t, r, "serve", serving)
	startHub(t, r, "hang", hanging)
	startHub(t, r, "hang", dying).Kill()

	infos, err := r.ListInfo()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]HubStatus)
	for _, info := range infos {
		got[info.Cwd] = info.HubStatus
	}
	want := map[string]HubStatus{serving: HubRunning, hanging: HubStopped}
	if !maps.Equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if exists(r.EntryPath(dying)) {
		t.Error("the dead hub's entry was not pruned")
	}
}
