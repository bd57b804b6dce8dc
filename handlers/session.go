package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"boneyard/internal/state"
	"boneyard/web/templates"
)

// Failed logins are limited to loginBurst within loginWindow; beyond that
// every attempt is answered 429 until the window has room again, so the
// token cannot be guessed at speed (it has 256 bits; this also keeps the
// log small).
const (
	loginBurst  = 10
	loginWindow = time.Minute
)

// loginLimiter counts recent failed logins.
type loginLimiter struct {
	mu       sync.Mutex
	failures []time.Time // within the window, oldest first
	muted    bool        // the limit was hit and logged
}

// allow reports whether an attempt may be checked now, and if not, after how
// long it may.
func (l *loginLimiter) allow(now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropOldLocked(now)
	if len(l.failures) < loginBurst {
		l.muted = false
		return true, 0
	}
	return false, l.failures[0].Add(loginWindow).Sub(now)
}

// fail records a failed attempt and reports whether it should be logged:
// every failure up to the limit, then one line for the whole burst.
func (l *loginLimiter) fail(now time.Time) (logIt, limited bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropOldLocked(now)
	l.failures = append(l.failures, now)
	if len(l.failures) < loginBurst {
		return true, false
	}
	first := !l.muted
	l.muted = true
	return first, true
}

func (l *loginLimiter) dropOldLocked(now time.Time) {
	i := 0
	for i < len(l.failures) && now.Sub(l.failures[i]) >= loginWindow {
		i++
	}
	l.failures = l.failures[i:]
}

// sessionCookie is per port: loopback cookies are shared by every port, so
// two boneyards (or anything else on 127.0.0.1) must not read each other's.
// It holds a session id, never the token.
func (s *Server) sessionCookie() string { return "boneyard_session_" + strconv.Itoa(s.port) }

// checkToken compares a presented token, rate-limited and logged (without
// the guess) when wrong. via names where it came from, for the log.
func (s *Server) checkToken(c echo.Context, got, via string) error {
	now := time.Now()
	if ok, wait := s.logins.allow(now); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return echo.NewHTTPError(http.StatusTooManyRequests,
			"too many failed logins: wait "+strconv.Itoa(int(wait.Seconds())+1)+" s, then use the URL 'boneyard url' prints")
	}
	if state.TokenEqual(got, s.auth.Token()) {
		return nil
	}
	if logIt, limited := s.logins.fail(now); logIt {
		if limited {
			s.log.Warn("failed logins: limit reached, refusing attempts for a while", "limit", loginBurst, "window", loginWindow)
		} else {
			s.log.Warn("failed login", "via", via, "from", c.Request().RemoteAddr)
		}
	}
	return echo.NewHTTPError(http.StatusUnauthorized, "that token is not valid")
}

// startSession opens a session and sets its cookie.
func (s *Server) startSession(c echo.Context) {
	id, expires := s.auth.Sessions.Create()
	c.SetCookie(&http.Cookie{
		Name: s.sessionCookie(), Value: id, Path: "/",
		Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// localPath keeps a redirect target on this server: a path of its own, never
// "//host" or "/\host", which browsers take for another site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return templates.DashboardPath
	}
	return p
}

// authenticate requires a session cookie, a Bearer token, or (on GET) a
// ?token= query that opens a session and redirects to the same local path
// without it. It guards the private routes.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if q := r.URL.Query(); q.Has("token") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			// A link from another site (any page can point at 127.0.0.1)
			// must not spend the failed-login budget or log anyone in.
			if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
				return echo.NewHTTPError(http.StatusForbidden, "a login link followed from another site is refused: open the URL 'boneyard url' prints directly")
			}
			if err := s.checkToken(c, q.Get("token"), "query"); err != nil {
				return err
			}
			s.startSession(c)
			q.Del("token")
			target := r.URL.EscapedPath()
			if enc := q.Encode(); enc != "" {
				target += "?" + enc
			}
			return c.Redirect(http.StatusSeeOther, localPath(target))
		}
		if auth := r.Header.Get("Authorization"); auth != "" {
			t, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok {
				return echo.NewHTTPError(http.StatusUnauthorized, "only Authorization: Bearer <token> is understood")
			}
			if err := s.checkToken(c, strings.TrimSpace(t), "bearer"); err != nil {
				return err
			}
			return next(c)
		}
		if ck, err := r.Cookie(s.sessionCookie()); err == nil && s.auth.Sessions.Valid(ck.Value) {
			return next(c)
		}
		return echo.NewHTTPError(http.StatusUnauthorized, "boneyard needs its access token")
	}
}

// login takes the token from the login form, opens a session and returns to
// the page that asked for it.
func (s *Server) login(c echo.Context) error {
	form, err := parseForm(c)
	if err != nil {
		return err
	}
	next := localPath(form.Get("next"))
	if err := s.checkToken(c, strings.TrimSpace(form.Get("token")), "form"); err != nil {
		msg := "That token is not valid. Copy it again from the output of 'boneyard url'."
		code := http.StatusUnauthorized
		if he, ok := err.(*echo.HTTPError); ok && he.Code == http.StatusTooManyRequests {
			msg, code = he.Message.(string), he.Code
		}
		return render(c, code, templates.LoginPage(templates.Login{Page: templates.Page{Title: "Log in · boneyard"}, Next: next, Error: msg}))
	}
	s.startSession(c)
	return c.Redirect(http.StatusSeeOther, next)
}

// loginPage is the 401 answer to a browser: the login form, coming back to
// the page asked for.
func (s *Server) loginPage(c echo.Context, code int) error {
	next := templates.DashboardPath
	if r := c.Request(); r.Method == http.MethodGet {
		next = localPath(r.URL.RequestURI())
	}
	return render(c, code, templates.LoginPage(templates.Login{Page: templates.Page{Title: "Log in · boneyard"}, Next: next}))
}
