package procscan

import (
	"errors"
	"slices"
	"sync"
	"time"
)

// DefaultExitPoll is how often an ExitWatcher checks the pids the kernel
// cannot watch for it, when the caller gives no interval.
const DefaultExitPoll = time.Second

// ErrWatcherClosed is returned by Watch after Close.
var ErrWatcherClosed = errors.New("procscan: exit watcher is closed")

// ExitWatcher reports the moment a watched process exits, so that a caller
// re-collects at once instead of waiting for its next poll.
//
// The kernel does the watching where it can: on Linux a pidfd per pid,
// parked in the Go runtime's poller (no thread and no timer per pid); on
// macOS one kqueue with an EVFILT_PROC/NOTE_EXIT filter per pid. Elsewhere,
// and for any pid the kernel refuses to watch (Linux before 5.3), the
// watcher checks liveness at the interval given to NewExitWatcher; it runs
// no timer while it has nothing to poll.
//
// Exits reports each watched pid once, when it exits (a zombie counts as
// exited) or at once when it is already gone at Watch time. A reported pid
// stays in the watched set, unreported again, until a Watch call leaves it
// out; a later Watch naming it again watches it afresh, as it may then be a
// recycled pid. A pid dropped from the set before it exits is never
// reported. The pids are best taken from a scan just made: a pid that died
// and was reused before Watch is watched as the new process.
type ExitWatcher struct {
	interval time.Duration
	kernel   backend // nil: everything is polled

	mu      sync.Mutex
	entries map[int]*exitEntry
	queue   []int // exited, not yet delivered
	closed  bool

	exits    chan int
	wake     chan struct{} // queue grew
	pollWake chan struct{} // the polled set grew
	done     chan struct{}
	wg       sync.WaitGroup
}

// exitEntry is one watched pid.
type exitEntry struct {
	pid    int
	stop   func() // ends the kernel watch; nil when polled or reported
	polled bool
	exited bool // reported; kept so that the same Watch set does not report it again
}

// backend is a platform's kernel exit notification.
type backend interface {
	// watch starts watching pid and calls exited once, from any goroutine,
	// when it exits. It returns errExited when pid is already gone and
	// errUnwatchable when the pid must be polled instead. stop ends the
	// watch and releases its resources and is idempotent; an exited call
	// already under way may still complete after it, which the watcher
	// ignores for a dropped pid. exited must not run with a lock held that
	// stop takes.
	watch(pid int, exited func()) (stop func(), err error)
	// close releases the backend once every watch is stopped.
	close()
	// method names the mechanism, for logs.
	method() string
}

var (
	errExited      = errors.New("process already exited")
	errUnwatchable = errors.New("process cannot be watched by the kernel")
)

// NewExitWatcher returns a watcher watching nothing. poll is the interval
// for pids the kernel cannot watch; zero or less means DefaultExitPoll.
func NewExitWatcher(poll time.Duration) *ExitWatcher {
	return newExitWatcher(poll, newBackend())
}

