package procscan

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

// kqueueBackend watches every pid through one kqueue with an EVFILT_PROC
// NOTE_EXIT filter per pid. One goroutine waits in kevent(2); Close wakes
// it through an EVFILT_USER event.
type kqueueBackend struct {
	kq   int
	mu   sync.Mutex
	subs map[int]*kqueueSub
	done chan struct{} // the wait loop has returned
}

// kqueueSub is one watched pid's callback.
type kqueueSub struct{ exited func() }

// wakeIdent identifies the EVFILT_USER event that ends the wait loop.
const wakeIdent = 1

// newBackend returns the kqueue backend, or nil when no kqueue can be had.
func newBackend() backend {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil
	}
	unix.CloseOnExec(kq)
	wake := unix.Kevent_t{Ident: wakeIdent, Filter: unix.EVFILT_USER, Flags: unix.EV_ADD | unix.EV_CLEAR}
	if _, err := kevent(kq, []unix.Kevent_t{wake}, nil); err != nil {
		unix.Close(kq)
		return nil
	}
	b := &kqueueBackend{kq: kq, subs: make(map[int]*kqueueSub), done: make(chan struct{})}
	go b.loop()
	return b
}

func (b *kqueueBackend) method() string { return "kqueue" }

func (b *kqueueBackend) watch(pid int, exited func()) (func(), error) {
	sub := &kqueueSub{exited: exited}
	b.mu.Lock()
	b.subs[pid] = sub
	b.mu.Unlock()
	var ev unix.Kevent_t
	unix.SetKevent(&ev, pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ev.Fflags = unix.NOTE_EXIT
	_, err := kevent(b.kq, []unix.Kevent_t{ev}, nil)
	stop := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.subs[pid] != sub {
			return
		}
		delete(b.subs, pid)
		var del unix.Kevent_t
		unix.SetKevent(&del, pid, unix.EVFILT_PROC, unix.EV_DELETE)
		kevent(b.kq, []unix.Kevent_t{del}, nil)
	}
	switch {
	case errors.Is(err, unix.ESRCH):
		stop()
		return nil, errExited
	case err != nil:
		stop()
		return nil, errUnwatchable
	}
	// A zombie may be accepted without ever firing: it has exited already.
	if !Alive(pid) {
		stop()
		return nil, errExited
	}
	return stop, nil
}

// loop waits for exits and calls their callbacks outside the lock, which
// stop takes.
func (b *kqueueBackend) loop() {
	defer close(b.done)
	events := make([]unix.Kevent_t, 32)
	for {
		n, err := kevent(b.kq, nil, events)
		if err != nil {
			return
		}
		var fire []func()
		closing := false
		b.mu.Lock()
		for _, ev := range events[:n] {
			switch {
			case ev.Filter == unix.EVFILT_USER:
				closing = true
			case ev.Filter == unix.EVFILT_PROC && ev.Fflags&unix.NOTE_EXIT != 0:
				pid := int(ev.Ident)
				if sub := b.subs[pid]; sub != nil {
					delete(b.subs, pid)
					fire = append(fire, sub.exited)
				}
			}
		}
		b.mu.Unlock()
		for _, f := range fire {
			f()
		}
		if closing {
			return
		}
	}
}

// kevent is unix.Kevent, retried when a signal interrupts it.
func kevent(kq int, changes, events []unix.Kevent_t) (int, error) {
	for {
		n, err := unix.Kevent(kq, changes, events, nil)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// close wakes the wait loop, waits for it and closes the kqueue.
func (b *kqueueBackend) close() {
	wake := unix.Kevent_t{Ident: wakeIdent, Filter: unix.EVFILT_USER, Fflags: unix.NOTE_TRIGGER}
	if _, err := kevent(b.kq, []unix.Kevent_t{wake}, nil); err == nil {
		<-b.done
	}
	unix.Close(b.kq)
}
