package collector

import (
	"errors"
	"slices"
	"testing"
	"time"

	"boneyard/procscan"
	"boneyard/registry"
)

func ws(id string, st Status, res *procscan.Resources) Workspace {
	w := Workspace{Status: st, Resources: res}
	w.ID, w.Cwd, w.Name = id, "/ws/"+id, id
	return w
}

func snap(orphans []registry.OrphanHub, rows ...Workspace) *Snapshot {
	return &Snapshot{Workspaces: rows, Orphans: orphans}
}

func TestDiff(t *testing.T) {
	res := func(cpu float64, ports ...int) *procscan.Resources {
		return &procscan.Resources{CPUPercent: cpu, RSS: 1 << 20, Uptime: time.Minute, Ports: ports}
	}
	renamed := ws("b", StatusIdle, nil)
	renamed.Name = "other"
	locked := ws("b", StatusIdle, nil)
	locked.Lock.Held, locked.Lock.PID = true, 42
	orphan := registry.OrphanHub{PID: 7, ETime: "01:00", Reason: "cwd missing from registry", ProcessOnly: true}
	older := orphan
	older.ETime = "01:05"
	gone := orphan
	gone.Reason = "cwd no longer exists"

	base := snap(nil, ws("a", StatusRunning, res(1, 80)), ws("b", StatusIdle, nil))
	tests := []struct {
		name      string
		prev      *Snapshot
		next      *Snapshot
		want      Changes
		empty     bool
		ignoreRes bool // nothing but resource numbers changed
	}{
		{name: "identical", prev: base, next: base, empty: true, ignoreRes: true},
		{name: "from nil", prev: nil, next: base, want: Changes{Added: []string{"a", "b"}, Order: true, Counts: true}},
		{name: "cpu moved", prev: base, next: snap(nil, ws("a", StatusRunning, res(2, 80)), ws("b", StatusIdle, nil)),
			want: Changes{Resources: []string{"a"}}, ignoreRes: true},
		{name: "port opened", prev: base, next: snap(nil, ws("a", StatusRunning, res(1, 80, 81)), ws("b", StatusIdle, nil)),
			want: Changes{Changed: []string{"a"}}},
		{name: "renamed", prev: base, next: snap(nil, ws("a", StatusRunning, res(1, 80)), renamed),
			want: Changes{Changed: []string{"b"}}},
		{name: "lock taken", prev: base, next: snap(nil, ws("a", StatusRunning, res(1, 80)), locked),
			want: Changes{Changed: []string{"b"}}},
		{name: "hub stopped and re-sorted", prev: base, next: snap(nil, ws("b", StatusIdle, nil), ws("a", StatusStopped, res(1, 80))),
			want: Changes{Changed: []string{"a"}, Order: true, Counts: true}},
		{name: "added and removed", prev: base, next: snap(nil, ws("a", StatusRunning, res(1, 80)), ws("c", StatusIdle, nil)),
			want: Changes{Added: []string{"c"}, Removed: []string{"b"}, Order: true}},
		{name: "orphan appeared", prev: base, next: snap([]registry.OrphanHub{orphan}, base.Workspaces...),
			want: Changes{Counts: true, Orphans: true}},
		{name: "orphan elapsed time only", prev: snap([]registry.OrphanHub{orphan}), next: snap([]registry.OrphanHub{older}),
			empty: true, ignoreRes: true},
		{name: "orphan reason", prev: snap([]registry.OrphanHub{orphan}), next: snap([]registry.OrphanHub{gone}),
			want: Changes{Orphans: true}},
		{name: "error appeared", prev: base, next: &Snapshot{Workspaces: base.Workspaces, Err: errors.New("boom")},
			want: Changes{Err: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.prev, tt.next)
			if !equalChanges(got, tt.want) {
				t.Errorf("Diff = %+v, want %+v", got, tt.want)
			}
			if got.Empty() != tt.empty {
				t.Errorf("Empty() = %v, want %v", got.Empty(), tt.empty)
			}
			if got.Any() == tt.ignoreRes {
				t.Errorf("Any() = %v, want %v", got.Any(), !tt.ignoreRes)
			}
		})
	}
}

func equalChanges(a, b Changes) bool {
	return slices.Equal(a.Added, b.Added) && slices.Equal(a.Removed, b.Removed) &&
		slices.Equal(a.Changed, b.Changed) && slices.Equal(a.Resources, b.Resources) &&
		a.Order == b.Order && a.Counts == b.Counts && a.Orphans == b.Orphans && a.Err == b.Err
}

// Keys cached at collection must equal the ones computed on demand, or Diff
// between a collected and a hand-built snapshot would see phantom changes.
func TestCachedKeysMatch(t *testing.T) {
	rows := []Workspace{ws("a", StatusRunning, &procscan.Resources{CPUPercent: 3, Ports: []int{1}}), ws("b", StatusIdle, nil)}
	cached := &Snapshot{Workspaces: rows, keys: []rowKeys{rows[0].keys(), rows[1].keys()}}
	if ch := Diff(cached, &Snapshot{Workspaces: rows}); !ch.Empty() {
		t.Errorf("Diff(cached, uncached) = %+v, want empty", ch)
	}
	if rows[1].ResourceKey() != "" || rows[0].ResourceKey() == "" {
		t.Errorf("ResourceKey: %q for no resources, %q with resources", rows[1].ResourceKey(), rows[0].ResourceKey())
	}
}

func TestCountsAndLookups(t *testing.T) {
	s := snap([]registry.OrphanHub{{PID: 9, ProcessOnly: true}},
		ws("o", StatusOrphan, nil), ws("s", StatusStopped, nil), ws("u", StatusUnknown, nil),
		ws("i", StatusIdle, nil), ws("r1", StatusRunning, nil), ws("r2", StatusRunning, nil))
	s.Processes = []procscan.Process{{PID: 9}, {PID: 10}}

	c := s.Counts()
	want := Counts{Running: 2, Stopped: 1, Idle: 1, Unknown: 1, Orphan: 1, ProcessOrphans: 1}
	if c != want {
		t.Errorf("Counts = %+v, want %+v", c, want)
	}
	for _, st := range Statuses() {
		if c.Of(st) < 1 {
			t.Errorf("Of(%s) = %d", st, c.Of(st))
		}
	}
	if c.Workspaces() != 6 || c.Problems() != 3 || s.Problems() != 3 {
		t.Errorf("Workspaces %d, Problems %d, want 6, 3", c.Workspaces(), c.Problems())
	}

	lookups := []struct {
		name string
		ok   bool
	}{
		{"workspace r2", func() bool { w, ok := s.Workspace("r2"); return ok && w.Name == "r2" }()},
		{"workspace missing", func() bool { _, ok := s.Workspace("zz"); return !ok }()},
		{"process 10", func() bool { p, ok := s.Process(10); return ok && p.PID == 10 }()},
		{"process missing", func() bool { _, ok := s.Process(11); return !ok }()},
		{"orphan 9", func() bool { o, ok := s.Orphan(9); return ok && o.PID == 9 }()},
		{"orphan missing", func() bool { _, ok := s.Orphan(10); return !ok }()},
	}
	for _, l := range lookups {
		if !l.ok {
			t.Errorf("%s: wrong result", l.name)
		}
	}
}

func TestStatusProblem(t *testing.T) {
	for _, st := range Statuses() {
		want := st == StatusOrphan || st == StatusStopped
		if st.Problem() != want {
			t.Errorf("%s.Problem() = %v", st, st.Problem())
		}
	}
}
