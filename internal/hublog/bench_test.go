package hublog

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// fillLog writes rpc lines like a busy hub's to path until it holds size
// bytes; rare, if not "", is written once, as the first line.
func fillLog(tb testing.TB, path string, size int64, rare string) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	var n int64
	if rare != "" {
		k, _ := fmt.Fprintln(w, jl(0, "ERROR", "error", "hub: "+rare))
		n += int64(k)
	}
	for i := 0; n < size; i++ {
		k, _ := fmt.Fprintf(w, `{"ts":"2026-12-01T17:%02d:%02dZ","level":"INFO","event":"rpc","rpc":"tasks.update","agent":"agent-%d","task":"6f1c2d3e-4b5a-4c7d-8e9f-%012d","took_ms":%d}`+"\n",
			i/60%60, i%60, i%7, i, i%40)
		n += int64(k)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// peakHeap samples the heap in use while fn runs and returns the most it
// grew above what it was before.
func peakHeap(fn func()) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

// BenchmarkSearchRare searches hub.log and five 10 MiB rotations for a
// string that only the oldest line of the oldest file holds.
func BenchmarkSearchRare(b *testing.B) {
	dir := b.TempDir()
	for n := range 6 {
		rare := ""
		if n == 5 {
			rare = "needle-4711 found"
		}
		fillLog(b, filepath.Join(dir, rotated(n)), 10<<20, rare)
	}
	f := compile(b, Query{Text: "NEEDLE-4711"})
	var p Page
	var peak uint64
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			var err error
			if p, err = Search(dir, f, Options{}); err != nil {
				b.Fatal(err)
			}
		}))
	}
	if len(p.Lines) != 1 || p.Partial {
		b.Fatalf("found %d lines (partial %v), want the one", len(p.Lines), p.Partial)
	}
	b.ReportMetric(float64(p.Scanned)/(1<<20), "MiB-read/op")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
}
