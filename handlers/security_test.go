package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// session logs in through ?token= and returns the session cookie.
func session(t *testing.T, e *env) *http.Cookie {
	t.Helper()
	r := request(http.MethodGet, "/?token="+testToken, nil)
	r.Header.Del("Authorization")
	w := e.serve(r)
	cookies := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("login: %d with cookies %v, want 303 and a session cookie", w.Code, cookies)
	}
	return cookies[0]
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	cookie := session(t, e)
	tests := []struct {
		name   string
		target string
		setup  func(r *http.Request)
		code   int
	}{
		{"bearer", "/", func(r *http.Request) {}, http.StatusOK},
		{"session cookie", "/", func(r *http.Request) { r.Header.Del("Authorization"); r.AddCookie(cookie) }, http.StatusOK},
		{"no token", "/", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized},
		{"wrong bearer", "/", func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, http.StatusUnauthorized},
		{"basic auth", "/", func(r *http.Request) { r.SetBasicAuth("x", testToken) }, http.StatusUnauthorized},
		{"wrong session", "/", func(r *http.Request) {
			r.Header.Del("Authorization")
			r.AddCookie(&http.Cookie{Name: cookie.Name, Value: "nope"})
		}, http.StatusUnauthorized},
		{"the token as a cookie", "/", func(r *http.Request) {
			r.Header.Del("Authorization")
			r.AddCookie(&http.Cookie{Name: cookie.Name, Value: testToken})
			r.AddCookie(&http.Cookie{Name: "boneyard_token_2663", Value: testToken})
		}, http.StatusUnauthorized},
		{"session of another port", "/", func(r *http.Request) {
			r.Header.Del("Authorization")
			r.AddCookie(&http.Cookie{Name: "boneyard_session_9999", Value: cookie.Value})
		}, http.StatusUnauthorized},
		{"api without token", "/api/workspaces", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized},
		{"events without token", "/events", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized},
		{"detail without token", "/workspaces/0123456789abcdef", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized},
		{"healthz needs none", "/healthz", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusOK},
		{"static needs none", "/static/style.css", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(http.MethodGet, tt.target, nil)
			tt.setup(r)
			w := e.serve(r)
			if w.Code != tt.code {
				t.Fatalf("GET %s: %d, want %d", tt.target, w.Code, tt.code)
			}
			if tt.code != http.StatusUnauthorized {
				return
			}
			if strings.HasPrefix(tt.target, "/api/") {
				if got := jsonError(t, w.Body.Bytes()); !strings.Contains(got, "`boneyard url`") {
					t.Errorf("401 answer %q does not say how to get the URL", got)
				}
				return
			}
			d := parseDOM(t, w.Body.String())
			if got := text(d.one("main code")); got != "boneyard url" {
				t.Errorf("401 page names %q, want the command that prints the URL", got)
			}
			if got, _ := attr(d.one("form.login"), "action"); got != "/login" {
				t.Errorf("401 page login form posts to %q, want /login", got)
			}
			if got, _ := attr(d.one("form.login input[name=next]"), "value"); got != tt.target {
				t.Errorf("login form returns to %q, want %q", got, tt.target)
			}
			wantNone(t, d, "#counts", "#ws-section", "#orphans")
		})
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	r := request(http.MethodGet, "/healthz", nil)
	r.Header.Del("Authorization")
	w := e.serve(r)
	if w.Code != http.StatusOK || w.Body.String() != "ok" {
		t.Fatalf("healthz: %d %q", w.Code, w.Body.String())
	}
}

