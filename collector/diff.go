package collector

import (
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"time"

	"boneyard/procscan"
	"boneyard/registry"
)

// Counts are the per-status totals a page header shows.
type Counts struct {
	Running, Stopped, Idle, Unknown, Orphan int // workspaces per status
	ProcessOrphans                          int // process-only orphan hubs
}

// Of returns the number of workspaces with status s.
func (c Counts) Of(s Status) int {
	switch s {
	case StatusRunning:
		return c.Running
	case StatusStopped:
		return c.Stopped
	case StatusIdle:
		return c.Idle
	case StatusUnknown:
		return c.Unknown
	case StatusOrphan:
		return c.Orphan
	}
	return 0
}

// Workspaces returns the number of workspaces of any status.
func (c Counts) Workspaces() int { return c.Running + c.Stopped + c.Idle + c.Unknown + c.Orphan }

// Problems returns what needs the user's attention: orphan and stopped
// workspaces plus process-only orphan hubs (the page title's count).
func (c Counts) Problems() int { return c.Orphan + c.Stopped + c.ProcessOrphans }

// Counts tallies the snapshot's workspaces per status and its process-only
// orphans.
func (s *Snapshot) Counts() Counts {
	c := Counts{ProcessOrphans: len(s.Orphans)}
	for _, w := range s.Workspaces {
		switch w.Status {
		case StatusRunning:
			c.Running++
		case StatusStopped:
			c.Stopped++
		case StatusIdle:
			c.Idle++
		case StatusUnknown:
			c.Unknown++
		case StatusOrphan:
			c.Orphan++
		}
	}
	return c
}

// Problems is shorthand for s.Counts().Problems().
func (s *Snapshot) Problems() int { return s.Counts().Problems() }

// Workspace returns the workspace with registry id, if the snapshot has it.
func (s *Snapshot) Workspace(id string) (Workspace, bool) {
	i := slices.IndexFunc(s.Workspaces, func(w Workspace) bool { return w.ID == id })
	if i < 0 {
		return Workspace{}, false
	}
	return s.Workspaces[i], true
}

// Process returns the live hub process pid, if the snapshot has it.
func (s *Snapshot) Process(pid int) (procscan.Process, bool) {
	i := slices.IndexFunc(s.Processes, func(p procscan.Process) bool { return p.PID == pid })
	if i < 0 {
		return procscan.Process{}, false
	}
	return s.Processes[i], true
}

// Orphan returns the process-only orphan hub pid, if the snapshot has it.
func (s *Snapshot) Orphan(pid int) (registry.OrphanHub, bool) {
	i := slices.IndexFunc(s.Orphans, func(o registry.OrphanHub) bool { return o.PID == pid })
	if i < 0 {
		return registry.OrphanHub{}, false
	}
	return s.Orphans[i], true
}

// rowKeys are a workspace's two change keys.
type rowKeys struct{ key, res string }

// Key identifies everything a workspace row shows except the numbers that
// move on every collection (CPU %, RSS, uptime): registry fields, id, agent
// id, last touched, status and orphan reason, lock state, listening ports and
// child count. Two snapshots of a row with equal keys render alike, up to
// those numbers and relative times such as "3m ago".
func (w Workspace) Key() string { return w.keys().key }

// ResourceKey identifies the fast-moving numbers Key leaves out: CPU %, RSS
// and uptime. It is "" when the workspace has no resources.
func (w Workspace) ResourceKey() string { return w.keys().res }

func (w Workspace) keys() rowKeys {
	var k keyBuilder
	k.str(w.ID)
	k.str(w.Cwd)
	k.str(w.Name)
	k.str(w.HubURL)
	k.str(w.NATSURL)
	k.int(int64(w.HubPID))
	k.time(w.StartedAt)
	k.str(w.AgentID)
	k.str(string(w.HubStatus))
	k.time(w.LastTouched)
	k.str(string(w.Status))
	k.str(w.OrphanReason)
	k.bool(w.Lock.Held)
	k.int(int64(w.Lock.PID))
	k.str(w.Lock.Path)
	k.bool(w.Resources != nil)
	if w.Resources == nil {
		return rowKeys{key: k.sum()}
	}
	r := w.Resources
	k.int(int64(len(r.Ports)))
	for _, p := range r.Ports {
		k.int(int64(p))
	}
	k.int(int64(r.Children))
	key := k.sum()

	k.reset()
	k.int(int64(math.Float64bits(r.CPUPercent)))
	k.int(int64(r.RSS))
	k.int(int64(r.Uptime))
	return rowKeys{key: key, res: k.sum()}
}

