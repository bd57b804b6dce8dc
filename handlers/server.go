// Package handlers is boneyard's HTTP layer: Echo routes and middleware that
// parse requests, act through the collector, and render its latest snapshot
// with the templ components of web/templates.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/internal/state"
	"boneyard/web/templates"
)

// Source is where the handlers get snapshots; *collector.Collector is one.
type Source interface {
	// Snapshot returns the latest snapshot without blocking.
	Snapshot() *collector.Snapshot
	// Refresh re-collects now, after an action, and returns the result.
	Refresh(ctx context.Context) *collector.Snapshot
	// Subscribe delivers every new snapshot until cancel is called.
	Subscribe() (updates <-chan *collector.Snapshot, cancel func())
}

// Actions are the changes the handlers make on the user's behalf;
// *collector.Collector is one. A refused action returns a
// *collector.Refusal and changed nothing.
type Actions interface {
	// Register records an idle entry named name for the directory cwd and
	// returns the cleaned directory once cwd passed validation.
	Register(cwd, name string) (string, error)
	// Remove deletes w's registry entry.
	Remove(w collector.Workspace) error
	// ReapWorkspace stops w's hub, as the page showed it (pid and process
	// start, when known), and removes its entry.
	ReapWorkspace(w collector.Workspace, seenPID int, seen time.Time) (collector.Reaped, error)
	// ReapProcess stops the process-only orphan hub pid, started at seen.
	ReapProcess(pid int, seen time.Time) error
	// Forget removes the down workspace id from what boneyard remembers
	// and returns it as it was known.
	Forget(id string) (collector.Known, error)
	// Acknowledge marks workspace id's last hub death as seen and returns
	// the workspace as it was known (Death nil: nothing to acknowledge).
	Acknowledge(id string) (collector.Known, error)

	// Bones says which bones CLI starts and stops hubs, or why none does.
	Bones() collector.Bones
	// StartHub runs bones hub start --detach in w's directory.
	StartHub(ctx context.Context, w collector.Workspace) (collector.HubAction, error)
	// StopHub runs bones hub stop [--force] for w's hub, as the page showed
	// it (pid and process start, when known).
	StopHub(ctx context.Context, w collector.Workspace, seenPID int, seen time.Time, force bool) (collector.HubAction, error)
	// RestartHub stops w's hub (reaping it when bones cannot end it) and
	// starts it again.
	RestartHub(ctx context.Context, w collector.Workspace, seenPID int, seen time.Time, force bool) (collector.HubAction, error)
	// Cleanup runs the items ids of the cleanup plan with idle limit
	// idleAfter, each as its single action would.
	Cleanup(ctx context.Context, ids []string, idleAfter time.Duration) []collector.CleanupResult
}

// DefaultMaxStreams caps the open SSE streams: far above what one user's
// tabs need (a hidden tab closes its stream), well below the server's
// connection cap.
const DefaultMaxStreams = 64

// Config wires a Server.
type Config struct {
	Source  Source
	Actions Actions
	Token   string      // required on every route but /healthz and /static, unless Auth is set
	Auth    *state.Auth // the token and sessions; nil means a fixed Token with fresh sessions
	Host    string      // the bound IP, e.g. "127.0.0.5", allowed in the Host header besides the usual loopback names
	Port    int         // the bound port, for the Host allow-list
	// NoLocalhost refuses Host "localhost:<port>": set it when boneyard could
	// not bind both 127.0.0.1 and [::1] on its port, since a browser may send
	// localhost to whichever listens, someone else's included.
	NoLocalhost bool
	Home        string       // the user's home directory, shown as ~ in paths; "" shows every path whole
	AuditPath   string       // the audit log every action is appended to; required
	ReadOnly    bool         // serve every page and API but no action: no forms rendered, every change refused
	Logger      *slog.Logger // nil means slog.Default()
	// Heartbeat is the SSE keep-alive interval; 0 means 15 s.
	Heartbeat time.Duration
	// MaxStreams caps the open SSE streams; 0 means DefaultMaxStreams.
	MaxStreams int
	// Metrics serves GET /metrics (Prometheus) behind the same auth as the
	// API; nil leaves the route out.
	Metrics http.Handler
}

// Server is boneyard's http.Handler.
type Server struct {
	echo      *echo.Echo
	src       Source
	act       Actions
	auth      *state.Auth
	logins    loginLimiter
	port      int
	hosts     map[string]bool
	addr      string // host:port the printed URL names, for messages
	home      string // see Config.Home
	log       *slog.Logger
	audit     *auditLog
	heartbeat time.Duration
	readOnly  bool // see Config.ReadOnly
	bones     templates.BonesNote

	// What was rendered from the latest snapshot, shared by the requests
	// and streams showing the same view; keyed by the view's query.
	frags cached[string, *dashFragments]
	pages cached[string, []byte] // the plain dashboard page
	fulls cached[string, []byte] // every live fragment, for streams that catch up
	diffs cached[diffKey, []byte]
	api   cached[struct{}, []byte] // GET /api/workspaces

	logWatch logWatch // follows the hub logs that pages show live

	closeOnce  sync.Once
	closing    chan struct{} // closed by CloseStreams
	streams    atomic.Int64  // open SSE streams
	maxStreams int
}

