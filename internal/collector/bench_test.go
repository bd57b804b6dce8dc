package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/registry"
)

const (
	benchEntries = 1000
	benchHung    = 20  // hubs that accept connections and never answer
	benchRunning = 180 // hubs that answer
)

// hungListeners returns URLs of n loopback listeners that accept
// connections and never answer, like a wedged hub.
func hungListeners(tb testing.TB, n int) []string {
	tb.Helper()
	var (
		mu    sync.Mutex
		conns []net.Conn
		urls  []string
	)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		urls = append(urls, "http://"+ln.Addr().String())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		tb.Cleanup(func() { ln.Close() })
	}
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return urls
}

// benchRegistry fills a temporary HOME with benchEntries workspaces:
// benchHung hung hubs and benchRunning answering ones, the rest idle rows.
// The hub entries all carry the pid of one live fake hub, so they survive
// prune-on-read, and measuring resources reads that small process rather
// than this one with its hundreds of probe connections.
func benchRegistry(b *testing.B) {
	hubtest.SetHome(b)
	root := b.TempDir()
	hubPID, _ := startHub(b, &own{reg: registry.Default()}, newWorkspace(b, root, fmt.Sprintf("ws%04d", 0), true), false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	hung := hungListeners(b, benchHung)
	if err := os.MkdirAll(registry.RegistryDir(), 0o700); err != nil {
		b.Fatal(err)
	}
	for i := range benchEntries {
		name := fmt.Sprintf("ws%04d", i)
		e := registry.Entry{Cwd: newWorkspace(b, root, name, true), Name: name, StartedAt: time.Now().UTC()}
		switch {
		case i < benchHung:
			e.HubPID, e.HubURL = hubPID, hung[i]
		case i < benchHung+benchRunning:
			e.HubPID, e.HubURL = hubPID, srv.URL
		}
		data, err := json.Marshal(e)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(registry.EntryPath(e.Cwd), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollect measures one full collection of 1,000 entries with 20
// hung hubs, the heap the collector holds for that snapshot (heap-B), the
// memory the whole benchmark process got from the OS (go-sys-B) and the CPU
// time of one collection (cpu-ms/op, which includes the answering test
// server's share and, unlike ns/op, hardly grows on a loaded host).
//
// "first collection" is a collector that has probed nothing yet, so it waits
// on every hub (as when the server starts); "running collector" is the
// steady state, where known hubs are answered from the probe cache.
func BenchmarkCollect(b *testing.B) {
	for _, bb := range []struct {
		name    string
		collect func(b *testing.B) func() *Snapshot
	}{
		{"first collection", func(*testing.B) func() *Snapshot {
			return func() *Snapshot { return New(Options{}).Refresh(context.Background()) }
		}},
		{"running collector", func(b *testing.B) func() *Snapshot {
			c := New(Options{Interval: time.Hour})
			startRun(b, c)
			return func() *Snapshot { return c.Refresh(context.Background()) }
		}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			benchRegistry(b)
			heap0 := heapAlloc()
			collect := bb.collect(b)

			var s *Snapshot
			b.ReportAllocs()
			cpu0, cpuOK := processCPU()
			for b.Loop() {
				s = collect()
			}
			b.StopTimer()
			if cpu1, ok := processCPU(); ok && cpuOK {
				b.ReportMetric(float64((cpu1-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			}

			// A starved machine can push an answering hub past HealthTimeout, so
			// only the hung ones are certain to be stopped.
			n := s.Counts()
			stopped, running := n.Of(StatusStopped), n.Of(StatusRunning)
			if len(s.Workspaces) != benchEntries || stopped < benchHung || running+stopped != benchHung+benchRunning || s.Err != nil {
				b.Fatalf("snapshot: %d workspaces, %d stopped, %d running, err %v", len(s.Workspaces), stopped, running, s.Err)
			}
			b.ReportMetric(float64(stopped), "stopped")
			b.ReportMetric(float64(int64(heapAlloc())-int64(heap0)), "heap-B")
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(float64(m.Sys), "go-sys-B")
			b.ReportMetric(float64(s.Took.Milliseconds()), "took-ms")
		})
	}
}

// heapAlloc returns the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkWriteToSnapshot measures how long a registry write takes to
// reach a subscriber through fsnotify, the debounce and one collection; the
// interval is an hour, so it plays no part. The hung hubs are known after
// the first collection, so later ones answer them from the probe cache.
func BenchmarkWriteToSnapshot(b *testing.B) {
	for _, bb := range []struct {
		name  string
		setup func(*testing.B)
	}{
		{"empty registry", func(b *testing.B) { hubtest.SetHome(b) }},
		{"1000 entries 20 hung", benchRegistry},
	} {
		b.Run(bb.name, func(b *testing.B) {
			bb.setup(b)
			root := b.TempDir()
			c := New(Options{Interval: time.Hour})
			startRun(b, c)
			ch, cancel := c.Subscribe()
			defer cancel()

			i := 0
			for b.Loop() {
				b.StopTimer()
				name := fmt.Sprintf("new%04d", i)
				cwd := newWorkspace(b, root, name, true)
				i++
				b.StartTimer()
				if err := registry.Register(cwd, name); err != nil {
					b.Fatal(err)
				}
				deadline := time.After(10 * time.Second)
				for seen := false; !seen; {
					select {
					case s := <-ch:
						seen = has(s, cwd)
					case <-deadline:
						b.Fatal("write not seen within 10s")
					}
				}
			}
		})
	}
}
