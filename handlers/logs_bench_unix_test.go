//go:build unix

package handlers

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process used so far, user and system.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMergedLogStream20Hubs: the merged page is open while 20 hubs
// each write 10 lines a second for 30 seconds. Every line must reach the
// page's event stream once; it reports the CPU the process used (server,
// writers and the stream's reader) per second of wall time, and the
// lines lost and repeated.
func BenchmarkMergedLogStream20Hubs(b *testing.B) {
	const hubs, perSecond, seconds = 20, 10, 30
	for b.Loop() {
		e := newEnv(b, true)
		dirs := make([]string, hubs)
		for i := range dirs {
			dirs[i] = e.workspace(fmt.Sprintf("load-%02d", i))
			e.idle(dirs[i], fmt.Sprintf("load-%02d", i))
			writeLog(b, dirs[i], "hub.log", hubLine(0, "INFO", "hub: ready"))
		}
		e.refresh()
		l := e.listen()
		d := e.page("/logs", http.StatusOK)
		req, _ := http.NewRequest(http.MethodGet, l.base+val(d.one("body"), "sse-connect"), nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		mark := regexp.MustCompile(`<span class="log-text">load-line h=(\d+) n=(\d+)</span>`)
		seen := map[string]int{}
		var mu sync.Mutex
		go func() {
			r := bufio.NewReader(resp.Body)
			for {
				line, err := r.ReadBytes('\n')
				if err != nil {
					return
				}
				mu.Lock()
				for _, m := range mark.FindAllSubmatch(line, -1) {
					seen[string(m[1])+"/"+string(m[2])]++
				}
				mu.Unlock()
			}
		}()

		cpu0, wall0 := cpuTime(b), time.Now()
		var wg sync.WaitGroup
		for h := range hubs {
			wg.Go(func() {
				f, err := os.OpenFile(filepath.Join(dirs[h], ".bones", "hub.log"), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					b.Error(err)
					return
				}
				defer f.Close()
				tick := time.NewTicker(time.Second / perSecond)
				defer tick.Stop()
				for n := range perSecond * seconds {
					<-tick.C
					fmt.Fprintln(f, hubLine(n, "INFO", fmt.Sprintf("load-line h=%d n=%d", h, n)))
				}
			})
		}
		wg.Wait()
		// The last lines go out within the stream's pace.
		want := hubs * perSecond * seconds
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			got := len(seen)
			mu.Unlock()
			if got >= want || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
		resp.Body.Close()
		mu.Lock()
		repeated := 0
		for _, n := range seen {
			repeated += n - 1
		}
		lost := want - len(seen)
		mu.Unlock()
		b.ReportMetric(float64(want), "lines-written")
		b.ReportMetric(float64(lost), "lines-lost")
		b.ReportMetric(float64(repeated), "lines-repeated")
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
		if lost != 0 || repeated != 0 {
			b.Errorf("%d of %d lines lost, %d repeated", lost, want, repeated)
		}
	}
}
