package procscan

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// findPID returns the scanned row for pid.
func findPID(t *testing.T, pid int) (Process, bool) {
	t.Helper()
	procs, err := Scan()
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	for _, p := range procs {
		if p.PID == pid {
			return p, true
		}
	}
	return Process{}, false
}

// waitScanned polls Scan until it lists pid and returns that row.
func waitScanned(t *testing.T, pid int) Process {
	t.Helper()
	var got Process
	eventually(t, fmt.Sprintf("pid %d to appear in Scan", pid), func() bool {
		var ok bool
		got, ok = findPID(t, pid)
		return ok
	})
	return got
}

// resolved returns dir with symlinks resolved (/tmp is a link on macOS).
func resolved(t *testing.T, dir string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestScanFindsHub(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	before := time.Now()
	h := startHelper(t, "bones", dir, "sleep", "hub", "start", "--repo-port", "1")
	after := time.Now()

	got := waitScanned(t, h.pid())
	if want := resolved(t, dir); got.Cwd != want {
		t.Errorf("Cwd = %q, want %q", got.Cwd, want)
	}
	if got.CwdDeleted {
		t.Error("CwdDeleted = true for an existing directory")
	}
	// os.Geteuid is -1 on Windows, which has no uids, as UID is then.
	if got.UID != os.Geteuid() || got.OtherUser {
		t.Errorf("UID, OtherUser = %d, %v; want %d, false", got.UID, got.OtherUser, os.Geteuid())
	}
	if want := binaryPath("bones") + " hub start --repo-port 1"; got.Cmd != want {
		t.Errorf("Cmd = %q, want %q", got.Cmd, want)
	}
	// Create times come from clock ticks since a boot time in whole seconds.
	if got.CreateTime.Before(before.Add(-2*time.Second)) || got.CreateTime.After(after.Add(2*time.Second)) {
		t.Errorf("CreateTime = %v, want between %v and %v", got.CreateTime, before, after)
	}
	if got.RSS == 0 {
		t.Error("RSS = 0")
	}
	if got.CPUPercent < 0 {
		t.Errorf("CPUPercent = %v", got.CPUPercent)
	}
	if got.ETime == "" || strings.Count(got.ETime, ":") != 1 {
		t.Errorf("ETime = %q, want mm:ss for a fresh process", got.ETime)
	}
	ct, err := CreateTime(h.pid())
	if err != nil {
		t.Fatal(err)
	}
	if !ct.Equal(got.CreateTime) {
		t.Errorf("CreateTime(pid) = %v, Scan said %v", ct, got.CreateTime)
	}
	if !Alive(h.pid()) {
		t.Error("Alive = false for the running hub")
	}
}

func TestScanMatchesArgv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bones, notbones := binaryPath("bones"), binaryPath("notbones")
	// 8 KiB: longer than the first read of a command line.
	longDir := strings.Repeat("/d", 4096)
	tests := []struct {
		name string
		path string
		argv []string
		want bool
	}{
		{"hub", bones, []string{bones, "hub", "start"}, true},
		{"decoy program name", notbones, []string{notbones, "hub", "start"}, false},
		{"other subcommand", bones, []string{bones, "hub", "status"}, false},
		{"words joined", bones, []string{bones, "hubstart"}, false},
		{"argv0 names bones, file does not", notbones, []string{"bones", "hub", "start"}, true},
		{"file named bones, argv0 not", bones, []string{"notbones", "hub", "start"}, false},
		{"very long argv0", bones, []string{longDir + "/bones", "hub", "start"}, true},
		{"very long argv0 of a decoy", bones, []string{longDir + "/notbones", "hub", "start"}, false},
		{"very long arguments", bones, []string{bones, "hub", "start", "--note", longDir}, true},
		{"very long arguments of a decoy", notbones, []string{notbones, "hub", "start", "--note", longDir}, false},
	}
	started := make([]*helper, len(tests))
	for i, tt := range tests {
		started[i] = startArgv(t, tt.path, tt.argv, dir, "sleep")
	}
	// A hub started last: once it shows up, every process above has long
	// finished exec'ing and would show up too if it matched.
	waitScanned(t, startHelper(t, "bones", dir, "sleep", "hub", "start").pid())
	procs, err := Scan()
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := slices.ContainsFunc(procs, func(p Process) bool { return p.PID == started[i].pid() })
			if found != tt.want {
				t.Errorf("Scan lists %q: %v, want %v", tt.argv, found, tt.want)
			}
		})
	}
}

