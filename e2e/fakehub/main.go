//go:build unix

// Command fakehub stands in for the bones CLI's hub verbs in the end-to-end
// suite, following what was observed of the real one (start, stop, crash).
//
// Built as a binary named `bones`, it answers:
//
//	bones hub start [--detach] [--mode MODE] [--name NAME] [--agent-id ID] [--repo-port N] [--coord-port N]
//	bones hub stop [--force]
//
// Started in a workspace, `hub start` looks like a real hub to the process
// scan: it serves HTTP on 127.0.0.1, holds a second port as its NATS
// address, writes <bd>/hub.pid before it binds, logs JSON lifecycle lines to
// <bd>/hub.log, records itself in the registry through the registry package,
// and on SIGTERM logs `hub: stopping`, removes hub.pid and its own registry
// entry, and logs `hub: stopped`, as bones does. SIGKILL leaves everything
// behind. Its modes reproduce the hub states the dashboard must tell apart.
// <bd> is <workspace>/.bones, or $BONES_DIR.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"boneyard/lock"
	"boneyard/procscan"
	"boneyard/registry"
)

// Modes a fake hub can run in.
const (
	modeNormal       = "normal"       // answers HTTP; exits cleanly on SIGTERM
	modeIgnoreTerm   = "ignore-term"  // like normal, but only SIGKILL stops it
	modeHang         = "hang"         // accepts connections and never answers: a stopped hub
	modeNoMarker     = "no-marker"    // no .bones/agent.id: an orphan
	modeUnregistered = "unregistered" // writes no registry entry: a process-only orphan
	modeHangTerm     = "hang-term"    // never answers and ignores SIGTERM: a wedged hub only SIGKILL ends
)

var modes = []string{modeNormal, modeIgnoreTerm, modeHang, modeNoMarker, modeUnregistered, modeHangTerm}

