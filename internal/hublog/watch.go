package hublog

import (
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultPoll is how often a Watcher tells every follower to look, whatever
// fsnotify said: it covers state directories that do not exist yet (or
// cannot be watched), and platforms that report appends late.
const DefaultPoll = time.Second

// Watcher tells followers when a state directory's logs may have changed.
// It watches each directory, not the files, with one fsnotify watch shared
// by every follower of that directory: a rotation renames and creates
// files, and only the directory sees both. One Watcher serves a whole
// server.
type Watcher struct {
	log  *slog.Logger
	poll time.Duration

	mu     sync.Mutex
	fsw    *fsnotify.Watcher // nil when fsnotify is not available: polling only
	dirs   map[string]*watchedDir
	nextID int
	closed bool

	done chan struct{}
	wg   sync.WaitGroup
}

type watchedDir struct {
	subs    map[int]func()
	watched bool
}

// NewWatcher starts a Watcher that also polls every poll (<= 0:
// DefaultPoll). Close stops it.
func NewWatcher(log *slog.Logger, poll time.Duration) *Watcher {
	if log == nil {
		log = slog.Default()
	}
	if poll <= 0 {
		poll = DefaultPoll
	}
	w := &Watcher{log: log, poll: poll, dirs: map[string]*watchedDir{}, done: make(chan struct{})}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("hub logs: cannot watch files; new lines show within the poll interval", "poll", poll, "err", err)
	} else {
		w.fsw = fsw
		w.wg.Add(1)
		go w.events()
	}
	w.wg.Add(1)
	go w.polling()
	return w
}

// Close stops the watcher; followers get no more notices.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.dirs = map[string]*watchedDir{}
	w.mu.Unlock()
	close(w.done)
	var err error
	if w.fsw != nil {
		err = w.fsw.Close()
	}
	w.wg.Wait()
	return err
}

// Watch calls notify whenever a log file of dir may have changed (and at
// every poll) until cancel is called. notify must not block.
func (w *Watcher) Watch(dir string, notify func()) (cancel func()) {
	dir = filepath.Clean(dir)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return func() {}
	}
	d := w.dirs[dir]
	if d == nil {
		d = &watchedDir{subs: map[int]func(){}}
		w.dirs[dir] = d
		d.watched = w.add(dir)
	}
	id := w.nextID
	w.nextID++
	d.subs[id] = notify
	var once sync.Once
	return func() { once.Do(func() { w.unwatch(dir, id) }) }
}

func (w *Watcher) unwatch(dir string, id int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.dirs[dir]
	if d == nil {
		return
	}
	delete(d.subs, id)
	if len(d.subs) > 0 {
		return
	}
	delete(w.dirs, dir)
	if d.watched && w.fsw != nil {
		w.fsw.Remove(dir)
	}
}

// add watches dir; false when it cannot (it may not exist yet). Called
// with w.mu held.
func (w *Watcher) add(dir string) bool {
	return w.fsw != nil && w.fsw.Add(dir) == nil
}

// notify tells the followers of dir, or of every directory for "".
func (w *Watcher) notify(dir string) {
	w.mu.Lock()
	var fns []func()
	for name, d := range w.dirs {
		if dir == "" || name == dir {
			for _, fn := range d.subs {
				fns = append(fns, fn)
			}
		}
	}
	w.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// events turns fsnotify's events into notices: a log file of a watched
// directory changed, or the directory itself went (its watch with it).
func (w *Watcher) events() {
	defer w.wg.Done()
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				w.lost(ev.Name)
			}
			if IsLogName(filepath.Base(ev.Name)) {
				w.notify(filepath.Dir(ev.Name))
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.notify("")
				continue
			}
			w.log.Warn("hub logs: watching files", "err", err)
		}
	}
}

// lost marks dir unwatched when it is a watched directory that went; the
// poll adds it again once it is back.
func (w *Watcher) lost(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if d := w.dirs[filepath.Clean(name)]; d != nil && d.watched {
		w.fsw.Remove(name)
		d.watched = false
	}
}

// polling tells every follower to look at every poll, and watches the
// directories that could not be watched before.
func (w *Watcher) polling() {
	defer w.wg.Done()
	t := time.NewTicker(w.poll)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		w.mu.Lock()
		for dir, d := range w.dirs {
			if !d.watched {
				d.watched = w.add(dir)
			}
		}
		w.mu.Unlock()
		w.notify("")
	}
}
