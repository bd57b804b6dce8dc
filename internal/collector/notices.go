package collector

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"boneyard/internal/hublog"
)

// Notices: which events deserve a desktop notification, decided once for
// every open page. A hub's death is announced at once, a hub that stays
// stuck once it has been so for StuckNotice, an orphan hub process when
// it appears. Clean stops are not, nor is anything boneyard's own actions
// caused (the journal leaves those out of what it derives). A hub that
// keeps dying is folded: at most one notice per workspace per FoldWindow,
// the next one saying how many times it died in the last FlapWindow.

const (
	// FlapWindow is how far back a workspace's hub deaths are counted.
	FlapWindow = 10 * time.Minute
	// FlapDeaths is how many deaths in FlapWindow make a hub flapping.
	FlapDeaths = 3
	// FoldWindow is the least time between two death notices of one
	// workspace.
	FoldWindow = 5 * time.Minute
	// StuckNotice is how long a hub must stay stuck to be announced.
	StuckNotice = 5 * time.Second
	// maxNotices is how many of the latest notices a snapshot carries.
	maxNotices = 20
	// maxNoticeBody bounds a notice's text, in bytes.
	maxNoticeBody = 200
)

// Notice is an event a page may show as a desktop notification.
type Notice struct {
	ID          string // unique across boneyard runs: NoticeRun and Serial
	Serial      uint64 // increases with each notice of one run, from 1
	Kind        Kind   // KindHubDied, KindHubStuck or KindOrphanAppeared
	WorkspaceID string // "" for an orphan hub process
	Title       string // the workspace's name, or "orphan hub process"
	Body        string // e.g. "hub died 3 times in 10 min"
	Time        time.Time
}

// notifier turns the events of successive collections into notices.
type notifier struct {
	run       string
	serial    uint64
	recent    []Notice             // the latest, oldest first
	announced map[string]time.Time // each workspace's last death notice
	folded    map[string]int       // deaths since, not announced
	names     map[string]string    // the names of announced workspaces
	stuck     map[string]stuckHub  // hubs reported stuck, not announced yet
}

// stuckHub is a hub the journal reported stuck.
type stuckHub struct {
	since time.Time
	name  string
	pid   int
}

func newNotifier() *notifier {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &notifier{
		run:       hex.EncodeToString(b[:]),
		announced: make(map[string]time.Time),
		folded:    make(map[string]int),
		names:     make(map[string]string),
		stuck:     make(map[string]stuckHub),
	}
}

// step takes the events the journal derived from a collection at now and
// announces what deserves it. deaths counts a workspace's hub deaths in
// FlapWindow; stuckPID is the pid of a workspace's hub if it is stopped
// now, else 0.
func (n *notifier) step(now time.Time, evs []Event, deaths, stuckPID func(id string) int) {
	for _, e := range evs {
		switch e.Kind {
		case KindHubDied:
			delete(n.stuck, e.WorkspaceID)
			n.died(e, deaths(e.WorkspaceID), now)
		case KindHubStuck:
			n.stuck[e.WorkspaceID] = stuckHub{since: e.Time, name: e.Name, pid: e.PID}
		case KindOrphanAppeared:
			where := e.Cwd
			if where == "" {
				where = "an unknown directory"
			}
			n.add(Notice{Kind: e.Kind, Title: "orphan hub process", Time: e.Time,
				Body: "pid " + strconv.Itoa(e.PID) + " in " + where + ": " + e.Detail})
		default:
			// Recovered, stopped, gone: no longer stuck.
			delete(n.stuck, e.WorkspaceID)
		}
	}
	for _, id := range sortedKeys(n.stuck) {
		st := n.stuck[id]
		switch {
		case stuckPID(id) != st.pid:
			delete(n.stuck, id)
		case now.Sub(st.since) >= StuckNotice:
			delete(n.stuck, id)
			n.add(Notice{Kind: KindHubStuck, WorkspaceID: id, Title: st.name, Time: now,
				Body: "hub stuck for " + now.Sub(st.since).Round(time.Second).String() + ": pid " + strconv.Itoa(st.pid) + " alive, not answering"})
		}
	}
	for _, id := range sortedKeys(n.announced) {
		if now.Sub(n.announced[id]) < FoldWindow {
			continue
		}
		if n.folded[id] == 0 {
			delete(n.announced, id)
			delete(n.names, id)
			continue
		}
		delete(n.folded, id)
		n.announced[id] = now
		n.add(Notice{Kind: KindHubDied, WorkspaceID: id, Title: n.names[id], Time: now, Body: diedTimes(deaths(id))})
	}
}

// died announces the death e, or folds it into the next notice when the
// workspace had one less than FoldWindow ago. count is the workspace's
// deaths in FlapWindow, e included.
func (n *notifier) died(e Event, count int, now time.Time) {
	id := e.WorkspaceID
	if at, ok := n.announced[id]; ok && now.Sub(at) < FoldWindow {
		n.folded[id]++
		return
	}
	body := "hub died"
	if count > 1 {
		body = diedTimes(count)
	} else if e.Detail != "" {
		body += " (" + e.Detail + ")"
	}
	n.announced[id], n.names[id] = now, e.Name
	n.add(Notice{Kind: KindHubDied, WorkspaceID: id, Title: e.Name, Time: e.Time, Body: body})
}

// diedTimes is "hub died 3 times in 10 min".
func diedTimes(count int) string {
	return fmt.Sprintf("hub died %d times in %d min", count, int(FlapWindow/time.Minute))
}

// add numbers x and keeps it among the latest.
func (n *notifier) add(x Notice) {
	n.serial++
	x.Serial = n.serial
	x.ID = n.run + "-" + strconv.FormatUint(n.serial, 10)
	x.Title = hublog.Clip(x.Title, maxNoticeBody)
	x.Body = hublog.Clip(x.Body, maxNoticeBody)
	n.recent = append(n.recent, x)
	if len(n.recent) > maxNotices {
		n.recent = slices.Clone(n.recent[len(n.recent)-maxNotices:])
	}
}

// stepSnapshot is step for the events derived from s.
func (n *notifier) stepSnapshot(s *Snapshot, evs []Event) {
	var deaths map[string]int // counted on first need
	n.step(s.Taken, evs, func(id string) int {
		if deaths == nil {
			deaths = deathsSince(s.journal, s.Taken.Add(-FlapWindow))
		}
		return deaths[id]
	}, func(id string) int {
		if w, ok := s.Workspace(id); ok && w.Status == StatusStopped {
			return w.HubPID
		}
		return 0
	})
}

// attach gives s the latest notices.
func (n *notifier) attach(s *Snapshot) {
	s.Notices = slices.Clip(slices.Clone(n.recent))
	s.NoticeRun = n.run
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
