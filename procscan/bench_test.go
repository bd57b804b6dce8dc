package procscan

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// psRow is one line of `ps -eo pid,etime,command`.
type psRow struct {
	pid   int
	etime string
	cmd   string
}

// psScan is the baseline Scan is measured against: run ps and keep the hub
// lines. ps cannot tell argument boundaries apart, so the match splits the
// command on spaces.
func psScan() ([]psRow, error) {
	out, err := exec.Command("ps", "-eo", "pid,etime,command").Output()
	if err != nil {
		return nil, fmt.Errorf("ps: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	sc.Scan() // header
	var rows []psRow
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil || !IsHubCommand(f[2:]) {
			continue
		}
		rows = append(rows, psRow{pid: pid, etime: f[1], cmd: strings.Join(f[2:], " ")})
	}
	return rows, sc.Err()
}

// hostProcesses counts the processes Scan looks at.
func hostProcesses(b *testing.B) int {
	b.Helper()
	pids, err := process.Pids()
	if err != nil {
		b.Fatal(err)
	}
	return len(pids)
}

func benchScan(b *testing.B) {
	for b.Loop() {
		if _, err := Scan(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(hostProcesses(b)), "procs")
}

func benchPsParse(b *testing.B) {
	if _, err := exec.LookPath("ps"); err != nil {
		b.Skip("no ps on this host")
	}
	for b.Loop() {
		if _, err := psScan(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(hostProcesses(b)), "procs")
}

// BenchmarkScan scans the host's processes as they are.
func BenchmarkScan(b *testing.B) { benchScan(b) }

// BenchmarkPsParse is the comparison baseline on the same host.
func BenchmarkPsParse(b *testing.B) { benchPsParse(b) }

// BenchmarkInterleaved compares Scan and the baseline on the host as it is.
func BenchmarkInterleaved(b *testing.B) { benchInterleaved(b) }

// manyIdle is how many idle processes BenchmarkScanMany adds, to emulate a
// busy host.
const manyIdle = 1000

// BenchmarkScanMany adds manyIdle idle processes and runs both scans, apart
// and interleaved.
func BenchmarkScanMany(b *testing.B) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		b.Skip("no sleep command on this host")
	}
	var cmds []*exec.Cmd
	b.Cleanup(func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	})
	// Bounded twice over: manyIdle starts, and each child exits on its own
	// after a minute should cleanup never run.
	deadline := time.Now().Add(30 * time.Second)
	for range manyIdle {
		if time.Now().After(deadline) {
			b.Fatalf("started only %d idle processes in 30s", len(cmds))
		}
		c := exec.Command(sleep, "60")
		if err := c.Start(); err != nil {
			b.Fatalf("start idle process %d: %v", len(cmds), err)
		}
		cmds = append(cmds, c)
	}
	b.Run("Scan", benchScan)
	b.Run("PsParse", benchPsParse)
	b.Run("Interleaved", benchInterleaved)
}

// benchInterleaved alternates one Scan and one ps parse per iteration and
// reports each one's mean wall time and their ratio. The load of a shared
// host swings within seconds; alternating puts both under the same swings,
// so the ratio is steadier than one taken from two separate benchmarks.
// Where the platform reports it, the CPU time each side used (ps's own
// included) is reported too: unlike wall time it barely moves with the load
// of other programs.
func benchInterleaved(b *testing.B) {
	if _, err := exec.LookPath("ps"); err != nil {
		b.Skip("no ps on this host")
	}
	var scanWall, psWall, scanCPU, psCPU time.Duration
	n := 0
	for b.Loop() {
		start, startCPU := time.Now(), cpuTime()
		if _, err := Scan(); err != nil {
			b.Fatal(err)
		}
		mid, midCPU := time.Now(), cpuTime()
		if _, err := psScan(); err != nil {
			b.Fatal(err)
		}
		scanWall += mid.Sub(start)
		psWall += time.Since(mid)
		scanCPU += midCPU - startCPU
		psCPU += cpuTime() - midCPU
		n++
	}
	b.ReportMetric(float64(scanWall.Nanoseconds())/float64(n), "scan-ns/op")
	b.ReportMetric(float64(psWall.Nanoseconds())/float64(n), "ps-ns/op")
	b.ReportMetric(float64(psWall)/float64(scanWall), "ps/scan")
	if scanCPU > 0 {
		b.ReportMetric(float64(psCPU)/float64(scanCPU), "ps/scan-cpu")
	}
	b.ReportMetric(float64(hostProcesses(b)), "procs")
}

// TestPsScanAgrees checks that the baseline finds the same hub as Scan, so
// the benchmark compares like with like.
func TestPsScanAgrees(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ps"); err != nil {
		t.Skip("no ps on this host")
	}
	h := startHelper(t, "bones", t.TempDir(), "sleep", "hub", "start", "--repo-port", "1")
	got := waitScanned(t, h.pid())
	rows, err := psScan()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.pid == h.pid() {
			if r.cmd != got.Cmd {
				t.Errorf("ps command %q, Scan %q", r.cmd, got.Cmd)
			}
			return
		}
	}
	t.Errorf("ps did not list hub pid %d: %+v", h.pid(), rows)
}
