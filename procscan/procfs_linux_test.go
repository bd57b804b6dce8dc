package procscan

import (
	"os"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	const rest = " 1 1 1 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
	tests := []struct {
		name    string
		line    string
		want    procStat
		wantErr bool
	}{
		{"plain", "42 (bones) S" + rest, procStat{state: 'S', cpuTicks: 300, startTicks: 12345, rssPages: 300}, false},
		{"name with spaces and parens", "42 (a) (b c) Z" + rest, procStat{state: 'Z', cpuTicks: 300, startTicks: 12345, rssPages: 300}, false},
		{"no name", "42 bones S" + rest, procStat{}, true},
		{"truncated", "42 (bones) S 1 1 1", procStat{}, true},
		{"unused field not a number", "42 (bones) S" + rest[:len(rest)-1] + "x", procStat{state: 'S', cpuTicks: 300, startTicks: 12345, rssPages: 300}, false},
		{"bad utime", "42 (bones) S 1 1 1 0 -1 4194560 100 0 0 0 x 50 0 0 20 0 1 0 12345 1000000 300", procStat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStat = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCreateTimeAgreesWithGopsutil(t *testing.T) {
	t.Parallel()
	ours, err := CreateTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ms, err := (&process.Process{Pid: int32(os.Getpid())}).CreateTime()
	if err != nil {
		t.Fatal(err)
	}
	if d := ours.Sub(time.UnixMilli(ms)).Abs(); d > time.Second {
		t.Errorf("CreateTime = %v, gopsutil says %v", ours, time.UnixMilli(ms))
	}
}