// New builds the router with every route and middleware.
func New(cfg Config) (*Server, error) {
	if cfg.Auth == nil && cfg.Token != "" {
		cfg.Auth = state.NewAuth("", cfg.Token, false)
	}
	if cfg.Source == nil || cfg.Actions == nil || cfg.Auth == nil || cfg.AuditPath == "" {
		return nil, errors.New("handlers: Config needs a Source, Actions, a Token or Auth, and an AuditPath")
	}
	s := &Server{
		src:       cfg.Source,
		act:       cfg.Actions,
		auth:      cfg.Auth,
		port:      cfg.Port,
		home:      cfg.Home,
		log:       cfg.Logger,
		audit:     &auditLog{path: cfg.AuditPath},
		heartbeat: cfg.Heartbeat,
		readOnly:  cfg.ReadOnly,
		closing:   make(chan struct{}),
	}
	b := cfg.Actions.Bones()
	s.bones = templates.BonesNote{Path: b.Path, Problem: b.Problem}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.heartbeat <= 0 {
		s.heartbeat = 15 * time.Second
	}
	s.maxStreams = cfg.MaxStreams
	if s.maxStreams <= 0 {
		s.maxStreams = DefaultMaxStreams
	}
	s.hosts, s.addr = allowedHosts(cfg.Host, cfg.Port, !cfg.NoLocalhost)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Pre(s.securityHeaders, s.hostCheck, limitBody)
	if s.readOnly {
		e.Pre(refuseChanges)
	}

	// Public: what a page loads before it can show its token, and probes.
	pub := e.Group("")
	pub.GET(templates.HealthPath, func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	pub.GET(templates.StaticPrefix+"*", staticFiles())
	pub.POST(templates.LoginPath, s.login, s.crossOrigin)

	// Private: everything else needs the token, and every change passes the
	// cross-origin check. The middleware is given per route: group
	// middleware adds a catch-all route, which would answer a known path
	// asked with the wrong method 404 instead of 405.
	priv := e.Group("")
	guard := []echo.MiddlewareFunc{s.authenticate, s.crossOrigin}
	priv.GET(templates.DashboardPath, s.dashboard, guard...)
	priv.GET(templates.WorkspacePath(":id"), s.detail, guard...)
	priv.POST(templates.RegisterPath, s.register, guard...)
	priv.POST(templates.RemovePath(":id"), s.remove, guard...)
	priv.POST(templates.ReapPath(":id"), s.reapWorkspace, guard...)
	priv.POST(templates.ReapProcessPath(":pid"), s.reapProcess, guard...)
	priv.POST(templates.StartPath(":id"), s.startHub, guard...)
	priv.POST(templates.StopPath(":id"), s.stopHub, guard...)
	priv.POST(templates.RestartPath(":id"), s.restartHub, guard...)
	priv.GET(templates.CleanupPath, s.cleanupPage, guard...)
	priv.POST(templates.CleanupPath, s.runCleanup, guard...)
	priv.GET(templates.APICleanupPath, s.apiCleanupPlan, guard...)
	priv.POST(templates.APICleanupPath, s.apiRunCleanup, guard...)
	priv.GET(templates.EventsPath, s.events, guard...)
	priv.GET(templates.TitlePath, s.currentTitle, guard...)
	priv.GET(templates.APIWorkspacesPath, s.apiWorkspaces, guard...)
	priv.GET(templates.APIProcessesPath, s.apiProcesses, guard...)
	if cfg.Metrics != nil {
		priv.GET(templates.MetricsPath, echo.WrapHandler(cfg.Metrics), guard...)
	}
	s.logRoutes(priv, guard)
	s.journalRoutes(pub, priv, guard)
	s.echo = e
	return s, nil
}

// Streams is the number of open SSE streams.
func (s *Server) Streams() int { return int(s.streams.Load()) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// CloseStreams ends every open SSE stream and refuses new ones; register it
// with http.Server.RegisterOnShutdown so shutdown does not wait on them.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.logWatch.close()
	})
}

// allowedHosts are the Host header values that name this server: the
// loopback names with the bound port, plus the bound IP itself (any of
// 127.0.0.0/8 may be bound, and the printed URL names it). addr is the one
// the printed URL uses.
func allowedHosts(boundIP string, port int, localhost bool) (hosts map[string]bool, addr string) {
	p := strconv.Itoa(port)
	addr = "127.0.0.1:" + p
	hosts = map[string]bool{addr: true, "[::1]:" + p: true}
	if localhost {
		hosts["localhost:"+p] = true
	}
	if ip, err := netip.ParseAddr(boundIP); err == nil && ip.IsLoopback() {
		addr = netip.AddrPortFrom(ip.Unmap(), uint16(port)).String()
		hosts[addr] = true
	}
	return hosts, addr
}
