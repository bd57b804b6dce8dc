package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"boneyard/web/templates"
)

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
	case strings.HasPrefix(c.Request().URL.Path, templates.APIPrefix):
		text := msg
		if cmd != "" {
			text += " " + hint + " `" + cmd + "`."
		}
		werr = c.JSON(code, map[string]string{"error": text})
	case code == http.StatusUnauthorized && c.Request().Method == http.MethodGet && !isHTMX(c):
		werr = s.loginPage(c, code)
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
