package handlers

import (
	"context"
	"fmt"
	"time"
)

// WaitStreams blocks until every SSE handler has returned or ctx is done.
func (s *Server) WaitStreams(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.streams.Load() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%d event streams still open: %w", s.streams.Load(), ctx.Err())
		}
	}
	return nil
}