// orphanKey identifies a process-only orphan row except its elapsed time,
// which moves every second.
func orphanKey(o registry.OrphanHub) string {
	var k keyBuilder
	k.int(int64(o.PID))
	k.time(o.CreateTime)
	k.str(o.Cwd)
	k.str(o.Cmd)
	k.str(o.Reason)
	return k.sum()
}

// keyBuilder encodes fields unambiguously (length-prefixed strings) and
// hashes them with 64-bit FNV-1a: a row's key stays short however long its
// paths are.
type keyBuilder struct{ buf []byte }

func (k *keyBuilder) str(s string) {
	k.buf = strconv.AppendInt(k.buf, int64(len(s)), 10)
	k.buf = append(k.buf, ':')
	k.buf = append(k.buf, s...)
}

func (k *keyBuilder) int(n int64) {
	k.buf = strconv.AppendInt(k.buf, n, 10)
	k.buf = append(k.buf, ';')
}

func (k *keyBuilder) bool(b bool) { k.buf = strconv.AppendBool(k.buf, b) }

func (k *keyBuilder) time(t time.Time) { k.int(t.UnixNano()) }

func (k *keyBuilder) reset() { k.buf = k.buf[:0] }

func (k *keyBuilder) sum() string {
	h := fnv.New64a()
	h.Write(k.buf)
	return strconv.FormatUint(h.Sum64(), 16)
}

// Changes lists what differs between two snapshots, for the live-update
// stream to re-render only those fragments.
type Changes struct {
	Added     []string // workspace ids only in the new snapshot, in its order
	Removed   []string // workspace ids only in the old snapshot, in its order
	Changed   []string // ids in both whose Key differs, in the new order
	Resources []string // ids in both with equal Key but different ResourceKey (CPU, RSS, uptime moved)
	Order     bool     // the sequence of workspace ids differs (rows added, removed or re-sorted)
	Counts    bool     // Counts differ (so does the problem count, possibly)
	Orphans   bool     // the process-only orphan section differs, ignoring elapsed times
	Err       bool     // the collection error message differs
}

// Empty reports whether nothing changed at all, resource numbers included.
// To ignore resource numbers, test !Any() instead.
func (c Changes) Empty() bool { return !c.Any() && len(c.Resources) == 0 }

// Any reports whether anything other than resource numbers changed.
func (c Changes) Any() bool {
	return len(c.Added)+len(c.Removed)+len(c.Changed) > 0 || c.Order || c.Counts || c.Orphans || c.Err
}

// Diff compares two snapshots; a nil prev counts as empty. Workspaces are
// matched by id. Fast-moving resource numbers never make a row Changed; they
// are reported separately in Resources.
func Diff(prev, next *Snapshot) Changes {
	if prev == nil {
		prev = &Snapshot{}
	}
	var c Changes
	oldAt := make(map[string]int, len(prev.Workspaces))
	for i, w := range prev.Workspaces {
		oldAt[w.ID] = i
	}
	seen := make(map[string]bool, len(next.Workspaces))
	for i, w := range next.Workspaces {
		seen[w.ID] = true
		j, ok := oldAt[w.ID]
		switch {
		case !ok:
			c.Added = append(c.Added, w.ID)
		case prev.rowKeys(j).key != next.rowKeys(i).key:
			c.Changed = append(c.Changed, w.ID)
		case prev.rowKeys(j).res != next.rowKeys(i).res:
			c.Resources = append(c.Resources, w.ID)
		}
	}
	for _, w := range prev.Workspaces {
		if !seen[w.ID] {
			c.Removed = append(c.Removed, w.ID)
		}
	}
	c.Order = !slices.EqualFunc(prev.Workspaces, next.Workspaces, func(a, b Workspace) bool { return a.ID == b.ID })
	c.Counts = prev.Counts() != next.Counts()
	c.Orphans = !slices.EqualFunc(prev.Orphans, next.Orphans, func(a, b registry.OrphanHub) bool {
		return orphanKey(a) == orphanKey(b)
	})
	c.Err = errString(prev.Err) != errString(next.Err)
	return c
}

// rowKeys returns row i's keys, cached when the collector built s.
func (s *Snapshot) rowKeys(i int) rowKeys {
	if len(s.keys) == len(s.Workspaces) {
		return s.keys[i]
	}
	return s.Workspaces[i].keys()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
