package procscan

import (
	"errors"
	"os/exec"
	"testing"
	"time"
)

// sleepCommand returns a command running the system's sleep for the given
// seconds, skipping the test where there is none.
func sleepCommand(tb testing.TB, seconds string) *exec.Cmd {
	tb.Helper()
	path, err := exec.LookPath("sleep")
	if err != nil {
		tb.Skip("no sleep command on this host")
	}
	return exec.Command(path, seconds)
}

// startSleep starts sleep and kills and waits for it when the test ends.
func startSleep(t *testing.T, seconds string) *exec.Cmd {
	t.Helper()
	cmd := sleepCommand(t, seconds)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func TestResourcesOfManyBatch(t *testing.T) {
	t.Parallel()
	live := []int{startSleep(t, "120").Process.Pid, startSleep(t, "120").Process.Pid}
	deadCmd := startSleep(t, "120")
	deadCmd.Process.Kill()
	deadCmd.Wait()
	dead := deadCmd.Process.Pid
	// Exits at once but is not waited for: a zombie until the test ends.
	zombie := startSleep(t, "0").Process.Pid
	for deadline := time.Now().Add(10 * time.Second); Alive(zombie); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("sleep 0 still running after 10s")
		}
	}

	tests := []struct {
		name     string
		pids     []int
		measured []int
		gone     []int // errors wrapping ErrGone
		invalid  []int // errors not wrapping ErrGone
	}{
		{"empty", nil, nil, nil, nil},
		{"live", live, live, nil, nil},
		{"dead among live", []int{live[0], dead, live[1]}, live, []int{dead}, nil},
		{"zombie", []int{zombie, live[0]}, live[:1], []int{zombie}, nil},
		{"duplicates", []int{live[0], live[0], dead, dead}, live[:1], []int{dead}, nil},
		{"invalid", []int{0, -1, live[1]}, live[1:], nil, []int{0, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, errs := ResourcesOfMany(tt.pids)
			if len(res) != len(tt.measured) || len(errs) != len(tt.gone)+len(tt.invalid) {
				t.Fatalf("ResourcesOfMany(%v) = %v, %v; want %v measured, %v gone, %v invalid",
					tt.pids, res, errs, tt.measured, tt.gone, tt.invalid)
			}
			for _, pid := range tt.measured {
				if _, ok := res[pid]; !ok {
					t.Errorf("pid %d not measured", pid)
				}
			}
			for _, pid := range tt.gone {
				if err := errs[pid]; !errors.Is(err, ErrGone) {
					t.Errorf("pid %d: error %v, want ErrGone", pid, err)
				}
			}
			for _, pid := range tt.invalid {
				if err := errs[pid]; err == nil || errors.Is(err, ErrGone) {
					t.Errorf("pid %d: error %v, want an invalid pid error", pid, err)
				}
			}
		})
	}
}
