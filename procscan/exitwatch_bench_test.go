package procscan

import (
	"slices"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// exitWatchModes are the watchers the benchmarks compare: the kernel's and
// polling at two intervals.
var exitWatchModes = []struct {
	name string
	open func() *ExitWatcher
}{
	{"kernel", func() *ExitWatcher { return NewExitWatcher(time.Second) }},
	{"poll-100ms", func() *ExitWatcher { return newExitWatcher(100*time.Millisecond, nil) }},
	{"poll-1s", func() *ExitWatcher { return newExitWatcher(time.Second, nil) }},
}

// BenchmarkExitWatchLatency measures the time from SIGKILL to the exit's
// report, over 50 children (killed one at a time, ten watched at once), and
// reports its median and 90th percentile. Run it with -benchtime=1x: each
// iteration starts 50 processes.
func BenchmarkExitWatchLatency(b *testing.B) {
	for _, mode := range exitWatchModes {
		b.Run(mode.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				lat = append(lat, exitLatencies(b, mode.open, 5, 10)...)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds()), "p90-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}

// exitLatencies runs batches of size children, watches each batch, kills
// its children one by one and times each report.
func exitLatencies(b *testing.B, open func() *ExitWatcher, batches, size int) []time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	w := open()
	defer w.Close()
	var lat []time.Duration
	for range batches {
		kids := make([]*hubtest.Proc, size)
		for i := range kids {
			p, err := hubtest.Spawn(hubtest.Options{Mode: "sleep", NoReap: true})
			if err != nil {
				b.Fatal(err)
			}
			kids[i] = p
		}
		if err := w.Watch(kidPIDs(kids)); err != nil {
			b.Fatal(err)
		}
		for _, k := range kids {
			start := time.Now()
			kill(b, k)
			if got := nextExit(b, w); got != k.PID {
				b.Fatalf("reported %d, want %d", got, k.PID)
			}
			lat = append(lat, time.Since(start))
		}
		for _, k := range kids {
			k.Kill()
		}
	}
	return lat
}

// BenchmarkExitWatchIdle watches 20 sleeping children for 3 s and reports
// the CPU time this process used meanwhile (getrusage), per second of wall
// time; "none" is the same wait without a watcher. Run it with
// -benchtime=1x.
func BenchmarkExitWatchIdle(b *testing.B) {
	modes := append([]struct {
		name string
		open func() *ExitWatcher
	}{{"none", nil}}, exitWatchModes...)
	const wait = 3 * time.Second
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			kids := sleepers(b, 20)
			var cpu time.Duration
			for b.Loop() {
				var w *ExitWatcher
				if mode.open != nil {
					w = mode.open()
					if err := w.Watch(kidPIDs(kids)); err != nil {
						b.Fatal(err)
					}
				}
				before := cpuTime()
				time.Sleep(wait)
				cpu += cpuTime() - before
				if w != nil {
					w.Close()
				}
			}
			perSec := float64(cpu.Microseconds()) / float64(b.N) / wait.Seconds()
			b.ReportMetric(perSec, "cpu-µs/s")
		})
	}
}