func TestScanDeletedCwd(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("only Linux marks a removed working directory as deleted")
	}
	tests := []struct {
		name, dir   string
		remove      bool
		wantDeleted bool
	}{
		{"removed directory", "workspace", true, true},
		{"directory named like the marker", "old (deleted)", false, false},
		{"removed directory named like the marker", "old (deleted)", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), tt.dir)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			want := resolved(t, dir)
			h := startHelper(t, "bones", dir, "sleep", "hub", "start")
			waitScanned(t, h.pid())
			if tt.remove {
				if err := os.Remove(dir); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := findPID(t, h.pid())
			if !ok {
				t.Fatal("hub missing from Scan")
			}
			if got.Cwd != want || got.CwdDeleted != tt.wantDeleted {
				t.Errorf("Cwd, CwdDeleted = %q, %v; want %q, %v", got.Cwd, got.CwdDeleted, want, tt.wantDeleted)
			}
			if cwd, deleted, err := Cwd(h.pid()); err != nil || cwd != want || deleted != tt.wantDeleted {
				t.Errorf("Cwd(pid) = %q, %v, %v; want %q, %v", cwd, deleted, err, want, tt.wantDeleted)
			}
		})
	}
}

// procState returns the state letter from /proc/<pid>/stat.
func procState(pid int) (byte, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("malformed stat %q", b)
	}
	return b[i+2], nil
}

func TestZombieIsDead(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the zombie state is read from /proc")
	}
	h := startHelper(t, "bones", t.TempDir(), "exit", "hub", "start")
	eventually(t, "the child to become a zombie", func() bool {
		s, err := procState(h.pid())
		return err == nil && s == 'Z'
	})
	if Alive(h.pid()) {
		t.Error("Alive = true for a zombie")
	}
	if _, ok := findPID(t, h.pid()); ok {
		t.Error("zombie listed by Scan")
	}
	if _, err := ResourcesOf(h.pid()); !errors.Is(err, ErrGone) {
		t.Errorf("ResourcesOf(zombie) error = %v, want ErrGone", err)
	}
}

func TestAlive(t *testing.T) {
	t.Parallel()
	h := startHelper(t, "bones", t.TempDir(), "sleep")
	tests := []struct {
		name string
		pid  int
		want bool
	}{
		{"self", os.Getpid(), true},
		{"child", h.pid(), true},
		{"zero", 0, false},
		{"negative", -1, false},
		{"beyond int32", math.MaxInt32 + 1, false},
		{"unused huge pid", math.MaxInt32, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Alive(tt.pid); got != tt.want {
				t.Errorf("Alive(%d) = %v, want %v", tt.pid, got, tt.want)
			}
		})
	}
	h.Kill()
	if Alive(h.pid()) {
		t.Error("Alive = true for a killed and reaped child")
	}
}

func TestAliveThreadIsNotProcess(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("thread ids share the pid space only on Linux")
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	for _, task := range tasks {
		if task.Name() == self {
			continue
		}
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			t.Fatal(err)
		}
		if Alive(tid) {
			t.Errorf("Alive(%d) = true for a thread of this process", tid)
		}
		return
	}
	t.Skip("the test process has a single thread")
}

func TestCreateTime(t *testing.T) {
	t.Parallel()
	ct, err := CreateTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if since := time.Since(ct); since < -2*time.Second || since > time.Hour {
		t.Errorf("own create time %v is %v ago; want within the last hour", ct, since)
	}
	for _, pid := range []int{0, -5, math.MaxInt32} {
		if _, err := CreateTime(pid); err == nil {
			t.Errorf("CreateTime(%d) returned no error", pid)
		}
	}
}

// TestScanParallelMatchesSequential splits even a small process table into
// chunks of one pid, scanned by several goroutines, and checks that the
// result is the sequential scan's: the same hubs, in pid order.
func TestScanParallelMatchesSequential(t *testing.T) {
	t.Parallel()
	var want []int
	for range 3 {
		h := startHelper(t, "bones", t.TempDir(), "sleep", "hub", "start")
		want = append(want, h.pid())
		waitScanned(t, h.pid())
	}
	pids, err := process.Pids()
	if err != nil {
		t.Fatal(err)
	}
	got := scanChunks(pids, 1)
	if !slices.IsSortedFunc(got, func(a, b Process) int { return a.PID - b.PID }) {
		t.Errorf("Scan is not ordered by pid: %v", pidsOf(got))
	}
	for _, pid := range want {
		if !slices.Contains(pidsOf(got), pid) {
			t.Errorf("parallel Scan missed hub %d: got %v", pid, pidsOf(got))
		}
	}
}

func pidsOf(ps []Process) []int {
	pids := make([]int, len(ps))
	for i, p := range ps {
		pids[i] = p.PID
	}
	return pids
}
