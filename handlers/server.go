// Package handlers is boneyard's HTTP layer: Echo routes and middleware that
// parse requests, act through the registry, and render the collector's latest
// snapshot with the templ components of web/templates.
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
)

// Source is where the handlers get snapshots; *collector.Collector is one.
type Source interface {
	Snapshot() *collector.Snapshot
	Refresh(ctx context.Context) *collector.Snapshot
	Trigger()
	Subscribe() (<-chan *collector.Snapshot, func())
}

// Config wires a Server.
type Config struct {
	Source    Source
	Token     string       // required on every route but /healthz and /static
	Host      string       // the bound IP, e.g. "127.0.0.5", allowed in the Host header besides the usual loopback names
	Port      int          // the bound port, for the Host allow-list
	AuditPath string       // audit log; "" means <StateDir>/audit.log
	Logger    *slog.Logger // nil means slog.Default()
	// Heartbeat is the SSE keep-alive interval; 0 means 15 s.
	Heartbeat time.Duration
}

// Server is boneyard's http.Handler.
type Server struct {
	echo      *echo.Echo
	src       Source
	token     string
	port      int
	hosts     map[string]bool
	home      string // host:port the printed URL names, for messages
	log       *slog.Logger
	audit     *auditLog
	heartbeat time.Duration
	cache     snapCache

	closeOnce sync.Once
	closing   chan struct{} // closed by CloseStreams
	streams   atomic.Int64  // open SSE streams
}

// New builds the router with every route and middleware.
func New(cfg Config) (*Server, error) {
	if cfg.Source == nil || cfg.Token == "" {
		return nil, errors.New("handlers: Config needs a Source and a Token")
	}
	s := &Server{
		src:       cfg.Source,
		token:     cfg.Token,
		port:      cfg.Port,
		log:       cfg.Logger,
		heartbeat: cfg.Heartbeat,
		closing:   make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.heartbeat <= 0 {
		s.heartbeat = 15 * time.Second
	}
	auditPath := cfg.AuditPath
	if auditPath == "" {
		dir, err := state.Dir()
		if err != nil {
			return nil, err
		}
		auditPath = dir + "/audit.log"
	}
	s.audit = &auditLog{path: auditPath}
	s.hosts, s.home = allowedHosts(cfg.Host, cfg.Port)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Pre(s.securityHeaders, s.hostCheck, limitBody)
	e.Use(s.authenticate, s.crossOrigin)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/static/*", staticFiles())

	e.GET("/", s.dashboard)
	e.GET("/workspaces/:id", s.detail)
	e.POST("/workspaces", s.register)
	e.POST("/workspaces/:id/remove", s.remove)
	e.POST("/workspaces/:id/reap", s.reapWorkspace)
	e.POST("/processes/:pid/reap", s.reapProcess)
	e.GET("/events", s.events)
	e.GET("/api/workspaces", s.apiWorkspaces)
	e.GET("/api/processes", s.apiProcesses)
	s.echo = e
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// CloseStreams ends every open SSE stream and refuses new ones; register it
// with http.Server.RegisterOnShutdown so shutdown does not wait on them.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// allowedHosts are the Host header values that name this server: the
// loopback names with the bound port, plus the bound IP itself (any of
// 127.0.0.0/8 may be bound, and the printed URL names it). home is the one
// the printed URL uses.
func allowedHosts(boundIP string, port int) (hosts map[string]bool, home string) {
	p := strconv.Itoa(port)
	home = "127.0.0.1:" + p
	hosts = map[string]bool{home: true, "localhost:" + p: true, "[::1]:" + p: true}
	if ip, err := netip.ParseAddr(boundIP); err == nil && ip.IsLoopback() {
		home = netip.AddrPortFrom(ip.Unmap(), uint16(port)).String()
		hosts[home] = true
	}
	return hosts, home
}
