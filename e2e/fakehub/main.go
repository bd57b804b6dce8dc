// Command fakehub stands in for `bones hub start` in the end-to-end suite.
//
// Built as a binary named `bones` and started as `bones hub start [flags]`
// with its working directory in a workspace, it looks like a real hub to the
// process scan: it serves HTTP on 127.0.0.1, holds a second port as its NATS
// address, records itself in the registry through the registry package, and
// removes its entry when it exits cleanly on SIGTERM, as bones does. Its
// modes reproduce the hub states the dashboard must tell apart.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"boneyard/registry"
)

// Modes a fake hub can run in.
const (
	modeNormal       = "normal"       // answers HTTP; exits cleanly on SIGTERM
	modeIgnoreTerm   = "ignore-term"  // like normal, but only SIGKILL stops it
	modeHang         = "hang"         // accepts connections and never answers: a stopped hub
	modeNoMarker     = "no-marker"    // no .bones/agent.id: an orphan
	modeUnregistered = "unregistered" // writes no registry entry: a process-only orphan
)

var modes = []string{modeNormal, modeIgnoreTerm, modeHang, modeNoMarker, modeUnregistered}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fakehub:", err)
		os.Exit(1)
	}
}

// config is what the command line asks for.
type config struct {
	mode    string
	name    string
	agentID string
}

func parseArgs(args []string) (config, error) {
	if len(args) < 2 || args[0] != "hub" || args[1] != "start" {
		return config{}, errors.New("usage: bones hub start [--mode MODE] [--name NAME] [--agent-id ID]")
	}
	fs := flag.NewFlagSet("bones hub start", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.mode, "mode", modeNormal, "one of "+strings.Join(modes, ", "))
	fs.StringVar(&c.name, "name", "", "workspace name (default: base name of the working directory)")
	fs.StringVar(&c.agentID, "agent-id", "", "content of .bones/agent.id when the hub creates it (default: fake-agent-<pid>)")
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

// run starts the hub, prints one "ready" line to out and serves until a
// signal ends it.
func run(args []string, out io.Writer) error {
	c, err := parseArgs(args)
	if err != nil {
		return err
	}
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

	// Signals are set up before anything is announced so that a SIGTERM sent
	// right after "ready" is never lost or fatal.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if c.mode == modeIgnoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}

	hub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("hub listener: %w", err)
	}
	defer hub.Close()
	nats, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("nats listener: %w", err)
	}
	defer nats.Close()

	if c.mode == modeHang {
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
			return fmt.Errorf("register hub: %w", err)
		}
	}
	fmt.Fprintf(out, "ready pid=%d hub_url=%s nats_url=%s\n", entry.HubPID, entry.HubURL, entry.NATSURL)

	sig := <-sigs
	slog.Info("fakehub stopping", "signal", sig.String(), "pid", entry.HubPID)
	if c.mode != modeUnregistered {
		// Only while the entry still names this process: a newer hub's survives.
		return registry.RemoveEntry(registry.Entry{Cwd: cwd, HubPID: os.Getpid()})
	}
	return nil
}

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