func TestTokenQueryOpensSessionAndRedirects(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	tests := []struct {
		target   string
		location string
	}{
		{"/?token=" + testToken, "/"},
		{"/?status=orphan&token=" + testToken + "&q=api", "/?q=api&status=orphan"},
		{"/workspaces/0123456789abcdef?token=" + testToken, "/workspaces/0123456789abcdef"},
	}
	for _, tt := range tests {
		r := request(http.MethodGet, tt.target, nil)
		r.Header.Del("Authorization")
		w := e.serve(r)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tt.location {
			t.Fatalf("GET %s: %d to %q, want 303 to %q", tt.target, w.Code, w.Header().Get("Location"), tt.location)
		}
		cookies := w.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("want one cookie, got %v", cookies)
		}
		c := cookies[0]
		if c.Name != "boneyard_session_2663" || len(c.Value) != 64 || c.Value == testToken || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge <= 0 {
			t.Errorf("cookie %+v: want a 64-digit session id (not the token), HttpOnly, SameSite=Strict, Path=/, a lifetime", c)
		}
	}
	r := request(http.MethodGet, "/?token=wrong", nil)
	r.Header.Del("Authorization")
	if w := e.serve(r); w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
		t.Errorf("a wrong ?token= got %d with cookies %v, want 401 and none", w.Code, w.Result().Cookies())
	}
	r = request(http.MethodGet, "/?token="+testToken, nil)
	r.Header.Del("Authorization")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if w := e.serve(r); w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
		t.Errorf("a login link from another site got %d with cookies %v, want 403 and none", w.Code, w.Result().Cookies())
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/workspaces/abc?q=1", "/workspaces/abc?q=1"},
		{"//evil.example/", "/"},
		{"/\\evil.example/", "/"},
		{"https://evil.example/", "/"},
		{"", "/"},
		{"/x\r\nSet-Cookie: a=b", "/"},
	}
	for _, tt := range tests {
		if got := localPath(tt.in); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLoginForm(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	post := func(token, next string) *httptest.ResponseRecorder {
		r := request(http.MethodPost, "/login", url.Values{"token": {token}, "next": {next}})
		r.Header.Del("Authorization")
		return e.serve(r)
	}
	w := post(testToken, "/workspaces/0123456789abcdef")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/workspaces/0123456789abcdef" || len(w.Result().Cookies()) != 1 {
		t.Fatalf("login: %d to %q with %v, want 303 back to the page and a session", w.Code, w.Header().Get("Location"), w.Result().Cookies())
	}
	if w := post(testToken, "//evil.example/"); w.Header().Get("Location") != "/" {
		t.Errorf("login with next=//evil.example/ redirects to %q, want /", w.Header().Get("Location"))
	}
	w = post("wrong", "/")
	if w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
		t.Fatalf("wrong token: %d, cookies %v; want 401, none", w.Code, w.Result().Cookies())
	}
	if got := text(parseDOM(t, w.Body.String()).one("p.flash-error")); !strings.Contains(got, "not valid") {
		t.Errorf("login error %q", got)
	}
	// Ten failures a minute, then every attempt waits, the right one too.
	for range 9 {
		post("wrong", "/")
	}
	w = post(testToken, "/")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || len(w.Result().Cookies()) != 0 {
		t.Fatalf("after 10 failures: %d (Retry-After %q), want 429 without a session", w.Code, w.Header().Get("Retry-After"))
	}
	r := request(http.MethodGet, "/api/processes", nil)
	r.Header.Set("Authorization", "Bearer wrong")
	if w := e.serve(r); w.Code != http.StatusTooManyRequests {
		t.Errorf("bearer while limited: %d, want 429", w.Code)
	}
}

func TestLoginLimiterWindow(t *testing.T) {
	t.Parallel()
	var l loginLimiter
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	logged := 0
	for i := range 12 {
		if ok, _ := l.allow(now); !ok {
			t.Fatalf("attempt %d refused before the limit", i)
		}
		if logIt, _ := l.fail(now); logIt {
			logged++
		}
		if i == 9 {
			break
		}
	}
	if ok, wait := l.allow(now.Add(30 * time.Second)); ok || wait != 30*time.Second {
		t.Errorf("30 s after 10 failures: allowed %v, wait %v; want refused for 30 s more", ok, wait)
	}
	if ok, _ := l.allow(now.Add(time.Minute)); !ok {
		t.Error("a minute later attempts are still refused")
	}
	if logged != 10 {
		t.Errorf("logged %d lines for 10 failures, want 9 plus one for the limit", logged)
	}
}

func TestHostAllowList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	tests := []struct {
		host string
		code int
	}{
		{"127.0.0.1:2663", http.StatusOK},
		{"localhost:2663", http.StatusOK},
		{"LOCALHOST:2663", http.StatusOK},
		{"[::1]:2663", http.StatusOK},
		{"127.0.0.1:2664", http.StatusForbidden},
		{"127.0.0.1", http.StatusForbidden},
		{"evil.example:2663", http.StatusForbidden},
		{"localhost.evil.example:2663", http.StatusForbidden},
		{"192.168.1.10:2663", http.StatusForbidden},
		{"127.0.0.5:2663", http.StatusForbidden}, // not the bound address
	}
	for _, tt := range tests {
		for _, target := range []string{"/", "/healthz", "/api/workspaces"} {
			r := request(http.MethodGet, target, nil)
			r.Host = tt.host
			if w := e.serve(r); w.Code != tt.code {
				t.Errorf("Host %s GET %s: %d, want %d", tt.host, target, w.Code, tt.code)
			}
		}
	}
}

