package collector

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"boneyard/internal/hubtest"
	"boneyard/registry"
)

// idleEnv sets how long BenchmarkIdleCPU watches each variant (a Go
// duration); 20 s by default.
const idleEnv = "BONEYARD_BENCH_IDLE"

// idleHubs is "a handful of hubs".
const idleHubs = 5

// BenchmarkIdleCPU measures the CPU share the collector takes with a
// handful of live hubs and no page open, at the default 2 s interval, with
// the journal and resource history on: with the exit watcher ("exitwatch",
// as boneyard runs) and without it ("interval"), one after the other in
// one run. The share is of one core, from this process's CPU time (the
// hubs are processes of their own); the wall time is fixed, so run it with
// -benchtime=1x.
func BenchmarkIdleCPU(b *testing.B) {
	window := 20 * time.Second
	if d, err := time.ParseDuration(os.Getenv(idleEnv)); err == nil && d > 0 {
		window = d
	}
	hubtest.SetHome(b)
	root := b.TempDir()
	for i := range idleHubs {
		startBonesHub(b, &own{reg: registry.Default()}, newWorkspace(b, root, "idle-"+string(rune('a'+i)), true))
	}
	for _, v := range []struct {
		name    string
		noWatch bool
	}{{"exitwatch", false}, {"interval", true}} {
		b.Run(v.name, func(b *testing.B) {
			j := openJournal(b, filepath.Join(b.TempDir(), "boneyard"))
			defer j.Close()
			c := New(Options{Interval: 2 * time.Second, Scan: scanOwnHubs, Journal: j, NoExitWatch: v.noWatch})
			stop := run(b, c)
			defer stop()
			waitFor(b, c, 10*time.Second, "the hubs running", func(s *Snapshot) bool { return s.Counts().Of(StatusRunning) == idleHubs })
			var share float64
			for b.Loop() {
				cpu0, ok := processCPU()
				if !ok {
					b.Skip("process CPU time is not measured on this platform")
				}
				start := time.Now()
				time.Sleep(window)
				cpu1, _ := processCPU()
				share = float64(cpu1-cpu0) / float64(time.Since(start)) * 100
			}
			b.ReportMetric(share, "%cpu")
			b.ReportMetric(float64(c.Collections()), "collections")
		})
	}
}
