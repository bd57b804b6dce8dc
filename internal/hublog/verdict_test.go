package hublog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// at is 17:05 plus s seconds on a fixed day, UTC.
func at(s int) time.Time {
	return time.Date(2026, 12, 1, 17, 5, 0, 0, time.UTC).Add(time.Duration(s) * time.Second)
}

// jl is a hub's JSON log line at second s; kv are extra fields.
func jl(s int, level, event, msg string, kv ...string) string {
	obj := map[string]string{"ts": at(s).Format(time.RFC3339), "level": level, "event": event}
	if msg != "" {
		obj["msg"] = msg
	}
	for i := 0; i+1 < len(kv); i += 2 {
		obj[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(obj)
	return string(b)
}

func starting(s, pid int) string {
	return jl(s, "INFO", "lifecycle", "hub: starting (pid="+strconv.Itoa(pid)+", repo-port=41000, coord-port=41001)")
}

func life(s int, msg string) string { return jl(s, "INFO", "lifecycle", msg) }

func rpc(s int) string {
	return jl(s, "INFO", "rpc", "", "rpc", "tasks.create", "agent", "system")
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		target Target
		want   Verdict
	}{
		{
			name:   "clean stop",
			lines:  []string{starting(0, 100), life(1, "hub: ready"), rpc(2), life(3, "hub: stopping"), life(4, "hub: stopped")},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Clean: true, Stopped: at(4), StopMsg: "hub: stopped"},
		},
		{
			name:   "killed while draining counts as a stop",
			lines:  []string{starting(0, 100), life(1, "hub: ready"), life(3, "hub: stopping")},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Clean: true, Stopped: at(3), StopMsg: "hub: stopping"},
		},
		{
			name: "drain error",
			lines: []string{starting(0, 100), life(3, "hub: stopping"),
				jl(5, "ERROR", "error", "hub: stopped with drain error: hub: drain timeout exceeded")},
			target: Target{PID: 100},
			want: Verdict{Log: true, Started: at(0), Clean: true, Stopped: at(5),
				StopMsg: "hub: stopped with drain error: hub: drain timeout exceeded"},
		},
		{
			name:   "killed",
			lines:  []string{starting(0, 100), life(1, "hub: ready"), rpc(2)},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Cause: CauseLastLine, Detail: "rpc agent=system rpc=tasks.create"},
		},
		{
			name: "panic",
			lines: []string{starting(0, 100), life(1, "hub: ready"),
				jl(2, "ERROR", "error", "rpc failed", "err", "earlier"),
				"panic: runtime error: index out of range [3] with length 3", "", "goroutine 1 [running]:", "main.main()"},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Cause: CausePanic, Detail: "panic: runtime error: index out of range [3] with length 3"},
		},
		{
			name:   "bring-up failed",
			lines:  []string{starting(0, 100), jl(1, "ERROR", "error", "hub: bring-up failed", "err", "listen tcp: address already in use"), "hub: hub: bind HTTP listener"},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Cause: CauseError, Detail: "hub: bring-up failed: listen tcp: address already in use"},
		},
		{
			name:   "error whose msg says it all",
			lines:  []string{starting(0, 100), jl(1, "ERROR", "error", "hub: child started but registry never updated: timeout", "err", "timeout")},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Cause: CauseError, Detail: "hub: child started but registry never updated: timeout"},
		},
		{
			name:   "recycled pid: the old hub died",
			lines:  []string{starting(0, 100), rpc(1), starting(60, 100), life(61, "hub: stopping")},
			target: Target{PID: 100, Created: at(0).Add(-300 * time.Millisecond)},
			want:   Verdict{Log: true, Started: at(0), Cause: CauseLastLine, Detail: "rpc agent=system rpc=tasks.create"},
		},
		{
			name:   "recycled pid: the new hub stopped",
			lines:  []string{starting(0, 100), rpc(1), starting(60, 100), life(61, "hub: stopping")},
			target: Target{PID: 100, Created: at(60).Add(-300 * time.Millisecond)},
			want:   Verdict{Log: true, Started: at(60), Clean: true, Stopped: at(61), StopMsg: "hub: stopping"},
		},
		{
			name:   "without a start time, the last start of the pid",
			lines:  []string{starting(0, 100), rpc(1), starting(60, 100), life(61, "hub: stopping")},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(60), Clean: true, Stopped: at(61), StopMsg: "hub: stopping"},
		},
		{
			name:   "a later hub's start ends the lines",
			lines:  []string{starting(0, 100), life(1, "hub: stopped"), starting(10, 200), rpc(11)},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Clean: true, Stopped: at(1), StopMsg: "hub: stopped"},
		},
		{
			name:   "the later hub died",
			lines:  []string{starting(0, 100), life(1, "hub: stopped"), starting(10, 200), rpc(11)},
			target: Target{PID: 200},
			want:   Verdict{Log: true, Started: at(10), Cause: CauseLastLine, Detail: "rpc agent=system rpc=tasks.create"},
		},
		{
			name:   "pid 0: the last hub",
			lines:  []string{starting(0, 100), rpc(1), starting(10, 200), life(11, "hub: stopping")},
			target: Target{},
			want:   Verdict{Log: true, Started: at(10), Clean: true, Stopped: at(11), StopMsg: "hub: stopping"},
		},
		{
			name: "no starting line: an older hub's stop does not count",
			lines: []string{starting(0, 100), life(1, "hub: stopped"),
				jl(30, "WARN", "lifecycle", "hub: recovery skipped (no events)")},
			target: Target{PID: 300, Created: at(29)},
			want:   Verdict{Log: true, Cause: CauseLastLine, Detail: "hub: recovery skipped (no events)"},
		},
		{
			name:   "no starting line, a stop after the start time",
			lines:  []string{rpc(0), jl(30, "WARN", "rpc", "slow"), life(40, "hub: stopping")},
			target: Target{PID: 300, Created: at(29)},
			want:   Verdict{Log: true, Clean: true, Stopped: at(40), StopMsg: "hub: stopping"},
		},
		{
			name:   "plain stop text is not the hub's stop",
			lines:  []string{starting(0, 100), "hub: stopping"},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Cause: CauseLastLine, Detail: "hub: stopping"},
		},
		{
			name:   "nothing after the start",
			lines:  []string{starting(0, 100)},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0)},
		},
		{
			name:   "empty log",
			target: Target{PID: 100},
			want:   Verdict{},
		},
		{
			name:   "long detail is clipped, control characters dropped",
			lines:  []string{starting(0, 100), "\x1b[31m" + strings.Repeat("é", 400)},
			target: Target{PID: 100},
			want:   Verdict{Log: true, Started: at(0), Cause: CauseLastLine, Detail: "[31m" + strings.Repeat("é", 146) + "…"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(ParseLines(tt.lines), tt.target)
			if got != tt.want {
				t.Errorf("Judge =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestReadVerdict(t *testing.T) {
	dir := t.TempDir()
	v, err := ReadVerdict(filepath.Join(dir, FileName), Target{PID: 1})
	if err != nil || v != (Verdict{}) {
		t.Fatalf("missing log: %+v, %v; want an empty verdict and no error", v, err)
	}
	content := strings.Join([]string{starting(0, 100), life(1, "hub: ready"), life(2, "hub: stopping"), life(3, "hub: stopped")}, "\n") + "\n"
	if err := os.WriteFile(Path(dir), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err = ReadVerdict(Path(dir), Target{PID: 100})
	if err != nil || !v.Clean || !v.Stopped.Equal(at(3)) {
		t.Fatalf("ReadVerdict = %+v, %v; want a clean stop at %v", v, err, at(3))
	}
	if _, err := ReadVerdict(dir, Target{PID: 100}); err == nil {
		t.Error("ReadVerdict of a directory succeeded")
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"  padded\n", 10, "padded"},
		{"a\tb\x1b[0mc", 20, "a b [0mc"},
		{"bad \xff byte", 20, "bad \uFFFD byte"},
		{"abcdefghij", 6, "abc…"},
		{"ééééé", 6, "é…"},
		{"abcdef", 2, ""},
		{"abcdef", 0, ""},
	}
	for _, tt := range tests {
		if got := Clip(tt.s, tt.n); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
