//go:build linux

package peer

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dialEnv makes the re-executed test binary a client: it sends one HTTP
// request to the address in the variable and prints what comes back.
const dialEnv = "PEER_TEST_DIAL"

func TestMain(m *testing.M) {
	if addr := os.Getenv(dialEnv); addr != "" {
		os.Exit(dial(addr))
	}
	os.Exit(m.Run())
}

func dial(addr string) int {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		fmt.Println("dial error:", err)
		return 1
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", addr)
	b, _ := io.ReadAll(conn)
	os.Stdout.Write(b)
	return 0
}

// serve runs an HTTP server answering "hello" on a guarded 127.0.0.1 port.
func serve(t *testing.T) (*Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Guard(ln, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		ln.Close()
		t.Fatalf("Guard: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(g)
	t.Cleanup(func() { srv.Close() })
	return g.(*Listener), ln.Addr().String()
}

// client runs this test binary as a client of addr with the given
// credentials (nil: this process's) and returns its output.
func client(t *testing.T, bin, addr string, cred *syscall.Credential) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), dialEnv+"="+addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("client: %v: %s", err, out.String())
	}
	return out.String()
}

// TestOtherUserRefused runs the same request as this user and as another
// one (nobody, 65534; root can switch to it): only the first is answered.
func TestOtherUserRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("switching to another uid needs root")
	}
	// A copy of the test binary that another user may execute.
	dir, err := os.MkdirTemp("", "peer-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	self, _ := os.Executable()
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "peer.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}

	g, addr := serve(t)
	if out := client(t, bin, addr, nil); !strings.HasSuffix(out, "\r\n\r\nhello") {
		t.Fatalf("own uid got %q, want the answer", out)
	}
	if out := client(t, bin, addr, &syscall.Credential{Uid: 65534, Gid: 65534}); out != "" {
		t.Fatalf("uid 65534 got %q, want the connection closed unanswered", out)
	}
	if got := g.Refused(); got != 1 {
		t.Errorf("Refused() = %d, want 1", got)
	}
	if out := client(t, bin, addr, nil); !strings.HasSuffix(out, "hello") {
		t.Fatalf("own uid after a refusal got %q", out)
	}
}

func TestOwnUserServed(t *testing.T) {
	t.Parallel()
	_, addr := serve(t)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "hello" {
		t.Errorf("got %q", b)
	}
}

// BenchmarkGuardedAccept is a connection's full cost through the guard:
// dial, accept with the uid check, close.
func BenchmarkGuardedAccept(b *testing.B) {
	for _, guarded := range []bool{false, true} {
		b.Run(fmt.Sprintf("guarded=%v", guarded), func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			var l net.Listener = ln
			if guarded {
				if l, err = Guard(ln, nil); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				s, err := l.Accept()
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
				c.Close()
			}
		})
	}
}
