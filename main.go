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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cli/browser"
	"golang.org/x/net/netutil"

	"boneyard/handlers"
	"boneyard/internal/bonescli"
	"boneyard/internal/collector"
	"boneyard/internal/journal"
	"boneyard/internal/metrics"
	"boneyard/internal/peer"
	"boneyard/internal/service"
	"boneyard/internal/state"
	buildinfo "boneyard/internal/version"
	"boneyard/lock"
	"boneyard/registry"
)

// version is stamped with -ldflags '-X main.version=...'; unset, the
// build's own information tells it.
var version = buildinfo.Unset

const usage = `boneyard serves a dashboard of this host's bones workspaces on localhost.

Usage:
  boneyard [flags]       serve the dashboard and print its bookmarkable URL
  boneyard url [--addr]  print the bookmarkable URL (with the access token): that
                         of the boneyard running for this user (recorded in
                         ~/.bones/boneyard/servers/ while it serves), else the one
                         for --addr; an explicit --addr always wins
  boneyard token rotate  replace the persisted token; the running boneyard ends
                         every session, and old bookmarks stop working
  boneyard version       print the version (from the build's module and VCS
                         information when none was stamped in)
  boneyard service install [--addr] [--interval] [--bones] [--read-only] [--dry-run]
                         run boneyard at login and restart it if it dies, with
                         these flags: a systemd user unit (Linux) or a launchd
                         agent (macOS); --dry-run prints the file and commands
  boneyard service uninstall [--dry-run]
                         stop the service and remove it
  boneyard service status
                         say whether the service runs, and print its URL

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
	bonesPath := fs.String("bones", "", "the bones CLI `PATH` that starts and stops hubs; default: bones on PATH (without one, Start, Stop and Restart are shown turned off)")
	readOnly := fs.Bool("read-only", false, "serve every page and API but no action: no buttons, every change answered 403 (a dashboard for a shared screen)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), envHelp)
	}
	cmd := ""
	if len(args) > 0 && args[0] == "service" {
		return runService(args[1:], stdout, stderr)
	}
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
		fmt.Fprintln(stdout, "boneyard", buildinfo.String(version))
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
	bones, noBones := bonescli.Find(*bonesPath)
	if noBones != nil && *bonesPath != "" && cmd == "" {
		fmt.Fprintln(stderr, "boneyard:", noBones)
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
			err = serve(dir, listen, token, serveOptions{interval: *interval, open: *open, anyUser: *anyUser, readOnly: *readOnly, bones: bones, noBones: noBones}, stdout)
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
	if !explicit {
		if r, err := state.Running(dir); err == nil {
			return printRunning(stdout, stderr, r, token)
		}
	}
	fmt.Fprintln(stdout, state.URL(listen, token))
	return 0
}

// printRunning prints the URL of the running server r, and on stderr
// whether it is read-only.
func printRunning(stdout, stderr io.Writer, r state.Record, token string) int {
	if !r.Accepts(token) {
		fmt.Fprintf(stderr, "boneyard: the boneyard at %s (pid %d) uses another token than this one (BONEYARD_TOKEN, else ~/.bones/boneyard/token): "+
			"run 'boneyard url' with the BONEYARD_TOKEN the server was started with\n", r.Addr, r.PID)
		return 1
	}
	fmt.Fprintln(stdout, state.URL(r.Addr, token))
	if r.ReadOnly {
		fmt.Fprintln(stderr, "(read-only)")
	}
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
	readOnly bool
	bones    *bonescli.CLI // nil: hub start/stop are off, for the reason in noBones
	noBones  error
}

// HTTP bounds: headers of a few KiB (a browser sends well under 2 KiB), and
// a cap on open connections, above the cap on event streams, so that no
// client can pin unbounded memory.
const (
	maxHeaderBytes = 8 << 10
	maxConns       = 256
)

// guardListeners admits only this user's (and root's) connections on every
// listener unless anyUser is set, and caps the open connections over all of
// them at maxConns. Where the platform cannot tell a connection's owner it
// says so once and goes on with the token alone.
func guardListeners(anyUser bool, lns ...net.Listener) []net.Listener {
	out := make([]net.Listener, len(lns))
	guard := !anyUser
	if anyUser {
		slog.Warn("--any-local-user: other local users' processes may connect; only the token guards the dashboard")
	}
	for i, ln := range lns {
		if guard {
			g, err := peer.Guard(ln, slog.Default())
			if err != nil {
				slog.Warn("cannot tell which local user a connection comes from on this system; only the token guards the dashboard", "err", err)
				guard = false
				for j := range i {
					out[j] = lns[j]
				}
			} else {
				ln = g
			}
		}
		out[i] = ln
	}
	for i := range out {
		out[i] = netutil.LimitListener(out[i], maxConns/len(out))
	}
	return out
}

// listenTwin listens on the other loopback address (::1 for 127.0.0.1 and
// the rest of 127.0.0.0/8, 127.0.0.1 for ::1) on bound's port, or returns
// nil when it cannot (no IPv6, or the port is taken there).
func listenTwin(bound *net.TCPAddr) net.Listener {
	other := "::1"
	if bound.IP.To4() == nil {
		other = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(other, strconv.Itoa(bound.Port)))
	if err != nil {
		return nil
	}
	return ln
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
	// A browser resolves localhost to [::1] as well as 127.0.0.1 and may try
	// either: both must be boneyard's, or localhost is refused.
	twin := listenTwin(bound)
	if twin != nil {
		defer twin.Close()
	} else {
		slog.Warn("could not also listen on the other loopback address of this port; open boneyard as http://"+bound.String()+"/ (localhost is refused)", "port", bound.Port)
	}

	if o.bones != nil {
		slog.Info("hubs start and stop with the bones CLI", "path", o.bones.Path)
	} else if !o.readOnly {
		slog.Warn("Start, Stop and Restart are turned off", "reason", o.noBones)
	}
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
	col := collector.New(collector.Options{Interval: interval, Registry: registry.Default(), Journal: jrn, Bones: o.bones, NoBones: o.noBones})
	colDone := make(chan error, 1)
	colCtx, stopCollector := context.WithCancel(context.Background())
	defer stopCollector()
	go func() { colDone <- col.Run(colCtx) }()

	// The metrics read the server's stream count, and the server serves them.
	var srv *handlers.Server
	mtr := metrics.New(metrics.Options{Source: col, Events: jrn.Appended, Streams: func() int { return srv.Streams() }})
	go mtr.Run(colCtx)

	// The home directory only shortens paths on the pages; without one they
	// are shown whole.
	home, _ := os.UserHomeDir()
	srv, err = handlers.New(handlers.Config{
		Source: col, Actions: col, Auth: state.NewAuth(dir, token, strings.TrimSpace(os.Getenv(state.TokenEnv)) == ""),
		Host: bound.IP.String(), Port: bound.Port, NoLocalhost: twin == nil,
		Home: home, AuditPath: filepath.Join(dir, "audit.log"), ReadOnly: o.readOnly, Metrics: mtr.Handler(),
	})
	if err != nil {
		ln.Close()
		return err
	}
	forget, err := state.Publish(dir, state.Record{Addr: bound.String(), PID: os.Getpid(), TokenHash: state.HashToken(token), ReadOnly: o.readOnly, Started: time.Now().UTC()})
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
	lns := []net.Listener{ln}
	if twin != nil {
		lns = append(lns, twin)
	}
	guarded := guardListeners(o.anyUser, lns...)
	go func() { serveDone <- hs.Serve(guarded[0]) }()
	for _, l := range guarded[1:] {
		go hs.Serve(l)
	}

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

const serviceUsage = `boneyard: usage: boneyard service install [--addr HOST:PORT] [--interval DURATION] [--bones PATH] [--read-only] [--dry-run]
                        boneyard service uninstall [--dry-run]
                        boneyard service status`

// runService is `boneyard service install|uninstall|status`: boneyard as a
// per-user service of systemd or launchd, with the flags given to install.
func runService(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "install" && args[0] != "uninstall" && args[0] != "status") {
		fmt.Fprintln(stderr, serviceUsage)
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("boneyard service "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dryRun *bool
	if verb != "status" {
		dryRun = fs.Bool("dry-run", false, "print the file and the commands instead of acting")
	}
	if verb == "install" {
		fs.String("addr", state.DefaultAddr, "the service's listen address `HOST:PORT` (loopback only)")
		fs.Duration("interval", 2*time.Second, "the service's re-check interval")
		fs.String("bones", "", "the bones CLI `PATH` the service runs hubs with")
		fs.Bool("read-only", false, "the service serves no action")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "boneyard: unexpected argument %q\n%s\n", fs.Arg(0), serviceUsage)
		return 2
	}
	sys, err := service.For(runtime.GOOS)
	if err != nil {
		fmt.Fprintln(stderr, "boneyard:", err)
		return 1
	}
	home, err := os.UserHomeDir()
	if err != nil {
		fmt.Fprintln(stderr, "boneyard: no home directory to install the service in:", err)
		return 1
	}
	svc := service.Service{System: sys, Home: home, UID: os.Getuid()}
	ctx := context.Background()
	var plan service.Plan
	switch verb {
	case "status":
		return serviceStatus(ctx, svc, stdout, stderr)
	case "install":
		var c service.Config
		if c, err = serviceConfig(fs); err == nil {
			plan, err = svc.Install(c)
		}
	case "uninstall":
		if plan, err = svc.Uninstall(); err == nil && len(plan.Steps) == 0 {
			fmt.Fprintf(stderr, "boneyard: no service to uninstall (%s does not exist)\n", svc.Path())
			return 0
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "boneyard:", err)
		return 1
	}
	if *dryRun {
		plan.Print(stdout)
		return 0
	}
	if err := plan.Apply(ctx, service.Runner{}, stderr); err != nil {
		fmt.Fprintln(stderr, "boneyard:", err)
		return 1
	}
	if verb == "install" {
		fmt.Fprintf(stderr, "boneyard: %s installed and started; 'boneyard service status' tells how it runs, 'boneyard url' prints its URL\n", svc.Name())
	}
	return 0
}

// serviceConfig is what the service runs: this binary by its absolute path,
// with the flags given to install (checked as the server would check them),
// and the PATH and BONES_DIR of this shell, so that it finds bones as the
// user does.
func serviceConfig(fs *flag.FlagSet) (service.Config, error) {
	exe, err := os.Executable()
	if err != nil {
		return service.Config{}, fmt.Errorf("cannot tell where this boneyard binary is: %w", err)
	}
	c := service.Config{Executable: exe}
	for _, name := range []string{"addr", "interval", "bones", "read-only"} {
		set := false
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
		if !set {
			continue
		}
		value := fs.Lookup(name).Value.String()
		switch name {
		case "addr":
			_, err = state.ListenAddr(value)
		case "interval":
			if d, _ := time.ParseDuration(value); d <= 0 {
				err = errors.New("--interval must be positive, e.g. 2s")
			}
		case "bones":
			// As the server checks it: a service that cannot start would
			// be restarted forever.
			var cli *bonescli.CLI
			if cli, err = bonescli.Find(value); err == nil {
				value = cli.Path
			}
		case "read-only":
			if value == "true" {
				c.Args = append(c.Args, "--read-only")
			}
			continue
		}
		if err != nil {
			return service.Config{}, err
		}
		c.Args = append(c.Args, "--"+name, value)
	}
	for _, k := range []string{"PATH", "BONES_DIR"} {
		if v := os.Getenv(k); v != "" {
			c.Env = append(c.Env, k+"="+v)
		}
	}
	if os.Getenv(state.TokenEnv) != "" {
		slog.Warn("the service uses the token in ~/.bones/boneyard/token, not " + state.TokenEnv + ", which is not written into the service's file")
	}
	return c, nil
}

// serviceStatus says how the service runs and prints the URL of the
// running boneyard; it exits 0 when the service runs, 3 when it does not.
func serviceStatus(ctx context.Context, svc service.Service, stdout, stderr io.Writer) int {
	st, err := svc.Status(ctx, service.Runner{})
	if err != nil {
		fmt.Fprintln(stderr, "boneyard:", err)
		return 1
	}
	if !st.Installed {
		fmt.Fprintf(stdout, "%s: not installed (no %s); 'boneyard service install' installs it\n", svc.Name(), svc.Path())
	} else {
		fmt.Fprintf(stdout, "%s: %s (%s)\n", svc.Name(), strings.Join(slices.DeleteFunc([]string{st.State, st.Enabled}, func(s string) bool { return s == "" }), ", "), svc.Path())
	}
	code := 3
	if st.Running {
		code = 0
	}
	dir, err := state.Dir()
	if err != nil {
		fmt.Fprintln(stderr, "boneyard:", err)
		return 1
	}
	r, err := state.Running(dir)
	if err != nil {
		fmt.Fprintln(stdout, "no boneyard of this user is serving")
		return code
	}
	token, err := state.LoadToken(dir)
	if err != nil {
		fmt.Fprintln(stderr, "boneyard:", err)
		return 1
	}
	if printRunning(stdout, stderr, r, token) != 0 {
		return 1
	}
	return code
}
