package collector

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"boneyard/lock"
	"boneyard/procscan"
	"boneyard/registry"
)

// probeWorkers bounds the per-workspace lock probes that run at once: each
// is a few syscalls, so more workers than cores only adds contention.
const probeWorkers = 4

// sources are where a collection reads the registry and the processes.
type sources struct {
	reg  registry.Registry                                               // the registry collected
	list func(alive func(registry.Entry) bool) (registry.Listing, error) // Registry.ListReport or the like
	scan func() ([]procscan.Process, error)                              // procscan.Scan or the like
}

// collect gathers one snapshot (Seq unset). A part that fails is recorded in
// Err and leaves its section empty or partial; the other parts are still
// filled. Hubs are checked through probes, so only hubs never seen before
// are probed while the collection waits; resources are re-measured as
// resources.measure decides.
func collect(src sources, probes *probeCache, resources *resourceCache, remeasure bool) *Snapshot {
	start := time.Now()
	var (
		wg               sync.WaitGroup
		listing          registry.Listing
		procs            []procscan.Process
		infoErr, procErr error
	)
	// Listing may wait on a new hub's probe; the scan only reads the process
	// table, so it runs alongside. One scan serves both the process list and
	// the orphans.
	wg.Go(func() { listing, infoErr = probes.listInfo(src.list) })
	wg.Go(func() { procs, procErr = src.scan() })
	wg.Wait()
	infos := listing.Infos

	var (
		errs    []error
		orphans []registry.OrphanHub
	)
	if infoErr != nil {
		// Without the registry every hub process would look unregistered.
		infoErr = fmt.Errorf("list registry: %w", infoErr)
		errs = append(errs, infoErr)
	} else {
		orphans = src.reg.OrphanHubsFrom(infos, procs)
	}
	if procErr != nil {
		procErr = fmt.Errorf("scan hub processes: %w", procErr)
		errs = append(errs, procErr)
	}

	// OrphanHubsFrom sorts by pid and gives each orphan its own Entry.
	entryOrphans := make(map[string]registry.OrphanHub)
	processOnly := make([]registry.OrphanHub, 0, len(orphans))
	for _, o := range orphans {
		if o.ProcessOnly {
			processOnly = append(processOnly, o)
		} else {
			entryOrphans[o.ID] = o
		}
	}

	hubs := make([]HubProcess, 0, len(procs))
	started := make(map[int]time.Time, len(procs))
	others := 0
	for _, p := range procs {
		if p.OtherUser {
			others++
			continue
		}
		hubs = append(hubs, HubProcess{Process: p})
		started[p.PID] = p.CreateTime
	}
	slices.SortFunc(hubs, func(a, b HubProcess) int { return cmp.Compare(a.PID, b.PID) })

	ws := make([]Workspace, len(infos))
	for i, in := range infos {
		w := &ws[i]
		o, isOrphan := entryOrphans[in.ID]
		*w = Workspace{
			Info:    in,
			HubLink: registry.IsLoopbackHTTP(in.HubURL),
			LogPath: LogPath(in.Cwd),
		}
		w.Status = statusOf(w, isOrphan)
		if w.Status == StatusOrphan {
			w.OrphanReason = o.Reason
		}
		if in.HubPID > 0 {
			w.HubStarted = started[in.HubPID]
		}
	}
	// Both fill disjoint fields of ws.
	var lockErr, resErr error
	wg.Go(func() { lockErr = probeLocks(ws) })
	wg.Go(func() { resErr = resources.measure(ws, remeasure) })
	wg.Wait()
	errs = append(errs, lockErr, resErr)
	refused := listing.Skipped
	for i := range ws {
		if r := ws[i].Lock.PidFileRefused; r != "" {
			refused = append(refused, Refused{Path: lock.PidPath(ws[i].Cwd), Cwd: ws[i].Cwd, Reason: r})
		}
	}
	for i := range ws {
		w := &ws[i]
		if w.Status == StatusStopped {
			_, scanned := started[w.HubPID]
			w.StoppedReason = stoppedReason(w, scanned)
		}
		w.CanReap = canReap(w)
		w.CanStart, w.CanStop = canStart(w), canStop(w)
		if w.Status == StatusRunning {
			w.LogModified = modTime(w.LogPath)
		}
	}
	slices.SortFunc(ws, compareWorkspaces)
	markProcesses(ws, processOnly, hubs)

	s := &Snapshot{
		Taken:       start,
		RegistryDir: src.reg.Dir,
		Workspaces:  ws[:len(ws):len(ws)],
		Orphans:     processOnly[:len(processOnly):len(processOnly)],
		Processes:   hubs[:len(hubs):len(hubs)],
		Err:         errors.Join(errs...),
		ListErr:     infoErr,
		ScanErr:     procErr,

		Refused:        slices.Clip(refused),
		Warnings:       slices.Clip(listing.Warnings),
		OtherUsersHubs: others,
	}
	s.Took = time.Since(start)
	return s
}

