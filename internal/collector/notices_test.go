package collector

import (
	"strings"
	"testing"
	"time"

	"boneyard/internal/journal"
)

// TestNotifier follows the notices of a few collections: each step is one
// collection's events, the deaths the journal counts and the stopped hubs,
// and the notices it must add.
func TestNotifier(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 14, 2, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	died := func(id string, pid int, d time.Duration) Event {
		return Event{Kind: journal.KindHubDied, WorkspaceID: id, Name: "ws-" + id, PID: pid, Time: at(d), Detail: "killed: no clean stop in hub.log"}
	}
	type step struct {
		at     time.Duration
		events []Event
		deaths map[string]int // deaths in FlapWindow, per workspace
		stuck  map[string]int // stopped hubs' pids, per workspace
		want   []string       // "title: body" of the notices added
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "a death is announced with its cause",
			steps: []step{{events: []Event{died("a", 10, 0)}, deaths: map[string]int{"a": 1},
				want: []string{"ws-a: hub died (killed: no clean stop in hub.log)"}}},
		},
		{
			name: "clean stops, starts and actions are not announced",
			steps: []step{{events: []Event{
				{Kind: journal.KindHubStopped, WorkspaceID: "a", Name: "ws-a", Time: t0},
				{Kind: journal.KindHubStarted, WorkspaceID: "a", Name: "ws-a", Time: t0},
				{Kind: journal.KindRegistered, WorkspaceID: "b", Name: "ws-b", Time: t0},
			}}},
		},
		{
			name: "a flapping hub: folded, then one summary when the window ends",
			steps: []step{
				{events: []Event{died("a", 10, 0)}, deaths: map[string]int{"a": 1}, want: []string{"ws-a: hub died (killed: no clean stop in hub.log)"}},
				{at: 20 * time.Second, events: []Event{died("a", 11, 20*time.Second)}, deaths: map[string]int{"a": 2}},
				{at: 40 * time.Second, events: []Event{died("a", 12, 40*time.Second)}, deaths: map[string]int{"a": 3}},
				{at: 4 * time.Minute, deaths: map[string]int{"a": 3}},
				{at: 5 * time.Minute, deaths: map[string]int{"a": 3}, want: []string{"ws-a: hub died 3 times in 10 min"}},
				// The summary opened a new window: a death within it folds.
				{at: 6 * time.Minute, events: []Event{died("a", 13, 6*time.Minute)}, deaths: map[string]int{"a": 4}},
				{at: 10 * time.Minute, deaths: map[string]int{"a": 4}, want: []string{"ws-a: hub died 4 times in 10 min"}},
				// A quiet window closes without a notice; the next death is told at once.
				{at: 15 * time.Minute, deaths: map[string]int{"a": 1}},
				{at: 16 * time.Minute, events: []Event{died("a", 14, 16*time.Minute)}, deaths: map[string]int{"a": 2},
					want: []string{"ws-a: hub died 2 times in 10 min"}},
			},
		},
		{
			name: "deaths of two workspaces are folded apart",
			steps: []step{
				{events: []Event{died("a", 10, 0), died("b", 20, 0)}, deaths: map[string]int{"a": 1, "b": 1},
					want: []string{"ws-a: hub died (killed: no clean stop in hub.log)", "ws-b: hub died (killed: no clean stop in hub.log)"}},
				{at: time.Minute, events: []Event{died("a", 11, time.Minute)}, deaths: map[string]int{"a": 2, "b": 1}},
			},
		},
		{
			name: "a hub stuck for long enough",
			steps: []step{
				{events: []Event{{Kind: journal.KindHubStuck, WorkspaceID: "a", Name: "ws-a", PID: 10, Time: t0}}, stuck: map[string]int{"a": 10}},
				{at: 2 * time.Second, stuck: map[string]int{"a": 10}},
				{at: 6 * time.Second, stuck: map[string]int{"a": 10}, want: []string{"ws-a: hub stuck for 6s: pid 10 alive, not answering"}},
				{at: 12 * time.Second, stuck: map[string]int{"a": 10}},
			},
		},
		{
			name: "a hub stuck for a moment",
			steps: []step{
				{events: []Event{{Kind: journal.KindHubStuck, WorkspaceID: "a", Name: "ws-a", PID: 10, Time: t0}}, stuck: map[string]int{"a": 10}},
				{at: 2 * time.Second, events: []Event{{Kind: journal.KindHubRecovered, WorkspaceID: "a", PID: 10, Time: at(2 * time.Second)}}},
				{at: 8 * time.Second},
			},
		},
		{
			name: "a stuck hub replaced by another pid is not announced",
			steps: []step{
				{events: []Event{{Kind: journal.KindHubStuck, WorkspaceID: "a", Name: "ws-a", PID: 10, Time: t0}}, stuck: map[string]int{"a": 10}},
				{at: 8 * time.Second, stuck: map[string]int{"a": 11}},
			},
		},
		{
			name: "an orphan hub process",
			steps: []step{{events: []Event{{Kind: journal.KindOrphanAppeared, PID: 30, Cwd: "/w/x", Detail: "cwd missing from registry", Time: t0}},
				want: []string{"orphan hub process: pid 30 in /w/x: cwd missing from registry"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNotifier()
			for i, st := range tt.steps {
				before := n.serial
				n.step(at(st.at), st.events,
					func(id string) int { return st.deaths[id] },
					func(id string) int { return st.stuck[id] })
				var got []string
				for _, x := range n.recent {
					if x.Serial > before {
						got = append(got, x.Title+": "+x.Body)
					}
				}
				if strings.Join(got, "\n") != strings.Join(st.want, "\n") {
					t.Errorf("step %d (at %v): notices %q, want %q", i, st.at, got, st.want)
				}
			}
		})
	}
}

// TestNoticeIDs checks that notices are numbered, bounded and told apart
// from another run's.
func TestNoticeIDs(t *testing.T) {
	t.Parallel()
	a, b := newNotifier(), newNotifier()
	if a.run == b.run || len(a.run) != 12 {
		t.Fatalf("runs %q and %q: want two different 12-character ids", a.run, b.run)
	}
	for i := range maxNotices + 5 {
		a.add(Notice{Kind: journal.KindOrphanAppeared, Title: "orphan hub process", Body: strings.Repeat("x", i)})
	}
	s := &Snapshot{}
	a.attach(s)
	if len(s.Notices) != 20 || s.Notices[0].Serial != 6 || s.Notices[19].Serial != 25 || s.Notices[19].ID != a.run+"-25" || s.NoticeRun != a.run {
		t.Errorf("notices %d, serials %d..%d, last id %q: want the 20 latest, 6..25", len(s.Notices), s.Notices[0].Serial, s.Notices[len(s.Notices)-1].Serial, s.Notices[len(s.Notices)-1].ID)
	}
	long := newNotifier()
	long.add(Notice{Title: strings.Repeat("n", 300), Body: strings.Repeat("é", 300)})
	if x := long.recent[0]; len(x.Title) > 200 || len(x.Body) > 200 || !strings.HasSuffix(x.Body, "…") {
		t.Errorf("a long notice keeps %d and %d bytes, want at most 200 each, cut with an ellipsis", len(x.Title), len(x.Body))
	}
}
