package procscan

import (
	"os"
	"testing"
)

func TestExactRSS(t *testing.T) {
	t.Parallel()
	dead := startSleep(t, "120")
	dead.Process.Kill()
	dead.Wait()
	tests := []struct {
		name    string
		pid     int32
		wantRSS bool
	}{
		{"this process", int32(os.Getpid()), true},
		{"exited process", int32(dead.Process.Pid), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exactRSS(tt.pid); (got > 0) != tt.wantRSS {
				t.Errorf("exactRSS(%d) = %d, want nonzero: %v", tt.pid, got, tt.wantRSS)
			}
		})
	}
}
