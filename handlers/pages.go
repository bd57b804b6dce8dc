package handlers

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/web/static"
	"boneyard/web/templates"
)

// idPattern is a WorkspaceID: 16 lower-case hex characters.
var idPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

func (s *Server) dashboard(c echo.Context) error {
	return s.renderDashboard(c, http.StatusOK, parseView(c.QueryParams()), s.takeFlash(c), templates.RegisterForm{})
}

func (s *Server) renderDashboard(c echo.Context, status int, v view, f *templates.Flash, form templates.RegisterForm) error {
	snap := s.src.Snapshot()
	build := func() ([]byte, error) {
		fr, err := s.dashFragments(snap, v)
		if err != nil {
			return nil, err
		}
		d := fr.model
		d.Flash = f
		d.Register = form
		d.View.Ignored = v.ignored
		return fragment(templates.DashboardPage(d))
	}
	var page []byte
	var err error
	if f != nil || form != (templates.RegisterForm{}) || len(v.ignored) > 0 {
		page, err = build()
	} else {
		// The plain page of a view is the same for every request until the
		// next snapshot.
		page, err = s.pages.get(snap.Seq, v.query().Encode(), build)
	}
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, page)
}

func (s *Server) detail(c echo.Context) error {
	return s.renderDetail(c, http.StatusOK, c.Param("id"), s.takeFlash(c))
}

func (s *Server) renderDetail(c echo.Context, status int, id string, f *templates.Flash) error {
	snap := s.src.Snapshot()
	fm := s.formatter()
	if w := shownWorkspace(snap, id); w != nil {
		d := fm.detailModel(snap, w)
		d.Flash = f
		s.detailLog(fm, snap, w, &d, true)
		return render(c, status, templates.DetailPage(d))
	}
	if evs := history(snap, id); len(evs) > 0 {
		d := fm.forgottenModel(snap, id, evs)
		d.Flash = f
		if cwd := d.Row.Cwd.Full; cwd != "" {
			// Only what the journal remembers: its last log lines, not live.
			w := &collector.Workspace{LogPath: collector.LogPath(cwd)}
			w.ID, w.Cwd = id, cwd
			s.detailLog(fm, snap, w, &d, false)
		} else {
			d.Log.Notes = []string{"The workspace's directory is not known, so neither is its hub log."}
		}
		return render(c, status, templates.DetailPage(d))
	}
	if !snap.Listed() {
		return s.unlistedWorkspace(c, snap, f)
	}
	return s.notFoundWorkspace(c, id, f)
}

// unlistedWorkspace answers a workspace page while the registry is not
// known: 503, with the reason and a page that reloads itself once it is.
func (s *Server) unlistedWorkspace(c echo.Context, snap *collector.Snapshot, f *templates.Flash) error {
	c.Response().Header().Set("Retry-After", "2")
	text := "boneyard has not finished its first look at the registry."
	if snap.ListErr != nil {
		text = "boneyard cannot read the registry right now, so it cannot tell whether this workspace exists."
	}
	return render(c, http.StatusServiceUnavailable, templates.MessagePage(templates.Message{
		Page:    templates.Page{Title: "Unavailable · boneyard", Flash: f, Health: s.formatter().health(snap)},
		Heading: "Workspace not known yet",
		Text:    text,
		Hint:    "Reload this page in a moment.",
	}))
}

func (s *Server) notFoundWorkspace(c echo.Context, id string, f *templates.Flash) error {
	return render(c, http.StatusNotFound, templates.MessagePage(templates.Message{
		Page:    templates.Page{Title: "Not found · boneyard", Flash: f},
		Heading: "Workspace not found",
		Text:    "There is no workspace with id " + strconv.Quote(id) + " in the registry.",
		Hint:    "It may have been removed or pruned because its hub exited.",
	}))
}

// staticFiles serves the embedded assets; fs.FS paths cannot escape it and
// directories are not listed.
func staticFiles() echo.HandlerFunc {
	files := http.StripPrefix(templates.StaticPrefix, http.FileServerFS(static.FS))
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".go") {
			return echo.ErrNotFound
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
