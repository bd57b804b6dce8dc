package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
)

// pageTitle is the title page p shows for snap.
func (s *Server) pageTitle(snap *collector.Snapshot, p livePage) (string, error) {
	if p.log != nil && p.detailID == "" {
		return logTitle(snap, p.log), nil
	}
	if p.detailID != "" {
		fr, err := buildDetailFragments(snap, p.detailID, s.formatter())
		if err != nil {
			return "", err
		}
		return fr.title, nil
	}
	fr, err := s.dashFragments(snap, p.view)
	if err != nil {
		return "", err
	}
	return fr.model.Title, nil
}

// currentTitle is GET /title: the current title of the page the query
// names (as for /events), as plain text. A hidden tab closes its event
// stream, so that the browser's few connections per host stay free for
// other tabs, and polls this to keep its problem count fresh.
func (s *Server) currentTitle(c echo.Context) error {
	p, err := parseLivePage(c.QueryParams())
	if err != nil {
		return err
	}
	t, err := s.pageTitle(s.src.Snapshot(), p)
	if err != nil {
		return err
	}
	return c.String(http.StatusOK, t)
}
