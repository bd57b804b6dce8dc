package handlers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"boneyard/internal/collector"
	"boneyard/internal/hubtest"
	"boneyard/procscan"
	"boneyard/registry"
	"boneyard/web/templates"
)

// Benchmark sizes from the dashboard's targets: 1,000 registry entries, 20
// of them hubs that accept connections but never answer.
const (
	benchEntries = 1000
	benchHung    = 20
)

// benchSSEEnv sets how long the SSE benchmark keeps its clients open
// (a Go duration); the default keeps `make bench` short.
const benchSSEEnv = "BONEYARD_BENCH_SSE_DURATION"

// fixture is a running server over a large registry, shared by the
// benchmarks and torn down after them.
type fixture struct {
	base    string
	col     *collector.Collector
	srv     *Server
	hs      *http.Server
	entries []string // cwds of the idle entries
	stop    func()
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
	fixtureErr  error
	fixtureStop []func()
)

// closeFixtures stops what the benchmarks started; TestMain calls it.
func closeFixtures() {
	for _, f := range slices.Backward(fixtureStop) {
		f()
	}
}

func benchFixture(b *testing.B) *fixture {
	b.Helper()
	fixtureOnce.Do(func() { theFixture, fixtureErr = newFixture() })
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return theFixture
}

func newFixture() (*fixture, error) {
	root, err := os.MkdirTemp("", "handlers-bench")
	if err != nil {
		return nil, err
	}
	fixtureStop = append(fixtureStop, func() { os.RemoveAll(root) })
	home := filepath.Join(root, "home")
	oldHome, hadHome := os.LookupEnv("HOME")
	os.Setenv("HOME", home)
	fixtureStop = append(fixtureStop, func() {
		if hadHome {
			os.Setenv("HOME", oldHome)
		}
	})
	f := &fixture{}
	for i := range benchEntries {
		dir := filepath.Join(root, "ws", fmt.Sprintf("ws%04d", i))
		if err := os.MkdirAll(filepath.Join(dir, ".bones"), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, ".bones", "agent.id"), []byte("agent-"+strconv.Itoa(i)+"\n"), 0o644); err != nil {
			return nil, err
		}
		if i < benchHung {
			// The hubs must outlive the longest benchmark, or their exit
			// would skew the SSE benchmark's goroutine and file counts.
			o := hubOptions("hang", dir, true)
			o.Lifetime = 30 * time.Minute
			h, err := hubtest.Spawn(o)
			if err != nil {
				return nil, err
			}
			fixtureStop = append(fixtureStop, h.Kill)
			continue
		}
		if err := registry.Write(registry.Entry{Cwd: dir, Name: fmt.Sprintf("workspace-%04d", i), StartedAt: time.Now().UTC()}); err != nil {
			return nil, err
		}
		f.entries = append(f.entries, dir)
	}
	f.col = collector.New(collector.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.col.Run(ctx); close(done) }()
	fixtureStop = append(fixtureStop, func() { cancel(); <-done })
	snap := f.col.Refresh(ctx)
	if len(snap.Workspaces) != benchEntries {
		return nil, fmt.Errorf("snapshot has %d workspaces, want %d (err %v)", len(snap.Workspaces), benchEntries, snap.Err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.srv, err = New(Config{Source: f.col, Actions: f.col, Token: testToken, Port: ln.Addr().(*net.TCPAddr).Port, Home: home, AuditPath: filepath.Join(root, "audit.log")})
	if err != nil {
		return nil, err
	}
	f.hs = &http.Server{Handler: f.srv, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	f.hs.RegisterOnShutdown(f.srv.CloseStreams)
	go f.hs.Serve(ln)
	fixtureStop = append(fixtureStop, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.hs.Shutdown(ctx)
	})
	f.base = "http://" + ln.Addr().String()
	return f, nil
}

// get fetches path with the token and drains the body.
func (f *fixture) get(client *http.Client, path string) error {
	req, err := http.NewRequest(http.MethodGet, f.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// reportLatency reports the median and p99 of the request durations.
func reportLatency(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	ms := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(ms(0.5), "median-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

func reportRSS(b *testing.B) {
	if r, err := procscan.ResourcesOf(os.Getpid()); err == nil {
		b.ReportMetric(float64(r.RSS)/(1<<20), "rss-MiB")
	}
}

// benchmarkGet requests path sequentially over one keep-alive connection.
func benchmarkGet(b *testing.B, path string) {
	f := benchFixture(b)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	if err := f.get(client, path); err != nil {
		b.Fatal(err)
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := f.get(client, path); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, durations)
	reportRSS(b)
}

// BenchmarkDashboard is GET / with 1,000 workspaces (20 hung hubs).
func BenchmarkDashboard(b *testing.B) { benchmarkGet(b, "/") }

// BenchmarkAPIWorkspaces is GET /api/workspaces with 1,000 workspaces.
func BenchmarkAPIWorkspaces(b *testing.B) { benchmarkGet(b, "/api/workspaces") }

// BenchmarkDashboardFiltered is a filtered, sorted view of the same snapshot.
func BenchmarkDashboardFiltered(b *testing.B) { benchmarkGet(b, "/?q=workspace-09&sort=name&dir=desc") }

// BenchmarkLoad is a bounded local load: concurrent clients (4 per CPU)
// alternating GET / and GET /api/workspaces for b.N requests in total;
// it reports requests per second.
func BenchmarkLoad(b *testing.B) {
	f := benchFixture(b)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	paths := []string{"/", "/api/workspaces"}
	b.SetParallelism(4)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if err := f.get(client, paths[i%len(paths)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	reportRSS(b)
}

// openFDs counts this process's open files where the OS tells (Linux).
func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// settle waits (bounded) until the goroutine count is back to at most base.
func settle(base int, within time.Duration) int {
	deadline := time.Now().Add(within)
	n := runtime.NumGoroutine()
	for n > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// BenchmarkSSEClients holds 100 event streams open for a while (60 s for the
// figures, BONEYARD_BENCH_SSE_DURATION; 2 s by default) while the registry
// changes every 250 ms, then disconnects them and reports goroutines and
// open files before, during and after.
func BenchmarkSSEClients(b *testing.B) {
	const clients = 100
	hold := 2 * time.Second
	if v := os.Getenv(benchSSEEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("%s: %v", benchSSEEnv, err)
		}
		hold = d
	}
	f := benchFixture(b)
	for b.Loop() {
		runtime.GC()
		baseG, baseFD := settle(0, 0), openFDs()
		client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: clients + 10, MaxIdleConnsPerHost: clients}}
		ctx, cancel := context.WithCancel(context.Background())
		var events sync.WaitGroup
		received := make([]int, clients)
		for i := range clients {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/events?seq=0", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			events.Add(1)
			go func() {
				defer events.Done()
				defer resp.Body.Close()
				// ReadSlice keeps the client's memory flat: events can be
				// large, and only their names are counted.
				r := bufio.NewReader(resp.Body)
				lineStart := true
				for {
					line, err := r.ReadSlice('\n')
					if err != nil && err != bufio.ErrBufferFull {
						return
					}
					if lineStart && string(line) == "event: update\n" {
						received[i]++
					}
					lineStart = err == nil
				}
			}()
		}
		// Change the registry while the streams are open.
		stopWrites := make(chan struct{})
		writes := make(chan int)
		go func() {
			n := 0
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stopWrites:
					writes <- n
					return
				case <-tick.C:
					dir := f.entries[n%len(f.entries)]
					registry.Write(registry.Entry{Cwd: dir, Name: fmt.Sprintf("renamed-%d", n), StartedAt: time.Now().UTC()})
					n++
				}
			}
		}()
		time.Sleep(hold)
		openG, openFD := runtime.NumGoroutine(), openFDs()
		close(stopWrites)
		nWrites := <-writes
		cancel()
		events.Wait()
		client.CloseIdleConnections()
		waitCtx, waitCancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := f.srv.WaitStreams(waitCtx); err != nil {
			b.Error(err)
		}
		waitCancel()
		afterG := settle(baseG, 5*time.Second)
		afterFD := openFDs()
		total := 0
		for _, n := range received {
			total += n
		}
		b.ReportMetric(float64(baseG), "goroutines-before")
		b.ReportMetric(float64(openG), "goroutines-open")
		b.ReportMetric(float64(afterG), "goroutines-after")
		b.ReportMetric(float64(baseFD), "fds-before")
		b.ReportMetric(float64(openFD), "fds-open")
		b.ReportMetric(float64(afterFD), "fds-after")
		b.ReportMetric(float64(total)/clients, "updates/client")
		b.ReportMetric(float64(nWrites), "registry-writes")
		if afterG > baseG || afterFD > baseFD {
			b.Errorf("not back to baseline: goroutines %d -> %d, fds %d -> %d", baseG, afterG, baseFD, afterFD)
		}
	}
	reportRSS(b)
}

// BenchmarkRenderDashboard is the uncached cost of the dashboard page of one
// snapshot: paid once per snapshot and view, then served from the cache.
func BenchmarkRenderDashboard(b *testing.B) {
	f := benchFixture(b)
	snap := f.col.Snapshot()
	for b.Loop() {
		fr, err := buildDashFragments(snap, view{}, formatter{now: time.Now(), home: os.Getenv("HOME")})
		if err != nil {
			b.Fatal(err)
		}
		if err := templates.DashboardPage(fr.model).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
