package procscan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// helperEnv tells a re-executed test binary which role to play instead of
// running the tests.
const helperEnv = "PROCSCAN_TEST_HELPER"

// helperLife bounds how long a helper lingers if a test dies without
// killing it.
const helperLife = 2 * time.Minute

// binDir holds copies of the test binary under the names the scan looks at.
var binDir string

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		runHelper(role)
		return
	}
	dir, err := os.MkdirTemp("", "procscan-bin-")
	if err != nil {
		log.Fatal(err)
	}
	binDir = dir
	if err := copyBinaries(); err != nil {
		os.RemoveAll(dir)
		log.Fatal(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runHelper plays one child-process role:
//   - sleep: idle until killed, like a hub waiting for requests;
//   - exit: exit at once, leaving a zombie until the parent waits;
//   - scan: print Scan's result as JSON;
//   - listen: listen on a loopback TCP port, start one sleeping child, print
//     "<port> <child pid>" and idle.
func runHelper(role string) {
	switch role {
	case "sleep":
		time.Sleep(helperLife)
	case "exit":
		os.Exit(0)
	case "scan":
		procs, err := Scan()
		if err != nil {
			log.Fatal(err)
		}
		if err := json.NewEncoder(os.Stdout).Encode(procs); err != nil {
			log.Fatal(err)
		}
	case "listen":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		defer ln.Close()
		exe, err := os.Executable()
		if err != nil {
			log.Fatal(err)
		}
		kid := exec.Command(exe)
		kid.Env = append(os.Environ(), helperEnv+"=sleep")
		if err := kid.Start(); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %d\n", ln.Addr().(*net.TCPAddr).Port, kid.Process.Pid)
		time.Sleep(helperLife)
	default:
		log.Fatalf("unknown helper role %q", role)
	}
}

// helperNames are the names the test binary is copied under: the hub's
// own and a decoy that merely ends in it.
var helperNames = []string{"bones", "notbones"}

// copyBinaries links (or, across file systems, copies) the test binary into
// binDir under every helper name. It runs before any test starts a process:
// a file still open for writing while another goroutine forks cannot be
// executed (ETXTBSY).
func copyBinaries() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, name := range helperNames {
		if err := os.Link(self, binaryPath(name)); err == nil {
			continue
		}
		if err := copyFile(self, binaryPath(name)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// binaryPath is where the copy of the test binary called name lives.
func binaryPath(name string) string {
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(binDir, name)
}

// helper is a started child process.
type helper struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
}

// startHelper runs the binary copy called name with args in dir, playing
// role. The child is killed and waited for when the test ends.
func startHelper(t *testing.T, name, dir, role string, args ...string) *helper {
	t.Helper()
	path := binaryPath(name)
	return startArgv(t, path, append([]string{path}, args...), dir, role)
}

// startArgv runs the executable at path with argv (argv[0] included, which
// need not be path) in dir, playing role.
func startArgv(t *testing.T, path string, argv []string, dir, role string) *helper {
	t.Helper()
	cmd := &exec.Cmd{Path: path, Args: argv, Dir: dir}
	cmd.Env = append(os.Environ(), helperEnv+"="+role)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &helper{cmd: cmd, stdout: bufio.NewReader(out)}
}

func (h *helper) pid() int { return h.cmd.Process.Pid }

// line reads one line the helper printed.
func (h *helper) line(t *testing.T) string {
	t.Helper()
	s, err := h.stdout.ReadString('\n')
	if err != nil {
		t.Fatalf("read helper output: %v", err)
	}
	return strings.TrimSpace(s)
}

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
