package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// livePage is what a live request (the event stream, the title) is about:
// a workspace's detail page, a log page, or a view of the dashboard.
type livePage struct {
	detailID string // "" for the dashboard
	view     view
	log      *logLive // the live log the page shows, nil for none
}

// parseLivePage reads the page a live request is about from its query: the
// workspace ?id=, a log page (see parseLogLive), else the dashboard view of
// the other values.
func parseLivePage(q url.Values) (livePage, error) {
	p := livePage{view: parseView(q)}
	if id := q.Get("id"); id != "" {
		if !idPattern.MatchString(id) {
			return livePage{}, echo.NewHTTPError(http.StatusNotFound, "no workspace with id "+strconv.Quote(id))
		}
		p.detailID = id
	}
	log, ok := parseLogLive(q, time.Now())
	if !ok {
		return livePage{}, echo.NewHTTPError(http.StatusNotFound, "no workspace with id "+strconv.Quote(q.Get("log")))
	}
	p.log = log
	return p, nil
}

// query names the page in a live request's URL.
func (p livePage) query() url.Values {
	if p.log != nil {
		return p.log.query()
	}
	if p.detailID != "" {
		return url.Values{"id": {p.detailID}}
	}
	return p.view.query()
}
