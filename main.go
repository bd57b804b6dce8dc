// Command boneyard serves a dashboard of this host's bones workspaces on
// localhost: which hubs run, which are stuck, idle or orphaned, with the
// button that fixes each.
package main

import (
	"context"
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
	"syscall"
	"time"

	"github.com/cli/browser"
	"golang.org/x/net/netutil"

	"boneyard/handlers"
	"boneyard/internal/collector"
	"boneyard/internal/journal"
	"boneyard/internal/peer"
	"boneyard/internal/state"
	"boneyard/lock"
)

var version = "dev"

const usage = `boneyard serves a dashboard of this host's bones workspaces on localhost.

Usage:
  boneyard [flags]       serve the dashboard and print its bookmarkable URL
  boneyard url [--addr]  print the bookmarkable URL (with the access token): that
                         of the boneyard running for this user (recorded in
                         ~/.bones/boneyard/servers/ while it serves), else the one
                         for --addr; an explicit --addr always wins
  boneyard token rotate  replace the persisted token; the running boneyard ends
                         every session, and old bookmarks stop working
  boneyard version       print the version

Flags:
`

const envHelp = `
Environment:
  BONEYARD_TOKEN  access token to use instead of the one persisted in
                  ~/.bones/boneyard/token (created with mode 0600 on first start)
  HOME            decides ~/.bones: the registry (~/.bones/workspaces), the
                  token, the running servers' records (~/.bones/boneyard/servers/),
                  the audit log (~/.bones/boneyard/audit.log) and the journal of
                  what happened to the hubs (~/.bones/boneyard/events.jsonl, known.json)
  BONES_DIR       relocates each workspace's .bones state directory (lock, hub.log),
                  as it does for bones
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))
	browser.Stdout = stderr
	fs := flag.NewFlagSet("boneyard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", state.DefaultAddr, "listen address `HOST:PORT`; loopback hosts only (127.0.0.0/8, ::1, localhost); port 0 picks a free port")
	interval := fs.Duration("interval", 2*time.Second, "how often to re-check hubs (they die without touching files)")
	open := fs.Bool("open", false, "open the dashboard in the default browser")
	anyUser := fs.Bool("any-local-user", false, "accept connections from every local user's processes, not only yours and root's (turns off the per-connection uid check; the token alone then guards)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), envHelp)
	}
	cmd := ""
	if len(args) > 0 && (args[0] == "url" || args[0] == "version") {
		cmd, args = args[0], args[1:]
	} else if len(args) > 1 && args[0] == "token" && args[1] == "rotate" {
		cmd, args = "token rotate", args[2:]
	} else if len(args) > 0 && args[0] == "token" {
		fmt.Fprintln(stderr, "boneyard: usage: boneyard token rotate")
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "boneyard: unexpected argument %q (see boneyard --help)\n", fs.Arg(0))
		return 2
	}
	if cmd == "version" {
		fmt.Fprintln(stdout, "boneyard", version)
		return 0
	}
	listen, err := state.ListenAddr(*addr)
	if err != nil {
		fmt.Fprintln(stderr, "boneyard:", err)
		return 2
	}
	if *interval <= 0 {
		fmt.Fprintln(stderr, "boneyard: --interval must be positive, e.g. 2s")
		return 2
	}
	dir, err := state.Dir()
	if err == nil && cmd == "token rotate" {
		return rotateToken(stdout, stderr, dir, listen)
	}
	if err == nil {
		var token string
		if token, err = state.LoadToken(dir); err == nil {
			if cmd == "url" {
				return printURL(fs, stdout, stderr, dir, listen, token)
			}
			err = serve(dir, listen, token, serveOptions{interval: *interval, open: *open, anyUser: *anyUser}, stdout)
		}
	}
	if err != nil {
		slog.Error("boneyard stopped", "err", err)
		return 1
	}
	return 0
}

// printURL prints the bookmarkable URL of the boneyard this user runs (an
// explicit --addr wins), from local state only: the token is never sent to
// whatever listens there. A running server whose token is not this one
// (it was started with another BONEYARD_TOKEN) gets a message instead of a
// URL that would only lead to its login page.
func printURL(fs *flag.FlagSet, stdout, stderr io.Writer, dir, listen, token string) int {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "addr" })
	addr := listen
	if !explicit {
		if r, err := state.Running(dir); err == nil {
			if !r.Accepts(token) {
				fmt.Fprintf(stderr, "boneyard: the boneyard at %s (pid %d) uses another token than this one (BONEYARD_TOKEN, else ~/.bones/boneyard/token): "+
					"run 'boneyard url' with the BONEYARD_TOKEN the server was started with\n", r.Addr, r.PID)
				return 1
			}
			addr = r.Addr
		}
	}
	fmt.Fprintln(stdout, state.URL(addr, token))
	return 0
}

// rotateToken writes a new token; the running server (if it uses the token
// file) ends every session within a second, so old bookmarks and cookies
// stop working.
func rotateToken(stdout, stderr io.Writer, dir, listen string) int {
	token, err := state.RotateToken(dir)
	if err != nil {
		fmt.Fprintln(stderr, "boneyard:", err)
		return 1
	}
	if os.Getenv(state.TokenEnv) != "" {
		fmt.Fprintf(stderr, "boneyard: note: %s is set; a server started with it keeps that token until restarted without it\n", state.TokenEnv)
	}
	addr := listen
	if r, err := state.Running(dir); err == nil {
		addr = r.Addr
	}
	fmt.Fprintln(stderr, "boneyard: new token written to "+state.TokenPath(dir)+"; every session of the running boneyard ends; open:")
	fmt.Fprintln(stdout, state.URL(addr, token))
	return 0
}

// openBrowser opens the dashboard through a 0600 file that redirects to
// url, so the token never appears on a command line.
func openBrowser(dir, url string) {
	path, err := state.OpenFile(dir, os.Getpid(), url)
	if err == nil {
		err = browser.OpenFile(path)
	}
	if err != nil {
		slog.Warn("could not open a browser; open the URL yourself", "err", err)
	}
}

// serveOptions are the flags serve acts on.
type serveOptions struct {
	interval time.Duration
	open     bool
	anyUser  bool
}

// HTTP bounds: headers of a few KiB (a browser sends well under 2 KiB), and
// a cap on open connections, above the cap on event streams, so that no
// client can pin unbounded memory.
const (
	maxHeaderBytes = 8 << 10
	maxConns       = 256
)

// guardListener admits only this user's (and root's) connections unless
// anyUser is set, and caps the open connections. Where the platform cannot
// tell a connection's owner it says so once and goes on with the token alone.
func guardListener(ln net.Listener, anyUser bool) net.Listener {
	if anyUser {
		slog.Warn("--any-local-user: other local users' processes may connect; only the token guards the dashboard")
	} else if g, err := peer.Guard(ln, slog.Default()); err != nil {
		slog.Warn("cannot tell which local user a connection comes from on this system; only the token guards the dashboard", "err", err)
	} else {
		ln = g
	}
	return netutil.LimitListener(ln, maxConns)
}

// serve runs the collector and the HTTP server until SIGINT or SIGTERM.
// While it serves, the bound address is recorded in dir for `boneyard url`.
func serve(dir, listen, token string, o serveOptions, stdout io.Writer) error {
	interval, open := o.interval, o.open
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on %s: %w: another boneyard may already serve there ('boneyard url' prints its URL), or pick a free port with --addr 127.0.0.1:0", listen, err)
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	bound := ln.Addr().(*net.TCPAddr)

	// What happened to the hubs survives restarts, in the journal next to
	// the token; a second boneyard of this user shares it.
	jrn, err := journal.Open(dir, journal.Options{StateDir: lock.StateDir})
	if err != nil {
		ln.Close()
		return fmt.Errorf("open the journal: %w", err)
	}
	defer func() {
		if err := jrn.Close(); err != nil {
			slog.Warn("journal close", "err", err)
		}
	}()
	col := collector.New(collector.Options{Interval: interval, Journal: jrn})
	colDone := make(chan error, 1)
	colCtx, stopCollector := context.WithCancel(context.Background())
	defer stopCollector()
	go func() { colDone <- col.Run(colCtx) }()

	// The home directory only shortens paths on the pages; without one they
	// are shown whole.
	home, _ := os.UserHomeDir()
	srv, err := handlers.New(handlers.Config{
		Source: col, Actions: col, Token: token, Host: bound.IP.String(), Port: bound.Port,
		Home: home, AuditPath: filepath.Join(dir, "audit.log"),
	})
	if err != nil {
		ln.Close()
		return err
	}
	forget, err := state.Publish(dir, state.Record{Addr: bound.String(), PID: os.Getpid(), TokenHash: state.HashToken(token), Started: time.Now().UTC()})
	if err != nil {
		ln.Close()
		return err
	}
	defer forget()
	hs := &http.Server{
		Handler:           srv,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(srv.CloseStreams)
	serveDone := make(chan error, 1)
	go func() { serveDone <- hs.Serve(guardListener(ln, o.anyUser)) }()

	url := state.URL(bound.String(), token)
	fmt.Fprintln(stdout, "boneyard listening on "+url)
	if open {
		openBrowser(dir, url)
	}

	select {
	case err := <-serveDone:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(shutCtx)
	stopCollector()
	select {
	case cerr := <-colDone:
		if cerr != nil && !errors.Is(cerr, context.Canceled) {
			slog.Warn("collector stopped", "err", cerr)
		}
	case <-shutCtx.Done():
		slog.Warn("collector did not stop in time")
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