func newExitWatcher(poll time.Duration, kernel backend) *ExitWatcher {
	if poll <= 0 {
		poll = DefaultExitPoll
	}
	w := &ExitWatcher{
		interval: poll,
		kernel:   kernel,
		entries:  make(map[int]*exitEntry),
		exits:    make(chan int),
		wake:     make(chan struct{}, 1),
		pollWake: make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	w.wg.Add(2)
	go w.deliver()
	go w.pollLoop()
	return w
}

// Method names how exits are watched: "pidfd", "kqueue" or "poll".
func (w *ExitWatcher) Method() string {
	if w.kernel == nil {
		return "poll"
	}
	return w.kernel.method()
}

// Exits delivers the pid of each watched process that exits. It is closed
// by Close.
func (w *ExitWatcher) Exits() <-chan int { return w.exits }

// Watch makes pids the watched set: new pids are watched, pids left out
// are dropped and their kernel handles closed. Invalid pids (<= 0) are
// ignored.
func (w *ExitWatcher) Watch(pids []int) error {
	want := make(map[int]bool, len(pids))
	for _, pid := range pids {
		if validPID(pid) {
			want[pid] = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrWatcherClosed
	}
	for pid, e := range w.entries {
		if !want[pid] {
			w.drop(e)
		}
	}
	added := make([]int, 0, len(want))
	for pid := range want {
		if _, ok := w.entries[pid]; !ok {
			added = append(added, pid)
		}
	}
	slices.Sort(added)
	for _, pid := range added {
		w.add(pid)
	}
	return nil
}

// Watching returns the watched pids, sorted, reported ones included.
func (w *ExitWatcher) Watching() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	pids := make([]int, 0, len(w.entries))
	for pid := range w.entries {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids
}

// add starts watching pid; w.mu is held.
func (w *ExitWatcher) add(pid int) {
	e := &exitEntry{pid: pid}
	w.entries[pid] = e
	if w.kernel != nil {
		stop, err := w.kernel.watch(pid, func() { w.report(e) })
		switch {
		case err == nil:
			e.stop = stop
			return
		case errors.Is(err, errExited):
			w.markExited(e)
			return
		}
	}
	if !Alive(pid) {
		w.markExited(e)
		return
	}
	e.polled = true
	select {
	case w.pollWake <- struct{}{}:
	default:
	}
}

// drop stops watching e; w.mu is held.
func (w *ExitWatcher) drop(e *exitEntry) {
	delete(w.entries, e.pid)
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
}

// report is the kernel's word that e exited.
func (w *ExitWatcher) report(e *exitEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.entries[e.pid] != e || w.closed {
		return
	}
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
	w.markExited(e)
}

// markExited queues e's pid for delivery once; w.mu is held.
func (w *ExitWatcher) markExited(e *exitEntry) {
	if e.exited {
		return
	}
	e.exited, e.polled = true, false
	w.queue = append(w.queue, e.pid)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// deliver hands queued pids to Exits, so that a slow reader never stalls
// the kernel's notifications or a Watch call.
func (w *ExitWatcher) deliver() {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		var pid int
		ok := len(w.queue) > 0
		if ok {
			pid = w.queue[0]
			w.queue = w.queue[1:]
		}
		w.mu.Unlock()
		if !ok {
			select {
			case <-w.wake:
				continue
			case <-w.done:
				return
			}
		}
		select {
		case w.exits <- pid:
		case <-w.done:
			return
		}
	}
}

// pollLoop checks the polled pids every interval while there are any.
func (w *ExitWatcher) pollLoop() {
	defer w.wg.Done()
	timer := time.NewTimer(w.interval)
	timer.Stop()
	for {
		if w.polledPIDs() == nil {
			select {
			case <-w.pollWake:
				continue
			case <-w.done:
				return
			}
		}
		timer.Reset(w.interval)
		select {
		case <-timer.C:
		case <-w.done:
			timer.Stop()
			return
		}
		for _, pid := range w.polledPIDs() {
			if !Alive(pid) {
				w.mu.Lock()
				if e := w.entries[pid]; e != nil && e.polled {
					w.markExited(e)
				}
				w.mu.Unlock()
			}
		}
	}
}

// polledPIDs returns the pids checked by polling, nil when there are none.
func (w *ExitWatcher) polledPIDs() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var pids []int
	for pid, e := range w.entries {
		if e.polled {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Close stops watching everything, releases every kernel handle and closes
// Exits; exits not yet received are dropped. It returns once nothing of the
// watcher runs any more.
func (w *ExitWatcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	for _, e := range w.entries {
		w.drop(e)
	}
	w.queue = nil
	w.mu.Unlock()
	close(w.done)
	if w.kernel != nil {
		w.kernel.close()
	}
	w.wg.Wait()
	close(w.exits)
	return nil
}
