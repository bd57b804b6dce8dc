package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
	"boneyard/lock"
	"boneyard/web/static"
	"boneyard/web/templates"
)

// idPattern is a WorkspaceID: 16 lower-case hex characters.
var idPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// render writes a component with the given status.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) dashboard(c echo.Context) error {
	return s.renderDashboard(c, http.StatusOK, parseView(c.QueryParams()), s.takeFlash(c), templates.RegisterForm{})
}

func (s *Server) renderDashboard(c echo.Context, status int, v view, f *templates.Flash, form templates.RegisterForm) error {
	snap := s.src.Snapshot()
	build := func() ([]byte, error) {
		d := s.dashFragments(snap, v).model
		d.Flash = f
		d.Register = form
		d.View.Ignored = v.ignored
		var buf bytes.Buffer
		err := templates.DashboardPage(d).Render(c.Request().Context(), &buf)
		return buf.Bytes(), err
	}
	if f != nil || form != (templates.RegisterForm{}) || len(v.ignored) > 0 {
		page, err := build()
		if err != nil {
			return err
		}
		return c.HTMLBlob(status, page)
	}
	// The plain page of a view is the same for every request until the
	// next snapshot.
	page := s.cache.get(snap.Seq, "page?"+v.query().Encode(), func() any {
		page, err := build()
		if err != nil {
			return err
		}
		return page
	})
	if err, ok := page.(error); ok {
		return err
	}
	return c.HTMLBlob(status, page.([]byte))
}

func (s *Server) detail(c echo.Context) error {
	return s.renderDetail(c, http.StatusOK, c.Param("id"), s.takeFlash(c))
}

// logLines is how much of hub.log the detail page shows.
const logLines = 200

func (s *Server) renderDetail(c echo.Context, status int, id string, f *templates.Flash) error {
	snap := s.src.Snapshot()
	w := findWorkspace(snap, id)
	if w == nil && !listed(snap) {
		return s.unlistedWorkspace(c, snap, f)
	}
	if w == nil {
		return s.notFoundWorkspace(c, id, f)
	}
	d := detailModel(snap, w, newFormatter(snap))
	d.Flash = f
	d.LogPath = filepath.Join(lock.StateDir(w.Cwd), "hub.log")
	log, err := tailFile(d.LogPath, logLines)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.LogNote = "There is no hub log (" + d.LogPath + ") yet."
	case err != nil:
		d.LogNote = "The hub log cannot be read: " + err.Error()
	case log == "":
		d.LogNote = "The hub log " + d.LogPath + " is empty."
	default:
		d.Log = cleanLog(log)
	}
	return render(c, status, templates.DetailPage(d))
}

func detailModel(snap *collector.Snapshot, w *collector.Workspace, f formatter) templates.Detail {
	row := f.row(w)
	return templates.Detail{
		Page: templates.Page{
			Title:     title(snap, row.Name),
			EventsURL: eventsURL(map[string][]string{"id": {w.ID}}, snap.Seq),
			Health:    f.health(snap),
		},
		Row:  row,
		Back: "/workspaces/" + w.ID,
	}
}

// listed reports whether the snapshot knows the registry: collected, and
// the listing succeeded. Otherwise a missing workspace proves nothing.
func listed(snap *collector.Snapshot) bool { return snap.Seq > 0 && snap.ListErr == nil }