// modTime is path's modification time, zero when it cannot be read; the
// file itself is not followed or opened.
func modTime(path string) time.Time {
	fi, err := os.Lstat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// compareWorkspaces sorts problems first (by status rank, see sortRank),
// then by name, cwd and id.
func compareWorkspaces(a, b Workspace) int {
	return cmp.Or(
		cmp.Compare(a.sortRank(), b.sortRank()),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Cwd, b.Cwd),
		cmp.Compare(a.ID, b.ID),
	)
}

// probeLocks fills each workspace's Lock. Failures are summarised in one
// error so that a thousand broken workspaces do not make a thousand-line
// message.
func probeLocks(ws []Workspace) error {
	var fails failures
	// One read of the host's lock table serves every workspace.
	table := lock.ReadTable()
	var pool errgroup.Group
	pool.SetLimit(probeWorkers)
	for i := range ws {
		pool.Go(func() error {
			st, err := table.Probe(ws[i].Cwd)
			// No lock file means nobody holds the lock: an idle workspace.
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				fails.add(ws[i].Cwd, err)
			}
			ws[i].Lock = st
			return nil
		})
	}
	pool.Wait()
	return fails.err("probe workspace lock")
}

// resourceCache keeps each hub pid's last measurement. Measuring lists the
// host's listening sockets once and reads every hub's stat, descriptors and
// children, so a collection prompted by a registry change reuses what the
// periodic collection measured shortly before rather than repeat that for
// every burst of changes.
type resourceCache struct {
	maxAge   time.Duration       // a measurement older than this is never reused
	byPID    map[int]measurement // pids measured by the last collection
	measured atomic.Int64        // processes measured since New
}

// measurement is one pid's resources and when they were measured.
type measurement struct {
	res     *procscan.Resources
	created time.Time // the process's create time, which tells a recycled pid
	at      time.Time
}

// measure fills Resources for every workspace whose hub pid is alive. Each
// pid is measured once even if several entries name it. Unless remeasure is
// set, a pid measured less than maxAge ago whose process is still the same
// keeps its measurement, with the uptime brought up to date.
func (rc *resourceCache) measure(ws []Workspace, remeasure bool) error {
	now := time.Now()
	index := make(map[int]int) // pid -> position in pids
	var pids []int
	for i := range ws {
		// Only HubPID is read: probeLocks writes other fields meanwhile.
		pid := ws[i].HubPID
		if _, seen := index[pid]; !seen && pid > 0 && procscan.Alive(pid) {
			index[pid] = len(pids)
			pids = append(pids, pid)
		}
	}
	taken := make([]measurement, len(pids))
	var todo []int // pids to measure now
	for j, pid := range pids {
		created, err := procscan.CreateTime(pid)
		m, ok := rc.byPID[pid]
		if err != nil || !ok || remeasure || now.Sub(m.at) >= rc.maxAge || !m.created.Equal(created) {
			taken[j].created = created
			todo = append(todo, pid)
			continue
		}
		// Ports is never modified after measuring, so the copy may share it.
		r := *m.res
		r.Uptime = now.Sub(created).Truncate(time.Second)
		taken[j] = measurement{res: &r, created: m.created, at: m.at}
	}
	// One call for all of them: the listening sockets are listed once.
	res, errs := procscan.ResourcesOfMany(todo)
	rc.measured.Add(int64(len(todo)))
	var fails failures
	for _, pid := range todo {
		j := index[pid]
		if r, ok := res[pid]; ok {
			r.Ports = slices.Clip(r.Ports)
			taken[j].res, taken[j].at = &r, now
		} else if procscan.Alive(pid) {
			// A hub that exited meanwhile simply has no resources.
			fails.add(fmt.Sprintf("pid %d", pid), errs[pid])
		}
	}
	rc.byPID = make(map[int]measurement, len(pids))
	for j, pid := range pids {
		if taken[j].res != nil {
			rc.byPID[pid] = taken[j]
		}
	}
	for i := range ws {
		if j, ok := index[ws[i].HubPID]; ok {
			ws[i].Resources = taken[j].res
		}
	}
	return fails.err("measure hub resources")
}

// failures counts errors from parallel work and keeps the first one.
type failures struct {
	mu    sync.Mutex
	n     int
	what  string
	first error
}

func (f *failures) add(what string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.what, f.first = what, err
	}
	f.n++
}

func (f *failures) err(op string) error {
	switch f.n {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s %s: %w", op, f.what, f.first)
	default:
		return fmt.Errorf("%s failed %d times, first %s: %w", op, f.n, f.what, f.first)
	}
}
