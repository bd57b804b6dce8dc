package handlers

import (
	"bytes"
	"context"
	"fmt"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// renderHTML renders the components, in order, into one piece of HTML: a
// page, the fragments an action answers with, or an SSE payload.
func renderHTML(ctx context.Context, comps ...templ.Component) ([]byte, error) {
	var buf bytes.Buffer
	for _, comp := range comps {
		if err := comp.Render(ctx, &buf); err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// render answers with the components rendered in order.
func render(c echo.Context, status int, comps ...templ.Component) error {
	b, err := renderHTML(c.Request().Context(), comps...)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, b)
}
