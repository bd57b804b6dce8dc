//go:build unix

package procscan

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the user and system time used so far by this process and by
// the children it has waited for.
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			return 0
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}

// TestResourcesCPUTime checks the total CPU time against getrusage: a
// process that burns 200 ms of CPU between two measurements shows that
// much more, to the kernel's tick.
func TestResourcesCPUTime(t *testing.T) {
	pid := os.Getpid()
	before, err := ResourcesOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	start := selfCPU()
	for selfCPU()-start < 200*time.Millisecond {
		for i := 0; i < 1e5; i++ {
			_ = i * i
		}
	}
	burnt := selfCPU() - start
	after, err := ResourcesOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	got := after.CPUTime - before.CPUTime
	// Ticks are 10 ms; other goroutines of the test may add a little.
	if got < burnt-20*time.Millisecond || got > burnt+200*time.Millisecond {
		t.Errorf("CPUTime grew by %v while getrusage counted %v", got, burnt)
	}
}

// selfCPU is this process's user and system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
