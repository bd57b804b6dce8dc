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

	"boneyard/handlers"
	"boneyard/internal/collector"
	"boneyard/internal/state"
)

var version = "dev"

const usage = `boneyard serves a dashboard of this host's bones workspaces on localhost.

Usage:
  boneyard [flags]       serve the dashboard and print its bookmarkable URL
  boneyard url [--addr]  print the bookmarkable URL (with the access token): that
                         of the boneyard running for this user (recorded in
                         ~/.bones/boneyard/addr while it serves), else the one
                         for --addr; an explicit --addr always wins
  boneyard version       print the version

Flags:
`

const envHelp = `
Environment:
  BONEYARD_TOKEN  access token to use instead of the one persisted in
                  ~/.bones/boneyard/token (created with mode 0600 on first start)
  HOME            decides ~/.bones: the registry (~/.bones/workspaces), the
                  token, the running server's address (~/.bones/boneyard/addr)
                  and the audit log (~/.bones/boneyard/audit.log)
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
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), envHelp)
	}
	cmd := ""
	if len(args) > 0 && (args[0] == "url" || args[0] == "version") {
		cmd, args = args[0], args[1:]
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
	if err == nil {
		var token string
		if token, err = state.LoadToken(dir); err == nil {
			if cmd == "url" {
				return printURL(stdout, stderr, urlAddr(fs, dir, listen), token)
			}
			err = serve(dir, listen, token, *interval, *open, stdout)
		}
	}
	if err != nil {
		slog.Error("boneyard stopped", "err", err)
		return 1
	}
	return 0
}

// printURL prints the bookmarkable URL, unless the boneyard serving there
// refuses the token: then the URL would only lead to its 401 page.
func printURL(stdout, stderr io.Writer, addr, token string) int {
	if ok, err := state.TokenAccepted(addr, token, time.Second); err == nil && !ok {
		fmt.Fprintf(stderr, "boneyard: the boneyard at %s uses another token than this one (BONEYARD_TOKEN, else ~/.bones/boneyard/token): "+
			"run 'boneyard url' with the BONEYARD_TOKEN the server was started with\n", addr)
		return 1
	}
	fmt.Fprintln(stdout, state.URL(addr, token))
	return 0
}

// urlAddr is the address `boneyard url` prints: an explicit --addr, else
// the running server's recorded one, else the default.
func urlAddr(fs *flag.FlagSet, dir, listen string) string {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "addr" })
	if !explicit {
		if addr, ok := state.RunningAddr(dir, time.Second); ok {
			return addr
		}
	}
	return listen
}

// serve runs the collector and the HTTP server until SIGINT or SIGTERM.
// While it serves, the bound address is recorded in dir for `boneyard url`.
func serve(dir, listen, token string, interval time.Duration, open bool, stdout io.Writer) error {
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

	col := collector.New(collector.Options{Interval: interval})
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
	forget, err := state.RecordAddr(dir, bound.String())
	if err != nil {
		ln.Close()
		return err
	}
	defer forget()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(srv.CloseStreams)
	serveDone := make(chan error, 1)
	go func() { serveDone <- hs.Serve(ln) }()

	url := state.URL(bound.String(), token)
	fmt.Fprintln(stdout, "boneyard listening on "+url)
	if open {
		if err := browser.OpenURL(url); err != nil {
			slog.Warn("could not open a browser; open the URL yourself", "err", err)
		}
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
