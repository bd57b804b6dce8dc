package collector

import (
	"slices"

	"boneyard/procscan"
)

// watchExits starts Run's exit watcher, unless turned off, and returns its
// channel; nil (never ready) without one.
func (c *Collector) watchExits() <-chan int {
	if c.noWatch {
		return nil
	}
	w := procscan.NewExitWatcher(c.interval)
	c.exits.Store(w)
	c.log.Debug("collector: watching hub exits", "method", w.Method())
	return w.Exits()
}

// stopWatchingExits closes Run's exit watcher.
func (c *Collector) stopWatchingExits() {
	if w := c.exits.Swap(nil); w != nil {
		w.Close()
	}
}

// drainExits takes the exits already told, so that hubs killed together
// cause one collection.
func drainExits(exits <-chan int) {
	for {
		select {
		case _, ok := <-exits:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// watch makes the live hubs of s the watched set: every hub process the
// scan listed, and every entry's hub that was measured alive.
func (c *Collector) watch(s *Snapshot) {
	w := c.exits.Load()
	if w == nil {
		return
	}
	pids := make([]int, 0, len(s.Processes)+len(s.Workspaces))
	for _, p := range s.Processes {
		pids = append(pids, p.PID)
	}
	for i := range s.Workspaces {
		if ws := &s.Workspaces[i]; ws.Resources != nil {
			pids = append(pids, ws.HubPID)
		}
	}
	slices.Sort(pids)
	if err := w.Watch(slices.Compact(pids)); err != nil {
		c.log.Debug("collector: watch hub exits", "err", err)
	}
}