// unlistedWorkspace answers a workspace page while the registry is not
// known: 503, with the reason and a page that reloads itself once it is.
func (s *Server) unlistedWorkspace(c echo.Context, snap *collector.Snapshot, f *templates.Flash) error {
	c.Response().Header().Set("Retry-After", "2")
	text := "boneyard has not finished its first look at the registry."
	if snap.ListErr != nil {
		text = "boneyard cannot read the registry right now, so it cannot tell whether this workspace exists."
	}
	return render(c, http.StatusServiceUnavailable, templates.MessagePage(templates.Message{
		Page:    templates.Page{Title: "Unavailable · boneyard", Flash: f, Health: newFormatter(snap).health(snap)},
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

// tailFile returns the last n lines of the file, reading at most its last
// 256 KiB so a huge log cannot stall the request. Only a regular file is
// read: opening a FIFO would wait for a writer forever, so the type is
// checked before opening, and the open does not block where the platform
// allows, in case the file is swapped in between.
func tailFile(path string, n int) (string, error) {
	if fi, err := os.Stat(path); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	const window = 256 << 10
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	off := max(fi.Size()-window, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	text := strings.TrimRight(string(buf), "\n")
	lines := strings.Split(text, "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first line is cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n"), nil
}

// escapeSeq matches terminal escape sequences: CSI (colours, cursor moves),
// OSC (titles, hyperlinks; ended by BEL or ST), character set designations
// like ESC ( B, and two-byte escapes.
var escapeSeq = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]+[0-~]|[@-_])`)

// cleanLog makes a hub log readable as page text: hubs colour their output
// for a terminal, and the escapes would show as garbage. Escape sequences
// go, then every other control character except tab and newline.
func cleanLog(s string) string {
	s = escapeSeq.ReplaceAllString(strings.ToValidUTF8(s, "\uFFFD"), "")
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// staticFiles serves the embedded assets; fs.FS paths cannot escape it and
// directories are not listed.
func staticFiles() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(static.FS))
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, ".go") {
			return echo.ErrNotFound
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// handleError turns every error into a small page (or JSON for /api, or a
// #flash fragment for htmx) without internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	msg := "Something went wrong on the server; see its log."
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	}
	if he == nil {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	heading := http.StatusText(code)
	hint, cmd := "", ""
	switch code {
	case http.StatusNotFound:
		msg = "There is no page at " + strconv.Quote(c.Request().URL.Path) + "."
	case http.StatusMethodNotAllowed:
		msg = "This page does not accept " + c.Request().Method + "."
	case http.StatusUnauthorized:
		heading = "boneyard needs its token"
		msg = "This dashboard is private to your user: " + msg + "."
		hint, cmd = "Open the bookmarkable URL it printed at start, or print it with", "boneyard url"
	}
	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(code)
	case strings.HasPrefix(c.Request().URL.Path, "/api/"):
		text := msg
		if cmd != "" {
			text += " " + hint + " `" + cmd + "`."
		}
		werr = c.JSON(code, map[string]string{"error": text})
	case isHTMX(c):
		werr = render(c, code, templates.FlashBox(&templates.Flash{Error: true, Message: msg}, true))
	default:
		werr = render(c, code, templates.MessagePage(templates.Message{
			Page:    templates.Page{Title: heading + " · boneyard"},
			Heading: heading, Text: msg, Hint: hint, Code: cmd,
		}))
	}
	if werr != nil {
		s.log.Error("write error response", "err", werr)
	}
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

func (s *Server) flashCookie() string { return "boneyard_flash_" + strconv.Itoa(s.port) }

// maxFlash bounds a flash message so the cookie stays small.
const maxFlash = 400

// setFlash stores a message for the page the client is redirected to.
func (s *Server) setFlash(c echo.Context, f templates.Flash) {
	if len(f.Message) > maxFlash {
		f.Message = f.Message[:maxFlash] + "…"
	}
	b, _ := json.Marshal(f)
	c.SetCookie(&http.Cookie{
		Name: s.flashCookie(), Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// takeFlash reads and clears the flash cookie. Its content is only ever
// rendered as escaped text, so a forged cookie can at most show a message.
func (s *Server) takeFlash(c echo.Context) *templates.Flash {
	ck, err := c.Cookie(s.flashCookie())
	if err != nil {
		return nil
	}
	c.SetCookie(&http.Cookie{Name: s.flashCookie(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	var f templates.Flash
	if json.Unmarshal(b, &f) != nil || f.Message == "" || len(f.Message) > maxFlash+len("…") {
		return nil
	}
	return &f
}
