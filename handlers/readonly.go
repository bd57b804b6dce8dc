package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// readOnlyMessage answers every change asked of a read-only server.
const readOnlyMessage = "This boneyard is read-only (started with --read-only): it shows workspaces and hubs but changes nothing. " +
	"Act from a boneyard started without --read-only."

// refuseChanges answers 403 to every request but GET and HEAD, before
// authentication, routing or reading the body: a read-only server serves
// every page and API, and no action, whatever route it would reach.
func refuseChanges(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead {
			return echo.NewHTTPError(http.StatusForbidden, readOnlyMessage)
		}
		return next(c)
	}
}
