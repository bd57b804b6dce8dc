package procscan

import (
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// TestMain lets the test binary play one child-process role:
//   - sleep: idle until killed, like a hub waiting for requests;
//   - exit: exit at once, leaving a zombie until the parent waits;
//   - scan: print Scan's result as JSON;
//   - listen: listen on a loopback TCP port, start one sleeping child,
//     report "ready <port> <child pid>" and idle.
func TestMain(m *testing.M) {
	hubtest.Main(m, map[string]func() int{
		"sleep":  hubtest.Sleep,
		"scan":   scan,
		"listen": listen,
	})
}

func scan() int {
	procs, err := Scan()
	if err != nil {
		log.Fatal(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(procs); err != nil {
		log.Fatal(err)
	}
	return 0
}

func listen() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	// Not waited for: once killed, it stays a zombie child of this process.
	kid := hubtest.Command(exe, "sleep")
	if err := kid.Start(); err != nil {
		log.Fatal(err)
	}
	hubtest.Ready(fmt.Sprint(ln.Addr().(*net.TCPAddr).Port), fmt.Sprint(kid.Process.Pid))
	return hubtest.Linger()
}

// binDir holds the links of the test binary.
func binDir() string { return filepath.Dir(hubtest.Bin("bones")) }

// binaryPath is where the test binary linked as name ("bones" or
// "notbones") lives.
func binaryPath(name string) string { return hubtest.Bin(name) }

// helper is a started child process.
type helper struct {
	*hubtest.Proc
}

// startHelper runs the binary linked as name with args in dir, playing
// role. The child is killed and waited for when the test ends.
func startHelper(t *testing.T, name, dir, role string, args ...string) *helper {
	t.Helper()
	path := binaryPath(name)
	return startArgv(t, path, append([]string{path}, args...), dir, role)
}

// startArgv runs the executable at path with argv (argv[0] included, which
// need not be path) in dir, playing role. An exited child is left a zombie
// until the test kills it.
func startArgv(t *testing.T, path string, argv []string, dir, role string) *helper {
	t.Helper()
	return &helper{hubtest.Start(t, hubtest.Options{
		Mode: role, Dir: dir, Path: path, Argv0: argv[0], Args: argv[1:], NoReap: true,
	})}
}

func (h *helper) pid() int { return h.PID }

// line returns what the helper reported on its ready line.
func (h *helper) line() string { return strings.Join(h.Ready, " ") }

// eventually polls cond every 10 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
