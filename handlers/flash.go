package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"boneyard/web/templates"
)

// A flash message is a one-shot message for the page a POST without
// JavaScript is redirected to, carried in a short-lived cookie.

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
