package procscan

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"

	"github.com/shirou/gopsutil/v4/net"
)

func TestResourcesOf(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		t.Skip("listening ports are only read on Linux and Windows")
	}
	h := startHelper(t, "bones", t.TempDir(), "listen", "hub", "start")
	var port, kid int
	if _, err := fmt.Sscan(h.line(), &port, &kid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killPID(kid) })

	r, err := ResourcesOf(h.pid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Ports, []int{port}) {
		t.Errorf("Ports = %v, want [%d]", r.Ports, port)
	}
	if r.Children != 1 {
		t.Errorf("Children = %d, want 1", r.Children)
	}
	if r.RSS == 0 {
		t.Error("RSS = 0")
	}
	if r.Uptime < 0 || r.CPUPercent < 0 {
		t.Errorf("Uptime, CPUPercent = %v, %v", r.Uptime, r.CPUPercent)
	}

	// A killed child the hub has not reaped is a zombie: no longer counted.
	killPID(kid)
	eventually(t, "the grandchild to leave the count", func() bool {
		r, err := ResourcesOf(h.pid())
		return err == nil && r.Children == 0
	})

	h.Kill()
	if _, err := ResourcesOf(h.pid()); !errors.Is(err, ErrGone) {
		t.Errorf("ResourcesOf(dead pid) error = %v, want ErrGone", err)
	}
}

func TestResourcesOfInvalidPID(t *testing.T) {
	t.Parallel()
	for _, pid := range []int{0, -1} {
		if _, err := ResourcesOf(pid); err == nil {
			t.Errorf("ResourcesOf(%d) returned no error", pid)
		}
	}
}

// killPID kills a process the test did not start itself.
func killPID(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

func TestPortsFrom(t *testing.T) {
	t.Parallel()
	listen := func(ip string, port uint32) net.ConnectionStat {
		return net.ConnectionStat{Status: "LISTEN", Laddr: net.Addr{IP: ip, Port: port}}
	}
	tests := []struct {
		name  string
		conns []net.ConnectionStat
		want  []int
	}{
		{"none", nil, nil},
		{"dual stack listed once", []net.ConnectionStat{listen("0.0.0.0", 8080), listen("::", 8080)}, []int{8080}},
		{"sorted", []net.ConnectionStat{listen("127.0.0.1", 9000), listen("127.0.0.1", 80)}, []int{80, 9000}},
		{"established ignored", []net.ConnectionStat{
			{Status: "ESTABLISHED", Laddr: net.Addr{IP: "127.0.0.1", Port: 5555}},
			listen("127.0.0.1", 4222),
		}, []int{4222}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := portsFrom(tt.conns); !slices.Equal(got, tt.want) {
				t.Errorf("portsFrom = %v, want %v", got, tt.want)
			}
		})
	}
}
