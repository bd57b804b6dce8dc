package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"boneyard/web/templates"
)

// csp allows only this origin's files: no inline script or style, no eval,
// no framing (the reap button must not be clickjacked).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxBody bounds every request body.
const maxBody = 64 << 10

var crossOriginGuard = http.NewCrossOriginProtection()

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasPrefix(c.Request().URL.Path, templates.StaticPrefix) {
			h.Set("Cache-Control", "no-cache")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// hostCheck refuses any Host but this server's loopback names with the bound
// port, which defeats DNS rebinding.
func (s *Server) hostCheck(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.hosts[strings.ToLower(c.Request().Host)] {
			return echo.NewHTTPError(http.StatusForbidden,
				"Host "+strconv.Quote(c.Request().Host)+" is not allowed: open boneyard as http://"+s.addr+"/")
		}
		return next(c)
	}
}

// crossOrigin refuses state-changing requests from other origins, another
// localhost port included (browsers send Sec-Fetch-Site or Origin).
func (s *Server) crossOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := crossOriginGuard.Check(c.Request()); err != nil {
			return echo.NewHTTPError(http.StatusForbidden, "cross-origin request refused: use the dashboard itself")
		}
		return next(c)
	}
}

// limitBody answers 413 to bodies over maxBody, announced or not.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > maxBody {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body is over 64 KiB")
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxBody)
		return next(c)
	}
}

// parseForm parses a POST body, mapping an oversized body to 413.
func parseForm(c echo.Context) (url.Values, error) {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body is over 64 KiB")
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "malformed form: "+err.Error())
	}
	return r.PostForm, nil
}
