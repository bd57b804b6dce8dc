package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"boneyard/web/templates"
)

// readOnlyMessage answers every change asked of a read-only server.
const readOnlyMessage = "This boneyard is read-only (started with --read-only): it shows workspaces and hubs but changes nothing. " +
	"Act from a boneyard started without --read-only."

// refuseChanges answers 403 to every request but GET and HEAD, before
// authentication, routing or reading the body: a read-only server serves
// every page and API, and no action, whatever route it would reach. Logging
// in changes nothing of the user's and stays possible.
func refuseChanges(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if m := r.Method; m != http.MethodGet && m != http.MethodHead && !(m == http.MethodPost && r.URL.Path == templates.LoginPath) {
			return echo.NewHTTPError(http.StatusForbidden, readOnlyMessage)
		}
		return next(c)
	}
}