// TestHostAllowListBoundIP serves on another loopback address, as
// --addr 127.0.0.5:0 does: the URL it prints must work.
func TestHostAllowListBoundIP(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	tests := []struct {
		bound string
		host  string
		code  int
	}{
		{"127.0.0.5", "127.0.0.5:2663", http.StatusOK},
		{"127.0.0.5", "127.0.0.1:2663", http.StatusOK},
		{"127.0.0.5", "127.0.0.6:2663", http.StatusForbidden},
		{"127.0.0.5", "127.0.0.5:2664", http.StatusForbidden},
		{"::1", "[::1]:2663", http.StatusOK},
		{"::ffff:127.0.0.7", "127.0.0.7:2663", http.StatusOK},
		{"192.168.1.10", "192.168.1.10:2663", http.StatusForbidden}, // never allowed, even if configured
	}
	for _, tt := range tests {
		cfg := e.config(testPort)
		cfg.Host = tt.bound
		srv, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{"/", "/healthz"} {
			r := request(http.MethodGet, target, nil)
			r.Host = tt.host
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != tt.code {
				t.Errorf("bound %s, Host %s GET %s: %d, want %d", tt.bound, tt.host, target, w.Code, tt.code)
			}
		}
	}

	// The refusal names the address to use.
	cfg := e.config(testPort)
	cfg.Host = "127.0.0.5"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := request(http.MethodGet, "/", nil)
	r.Host = "evil.example:2663"
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if got := text(parseDOM(t, w.Body.String()).one("main")); !strings.Contains(got, "open boneyard as http://127.0.0.5:2663/") {
		t.Errorf("403 page %q does not name the bound address", got)
	}
}

func TestCrossOriginPOSTRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("alpha")
	before := e.registryFiles()
	tests := []struct {
		name   string
		header map[string]string
		code   int
	}{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site fetch", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"other localhost port", map[string]string{"Origin": "http://127.0.0.1:9999"}, http.StatusForbidden},
		{"other localhost name", map[string]string{"Origin": "http://localhost:2663"}, http.StatusForbidden},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"null origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(http.MethodPost, "/workspaces", url.Values{"cwd": {dir}, "name": {"alpha"}})
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if w := e.serve(r); w.Code != tt.code {
				t.Fatalf("POST with %v: %d, want %d", tt.header, w.Code, tt.code)
			}
		})
	}
	if after := e.registryFiles(); len(after) != len(before) {
		t.Fatalf("a refused POST changed the registry: %v", after)
	}
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "same-origin"},
		{"Origin": "http://127.0.0.1:2663"},
		{},
	} {
		r := request(http.MethodPost, "/workspaces", url.Values{"cwd": {dir}, "name": {"alpha"}})
		for k, v := range h {
			r.Header.Set(k, v)
		}
		if w := e.serve(r); w.Code != http.StatusSeeOther {
			t.Errorf("same-origin POST with %v: %d, want 303", h, w.Code)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	for _, target := range []string{"/", "/api/workspaces", "/api/processes", "/healthz", "/nope", "/static/app.js"} {
		w := e.get(target)
		h := w.Header()
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q", target, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: nosniff %q, referrer %q", target, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
		if !strings.HasPrefix(target, "/static/") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", target, h.Get("Cache-Control"))
		}
	}
}

func TestNoInlineScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	id := e.idle(e.workspace("w"), "w")
	startHub(t, "serve", e.workspace("lost"), false)
	e.refresh()
	for _, target := range []string{"/", "/workspaces/" + id, "/nope"} {
		w := e.get(target)
		d := parseDOM(t, w.Body.String())
		wantInert(t, d)
		// Every element, not only the known names: no event handler
		// attribute anywhere.
		for _, n := range d.all("*") {
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("GET %s: <%s %s>, which the CSP forbids", target, n.Data, a.Key)
				}
			}
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	before := e.registryFiles()
	big := strings.Repeat("x", maxBody+1)
	r := request(http.MethodPost, "/workspaces", url.Values{"cwd": {"/tmp"}, "name": {big}})
	if w := e.serve(r); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("announced big body: %d, want 413", w.Code)
	}
	r = request(http.MethodPost, "/workspaces", url.Values{"cwd": {"/tmp"}, "name": {big}})
	r.ContentLength = -1 // as with chunked encoding: only reading finds out
	if w := e.serve(r); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("unannounced big body: %d, want 413", w.Code)
	}
	if after := e.registryFiles(); len(after) != len(before) {
		t.Fatalf("an oversized POST changed the registry: %v", after)
	}
}

func TestUnknownRoutesAndStaticEscape(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	tests := []struct {
		target string
		code   int
	}{
		{"/nope", http.StatusNotFound},
		{"/workspaces", http.StatusMethodNotAllowed},
		{"/static/../main.go", http.StatusNotFound},
		{"/static/..%2f..%2fgo.mod", http.StatusNotFound},
		{"/static/%2e%2e/handlers/server.go", http.StatusNotFound},
		{"/static/embed.go", http.StatusNotFound},
		{"/static/vendor/", http.StatusNotFound},
		{"/static/nope.css", http.StatusNotFound},
		{"/static/vendor/htmx-2.0.11.min.js", http.StatusOK},
		{"/static/favicon.svg", http.StatusOK},
	}
	for _, tt := range tests {
		w := e.get(tt.target)
		if w.Code != tt.code {
			t.Errorf("GET %s: %d, want %d", tt.target, w.Code, tt.code)
		}
		body := w.Body.String()
		if strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") || strings.Contains(body, "package ") {
			t.Errorf("GET %s leaks internals: %.200s", tt.target, body)
		}
	}
}