// foregroundEnv is set by a detaching start in the hub it runs, as bones does.
const foregroundEnv = "BONES_HUB_FOREGROUND"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a command line and returns the exit code; bones prints
// every error to stderr and exits 1.
func run(args []string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) >= 2 && args[0] == "hub" && args[1] == "stop":
		err = runStop(args[2:])
	default:
		var c config
		if c, err = parseArgs(args); err == nil {
			if c.detach {
				err = detach(c, stderr)
			} else {
				err = serve(c, stdout)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// config is what `hub start` is asked for.
type config struct {
	mode      string
	name      string
	agentID   string
	detach    bool
	repoPort  int
	coordPort int
}

func parseArgs(args []string) (config, error) {
	if len(args) < 2 || args[0] != "hub" || args[1] != "start" {
		return config{}, errors.New("usage: bones hub start [--detach] [--mode MODE] [--name NAME] [--agent-id ID] | bones hub stop [--force]")
	}
	fs := flag.NewFlagSet("bones hub start", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c config
	fs.StringVar(&c.mode, "mode", modeNormal, "one of "+strings.Join(modes, ", "))
	fs.StringVar(&c.name, "name", "", "workspace name (default: base name of the working directory)")
	fs.StringVar(&c.agentID, "agent-id", "", "content of .bones/agent.id when the hub creates it (default: fake-agent-<pid>)")
	fs.BoolVar(&c.detach, "detach", false, "run the hub in the background and return once it is ready")
	fs.IntVar(&c.repoPort, "repo-port", 0, "hub (fossil) port; default: the recorded one, else a free one")
	fs.IntVar(&c.coordPort, "coord-port", 0, "NATS port; default: the recorded one, else a free one")
	if err := fs.Parse(args[2:]); err != nil {
		return config{}, err
	}
	known := false
	for _, m := range modes {
		known = known || m == c.mode
	}
	if !known {
		return config{}, fmt.Errorf("unknown mode %q: use one of %s", c.mode, strings.Join(modes, ", "))
	}
	return c, nil
}

// serve runs the hub in the foreground: it prints one "ready" line to out
// and serves until a signal ends it.
func serve(c config, out io.Writer) error {
	cwd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if c.name == "" {
		c.name = filepath.Base(cwd)
	}
	if c.agentID == "" {
		c.agentID = fmt.Sprintf("fake-agent-%d", os.Getpid())
	}
	bd := lock.StateDir(cwd)
	// The gate of bones: a live hub.pid means a hub runs; say nothing. The
	// detached child's parent has checked already, and the child's own pid
	// may be what a stale file names after pid reuse.
	if os.Getenv(foregroundEnv) == "" {
		if pid := livePID(filepath.Join(bd, "hub.pid")); pid > 0 && pid != os.Getpid() {
			return nil
		}
	}

	// Signals are set up before anything is announced so that a SIGTERM sent
	// right after "ready" is never lost or fatal.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if c.mode == modeIgnoreTerm || c.mode == modeHangTerm {
		signal.Ignore(syscall.SIGTERM)
	}

	if err := os.MkdirAll(bd, 0o755); err != nil {
		return fmt.Errorf("state dir %s: %w", bd, err)
	}
	log := openLog(bd)
	defer log.Close()
	pidPath := filepath.Join(bd, "hub.pid")
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("hub: write %s: %w", pidPath, err)
	}

	hub, err := net.Listen("tcp", portAddr(c.repoPort))
	if err != nil {
		log.line("ERROR", "hub: bring-up failed: "+err.Error())
		return fmt.Errorf("hub: hub: bind HTTP listener on %s: %w", portAddr(c.repoPort), err)
	}
	defer hub.Close()
	nats, err := net.Listen("tcp", portAddr(c.coordPort))
	if err != nil {
		log.line("ERROR", "hub: bring-up failed: "+err.Error())
		return fmt.Errorf("hub: nats listener: %w", err)
	}
	defer nats.Close()
	log.line("INFO", fmt.Sprintf("hub: starting (pid=%d, repo-port=%d, coord-port=%d)",
		os.Getpid(), hub.Addr().(*net.TCPAddr).Port, nats.Addr().(*net.TCPAddr).Port))

	if c.mode == modeHang || c.mode == modeHangTerm {
		go hang(hub)
	} else {
		srv := &http.Server{Handler: http.HandlerFunc(answer), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(hub)
	}

	if c.mode != modeNoMarker {
		if err := writeMarker(cwd, c.agentID); err != nil {
			return err
		}
	}
	entry := registry.Entry{
		Cwd:       cwd,
		Name:      c.name,
		HubURL:    "http://" + hub.Addr().String(),
		NATSURL:   "nats://" + nats.Addr().String(),
		HubPID:    os.Getpid(),
		StartedAt: time.Now().UTC(),
	}
	if c.mode != modeUnregistered {
		if err := registry.Write(entry); err != nil {
			log.line("WARN", "hub: registry write failed (non-fatal): "+err.Error())
		}
	}
	log.line("INFO", "hub: ready")
	fmt.Fprintf(out, "ready pid=%d hub_url=%s nats_url=%s\n", entry.HubPID, entry.HubURL, entry.NATSURL)

	<-sigs
	log.line("INFO", "hub: stopping")
	if pid, err := readPID(pidPath); err == nil && pid == os.Getpid() {
		os.Remove(pidPath)
	}
	var rmErr error
	if c.mode != modeUnregistered {
		// Only while the entry still names this process: a newer hub's survives.
		rmErr = registry.RemoveEntry(registry.Entry{Cwd: cwd, HubPID: os.Getpid()})
	}
	log.line("INFO", "hub: stopped")
	return rmErr
}

func portAddr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// answer is the whole HTTP surface of a healthy hub: any response tells a
// prober that the hub is serving.
func answer(w http.ResponseWriter, _ *http.Request) {
	io.WriteString(w, "fake bones hub\n")
}

// hang accepts connections and never answers, like a wedged hub. Each
// connection is drained until the client gives up, so nothing piles up.
func hang(l net.Listener) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			io.Copy(io.Discard, conn)
		}()
	}
}

// writeMarker creates <cwd>/.bones/agent.id unless it already exists, so a
// test can prepare its own marker.
func writeMarker(cwd, agentID string) error {
	dir := filepath.Join(cwd, ".bones")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("marker dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, "agent.id")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("marker %s: %w", path, err)
	}
	if _, err := fmt.Fprintln(f, agentID); err != nil {
		f.Close()
		return fmt.Errorf("marker %s: %w", path, err)
	}
	return f.Close()
}

// readPID reads a pid file as bones writes it: a decimal pid and a newline.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: not a pid: %q", path, b)
	}
	return pid, nil
}

// livePID returns the pid a pid file names if that process is alive (any
// process: bones does not check what it is), else 0.
func livePID(path string) int {
	pid, err := readPID(path)
	if err != nil || !alive(pid) {
		return 0
	}
	return pid
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool { return procscan.Alive(pid) }
