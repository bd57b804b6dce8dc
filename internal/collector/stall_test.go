package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"boneyard/procscan"
	"boneyard/registry"
)

// TestStuckCollectionAbandoned: while a collection is stuck, Refresh answers
// within RefreshWait with the latest snapshot, and the overrun is published
// as an error of a new snapshot; once the collection finishes it publishes
// as usual.
func TestStuckCollectionAbandoned(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	stuck := make(chan struct{}, 1)
	calls := 0
	c := New(Options{
		Interval:    time.Hour,
		Registry:    registry.Registry{Dir: t.TempDir()},
		RefreshWait: 200 * time.Millisecond,
		StallAfter:  300 * time.Millisecond,
		NoExitWatch: true,
		ListInfo: func(func(registry.Entry) bool) ([]registry.Info, error) {
			calls++
			if calls > 1 {
				stuck <- struct{}{}
				<-release
			}
			return nil, nil
		},
		Scan: func() ([]procscan.Process, error) { return nil, nil },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { close(release); cancel(); <-done })

	first := c.Refresh(context.Background())
	if first.Seq == 0 {
		t.Fatal("no first collection")
	}
	updates, unsubscribe := c.Subscribe()
	defer unsubscribe()
	began := time.Now()
	got := c.Refresh(context.Background()) // the second listing hangs
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("Refresh waited %v on a stuck collection", took)
	}
	<-stuck
	if got.Seq != first.Seq {
		t.Errorf("Refresh during a stall returned seq %d, want the latest complete one (%d)", got.Seq, first.Seq)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-updates:
			if s.Err != nil && strings.Contains(s.Err.Error(), "a collection has been running for") {
				if len(s.Workspaces) != len(first.Workspaces) || s.Seq <= first.Seq {
					t.Errorf("stall report %+v, want the last snapshot again with a higher seq", s)
				}
				if c.Stalled() == 0 {
					t.Error("Stalled() = 0 during the stall")
				}
				return
			}
		case <-deadline:
			t.Fatal("no stall report within 10 s")
		}
	}
}
