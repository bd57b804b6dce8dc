package procscan

import (
	"math"
	"os"
	"testing"
	"time"
)

func TestAliveBasics(t *testing.T) {
	tests := []struct {
		name string
		pid  int
		want bool
	}{
		{"self", os.Getpid(), true},
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
}

func TestCreateTimeSelf(t *testing.T) {
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
