package procscan

import (
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// Rows as the kernel prints them; widths as in /proc/net/tcp and tcp6.
const (
	tcpHeader    = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	tcpListen4   = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 679882 1 0000000000000000 100 0 0 10 0"
	tcpAny4      = "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21387 1 0000000000000000 100 0 0 10 5"
	tcpEstab4    = "   2: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 681001 1 0000000000000000 20 4 30 10 -1"
	tcpTimeWait4 = "   3: 0100007F:D432 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000"
	tcp6Header   = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	tcpListen6   = "   0: 00000000000000000000000001000000:A4F1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 702311 1 0000000000000000 100 0 0 10 0"
	tcpEstab6    = "   1: 00000000000000000000000001000000:A4F1 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000  1000        0 702400 1 0000000000000000 20 4 30 10 -1"
)

func TestParseListenLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		line      string
		inode     uint64
		port      int
		wantFound bool
	}{
		{"ipv4 loopback listener", tcpListen4, 679882, 8080, true},
		{"ipv4 wildcard listener", tcpAny4, 21387, 22, true},
		{"ipv6 loopback listener", tcpListen6, 702311, 42225, true},
		{"established", tcpEstab4, 0, 0, false},
		{"established ipv6", tcpEstab6, 0, 0, false},
		{"time wait", tcpTimeWait4, 0, 0, false},
		{"header", tcpHeader, 0, 0, false},
		{"ipv6 header", tcp6Header, 0, 0, false},
		{"empty", "", 0, 0, false},
		{"truncated before inode", "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0", 0, 0, false},
		{"bad port", strings.Replace(tcpListen4, ":1F90", ":ZZZZ", 1), 0, 0, false},
		{"no port", strings.Replace(tcpListen4, "0100007F:1F90", "0100007F", 1), 0, 0, false},
		{"bad inode", strings.Replace(tcpListen4, "679882", "x", 1), 0, 0, false},
		{"slot wider than four digits", strings.Replace(tcpListen4, "   0:", "12345:", 1), 679882, 8080, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inode, port, ok := parseListenLine([]byte(tt.line))
			if inode != tt.inode || port != tt.port || ok != tt.wantFound {
				t.Errorf("parseListenLine = %d, %d, %v; want %d, %d, %v", inode, port, ok, tt.inode, tt.port, tt.wantFound)
			}
		})
	}
}

func TestListenersParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		table string
		want  listeners
	}{
		{"ipv4", strings.Join([]string{tcpHeader, tcpListen4, tcpAny4, tcpEstab4, tcpTimeWait4}, "\n") + "\n",
			listeners{679882: 8080, 21387: 22}},
		{"ipv6", strings.Join([]string{tcp6Header, tcpListen6, tcpEstab6}, "\n") + "\n", listeners{702311: 42225}},
		{"header only", tcpHeader + "\n", listeners{}},
		{"no final newline", tcpHeader + "\n" + tcpListen4, listeners{679882: 8080}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(listeners)
			if err := got.parse(strings.NewReader(tt.table), make([]byte, tableReadSize)); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("parse = %v, want %v", got, tt.want)
			}
			for inode, port := range tt.want {
				if got[inode] != port {
					t.Errorf("parse = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestSocketInode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		link string
		want uint64
	}{
		{"socket:[679882]", 679882},
		{"socket:[]", 0},
		{"socket:[12", 0},
		{"pipe:[679882]", 0},
		{"anon_inode:[eventpoll]", 0},
		{"/dev/null", 0},
	}
	for _, tt := range tests {
		if got := socketInode([]byte(tt.link)); got != tt.want {
			t.Errorf("socketInode(%q) = %d, want %d", tt.link, got, tt.want)
		}
	}
}

// holdSockets starts an idle process (sleep) that inherits files (sockets)
// as extra descriptors, so the sockets are the child's too; the caller's
// copies can then be closed. The child is killed when the test ends and
// exits on its own after two minutes should that fail.
func holdSockets(tb testing.TB, files ...*os.File) int {
	tb.Helper()
	cmd := sleepCommand(tb, "120")
	cmd.ExtraFiles = files
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

// listenFile listens on addr and returns the listening socket as a file and
// its port. Both the listener and the file are closed when the test ends.
func listenFile(tb testing.TB, network, addr string) (*os.File, int, error) {
	tb.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, 0, err
	}
	tb.Cleanup(func() { ln.Close() })
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f, ln.Addr().(*net.TCPAddr).Port, nil
}

func TestResourcesOfManyListeningPorts(t *testing.T) {
	t.Parallel()
	// A connection to a listener the test keeps: the child holds the client
	// end, an established socket whose ephemeral port must not count.
	server, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	conn, err := net.Dial("tcp", server.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	connFile, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer connFile.Close()

	tests := []struct {
		name  string
		addrs []string // network/address pairs the child listens on
	}{
		{"ipv4 loopback", []string{"tcp4", "127.0.0.1:0"}},
		{"ipv6 loopback", []string{"tcp6", "[::1]:0"}},
		{"both", []string{"tcp4", "127.0.0.1:0", "tcp6", "[::1]:0"}},
		{"none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := []*os.File{connFile}
			var want []int
			for i := 0; i < len(tt.addrs); i += 2 {
				f, port, err := listenFile(t, tt.addrs[i], tt.addrs[i+1])
				if err != nil {
					t.Skipf("cannot listen on %s here: %v", tt.addrs[i+1], err)
				}
				files, want = append(files, f), append(want, port)
			}
			pid := holdSockets(t, files...)
			for _, f := range files[1:] {
				f.Close() // the listeners live on in the child only
			}
			slices.Sort(want)

			res, errs := ResourcesOfMany([]int{pid})
			if err := errs[pid]; err != nil {
				t.Fatal(err)
			}
			if got := res[pid].Ports; !slices.Equal(got, want) {
				t.Errorf("Ports = %v, want %v (connected from port %d, test listens on %d)",
					got, want, conn.LocalAddr().(*net.TCPAddr).Port, server.Addr().(*net.TCPAddr).Port)
			}
			for _, src := range listenerSources {
				l, err := src.read()
				if err != nil {
					t.Logf("%s unavailable: %v", src.name, err)
					continue
				}
				if got, err := l.portsOf(int32(pid)); err != nil || !slices.Equal(got, want) {
					t.Errorf("ports from %s = %v, %v; want %v", src.name, got, err, want)
				}
			}
			single, err := ResourcesOf(pid)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(single.Ports, want) {
				t.Errorf("ResourcesOf Ports = %v, want %v", single.Ports, want)
			}
		})
	}
}

// listenerSources are the two ways of listing listening sockets.
var listenerSources = []struct {
	name string
	read func() (listeners, error)
}{{"sock_diag", diagListeners}, {"proc_tables", procListeners}}

// benchHubs is how many listening fake hubs the resource benchmarks measure.
const benchHubs = 20

// listeningHubs starts benchHubs fake hubs, each holding one listening
// socket, and returns their pids. It is bounded in count and in time.
func listeningHubs(b *testing.B) []int {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	pids := make([]int, 0, benchHubs)
	for range benchHubs {
		if time.Now().After(deadline) {
			b.Fatalf("started only %d hubs in 30s", len(pids))
		}
		f, _, err := listenFile(b, "tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		pids = append(pids, holdSockets(b, f))
	}
	return pids
}

// measureEach measures pids one ResourcesOf call at a time.
func measureEach(b *testing.B, pids []int) {
	for _, pid := range pids {
		if r, err := ResourcesOf(pid); err != nil || len(r.Ports) != 1 {
			b.Fatalf("ResourcesOf(%d) = %+v, %v; want one port", pid, r, err)
		}
	}
}

// measureBatch measures pids with one ResourcesOfMany call.
func measureBatch(b *testing.B, pids []int) {
	res, errs := ResourcesOfMany(pids)
	if len(errs) > 0 || len(res) != len(pids) {
		b.Fatalf("ResourcesOfMany: %d measured, errors %v", len(res), errs)
	}
}

// tcpSockets counts the rows of the host's TCP tables: the size of what a
// table read goes through.
func tcpSockets() float64 {
	n := 0
	for _, path := range tcpTables {
		if data, err := os.ReadFile(path); err == nil {
			n += strings.Count(string(data), "\n") - 1
		}
	}
	return float64(n)
}

// BenchmarkResourcesOf measures benchHubs listening hubs one pid at a time,
// as a collector without the batch call would.
func BenchmarkResourcesOf(b *testing.B) {
	pids := listeningHubs(b)
	for b.Loop() {
		measureEach(b, pids)
	}
	b.ReportMetric(tcpSockets(), "sockets")
}

// BenchmarkResourcesOfMany measures the same hubs with one batch call.
func BenchmarkResourcesOfMany(b *testing.B) {
	pids := listeningHubs(b)
	for b.Loop() {
		measureBatch(b, pids)
	}
	b.ReportMetric(tcpSockets(), "sockets")
}

// BenchmarkResourcesInterleaved alternates the two ways over the same hubs
// and reports their ratio, which a shared host's swinging load disturbs
// less than a ratio of two separate benchmarks.
func BenchmarkResourcesInterleaved(b *testing.B) {
	pids := listeningHubs(b)
	var each, batch time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		measureEach(b, pids)
		mid := time.Now()
		measureBatch(b, pids)
		each += mid.Sub(start)
		batch += time.Since(mid)
		n++
	}
	b.ReportMetric(float64(each.Nanoseconds())/float64(n), "each-ns/op")
	b.ReportMetric(float64(batch.Nanoseconds())/float64(n), "batch-ns/op")
	b.ReportMetric(float64(each)/float64(batch), "each/batch")
	b.ReportMetric(tcpSockets(), "sockets")
}

// BenchmarkListeners compares the two ways of listing the host's listening
// sockets: sock_diag, and the /proc tables it falls back to.
func BenchmarkListeners(b *testing.B) {
	for _, src := range listenerSources {
		b.Run(src.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := src.read(); err != nil {
					b.Skipf("%s unavailable: %v", src.name, err)
				}
			}
			b.ReportMetric(tcpSockets(), "sockets")
		})
	}
}
