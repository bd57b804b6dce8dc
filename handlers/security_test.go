package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	cookie := &http.Cookie{Name: "boneyard_token_2663", Value: testToken}
	tests := []struct {
		name   string
		target string
		setup  func(r *http.Request)
		code   int
	}{
		{"bearer", "/", func(r *http.Request) {}, http.StatusOK},
		{"cookie", "/", func(r *http.Request) { r.Header.Del("Authorization"); r.AddCookie(cookie) }, http.StatusOK},
		{"no token", "/", func(r *http.Request) { r.Header.Del("Authorization") }, http.StatusUnauthorized},
		{"wrong bearer", "/", func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, http.StatusUnauthorized},
		{"wrong cookie", "/", func(r *http.Request) {
			r.Header.Del("Authorization")
			r.AddCookie(&http.Cookie{Name: "boneyard_token_2663", Value: "nope"})
		}, http.StatusUnauthorized},
		{"cookie of another port", "/", func(r *http.Request) {
			r.Header.Del("Authorization")
			r.AddCookie(&http.Cookie{Name: "boneyard_token_9999", Value: testToken})
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
			wantNone(t, d, "#counts", "#ws-section", "#orphans", "form")
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

func TestTokenQuerySetsCookieAndRedirects(t *testing.T) {
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
		if c.Value != testToken || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
			t.Errorf("cookie %+v: want the token, HttpOnly, SameSite=Strict, Path=/", c)
		}
	}
	r := request(http.MethodGet, "/?token=wrong", nil)
	r.Header.Del("Authorization")
	if w := e.serve(r); w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
		t.Errorf("a wrong ?token= got %d with cookies %v, want 401 and none", w.Code, w.Result().Cookies())
	}
}

func TestHostAllowList(t *testing.T) {
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
