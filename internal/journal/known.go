package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"boneyard/internal/atomicfile"
	"boneyard/internal/safefile"
)

// KnownFileName holds the workspaces boneyard has seen, in the journal's
// directory.
const KnownFileName = "known.json"

// maxKnownFile bounds the read of known.json.
const maxKnownFile = 16 << 20

// Known is a workspace boneyard has seen in the registry, remembered after
// its entry is gone (bones deletes the entry of a hub that stops).
type Known struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Cwd           string    `json:"cwd"`
	Status        string    `json:"status"`  // the last status observed in the registry
	Present       bool      `json:"present"` // in the registry at the last observation
	PID           int       `json:"pid,omitempty"`
	PIDCreate     time.Time `json:"pid_create,omitzero"`
	DirExists     bool      `json:"dir_exists"`
	AgentIDExists bool      `json:"agent_id_exists"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"` // the last observation listing it
	LastRunning   time.Time `json:"last_running,omitzero"`
	LastEvent     *Event    `json:"last_event,omitempty"`
	Death         *Event    `json:"death,omitempty"`  // the last hub-died, until acknowledged
	Ending        *Event    `json:"ending,omitempty"` // how its hub or entry last ended, until it is back
}

// state is k as the observation that last listed it saw it.
func (k Known) state() WorkspaceState {
	return WorkspaceState{
		ID: k.ID, Name: k.Name, Cwd: k.Cwd, Status: k.Status, PID: k.PID, PIDCreate: k.PIDCreate,
		DirExists: k.DirExists, AgentIDExists: k.AgentIDExists,
	}
}

// knownFile is known.json.
type knownFile struct {
	Version    int          `json:"version"`
	Saved      time.Time    `json:"saved"`
	Workspaces []Known      `json:"workspaces"`
	Orphans    []OrphanProc `json:"orphans"`
}

// loadKnown reads known.json; a missing file is an empty set.
func loadKnown(path string) (knownFile, error) {
	f, _, err := safefile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return knownFile{}, nil
	}
	if err != nil {
		return knownFile{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKnownFile+1))
	if err != nil {
		return knownFile{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxKnownFile {
		return knownFile{}, fmt.Errorf("read %s: larger than %d bytes", path, maxKnownFile)
	}
	var kf knownFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return knownFile{}, fmt.Errorf("read %s: %w", path, err)
	}
	for _, k := range kf.Workspaces {
		if k.ID == "" {
			return knownFile{}, fmt.Errorf("read %s: a workspace without an id", path)
		}
	}
	return kf, nil
}

// saveKnown replaces known.json.
func saveKnown(path string, kf knownFile) error {
	kf.Version = 1
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return atomicfile.Replace(path, append(data, '\n'), fileMode)
}

// setAside renames a known.json that cannot be read out of the way, so
// that nothing overwrites what a person may want to look at.
func setAside(path string, now time.Time) (string, error) {
	aside := path + ".bad-" + now.UTC().Format("20060102T150405")
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("set aside %s: %w", path, err)
	}
	return aside, nil
}

// Down is a known workspace whose hub is down: its entry is gone from the
// registry (bones deleted it when the hub stopped, or pruned it once the
// hub died) while the workspace itself, its directory and its
// .bones/agent.id, is still there.
type Down struct {
	Known
	What   string    // "hub stopped cleanly", "stopped from boneyard", "hub died", "registry entry removed"…
	Detail string    // the event's detail, "" if none
	Since  time.Time // when boneyard saw it happen; zero when it never saw
}

// Summary is the one line a page shows: "hub stopped cleanly 14:02",
// "hub died 14:02 (killed: …)", times relative to now's day.
func (d Down) Summary(now time.Time) string {
	s := d.What
	if !d.Since.IsZero() {
		s += " " + clock(d.Since, now)
	}
	if d.Detail != "" && d.Died() {
		s += " (" + d.Detail + ")"
	}
	return s
}

// Died reports whether the workspace went down because its hub died.
func (d Down) Died() bool {
	e := d.Ending
	if e == nil {
		e = d.LastEvent
	}
	return e != nil && e.Kind == KindHubDied
}

// downOf returns k as a Down, from the event that ended it (its last one
// when none did: a death acknowledged since is still how it ended).
func downOf(k Known) Down {
	d := Down{Known: k, What: "no longer in the registry"}
	e := k.Ending
	if e == nil {
		e = k.LastEvent
	}
	if e == nil {
		return d
	}
	d.Since, d.Detail = e.Time, e.Detail
	switch {
	case e.Kind == KindHubStopped && strings.HasPrefix(e.Detail, FromBoneyard):
		d.What = "stopped from boneyard"
	case e.Kind == KindHubStopped:
		d.What = "hub stopped cleanly"
	case e.Kind == KindHubDied:
		d.What = "hub died"
	case e.Kind == KindRemoved:
		d.What = "registry entry removed"
	case e.Kind == KindPruned:
		d.What = "registry entry pruned"
	case e.Kind == KindReaped:
		d.What = "hub reaped"
	default:
		d.Since, d.Detail = time.Time{}, ""
	}
	return d
}

// DefaultStateDir is a workspace's bones state directory when BONES_DIR
// does not move it.
func DefaultStateDir(cwd string) string { return filepath.Join(cwd, ".bones") }

// markers reports whether the workspace at cwd still exists: its
// directory, and the agent.id marker in its state directory.
func markers(cwd string, stateDir func(string) string) (dir, agentID bool) {
	fi, err := os.Stat(cwd)
	if err != nil || !fi.IsDir() {
		return false, false
	}
	fi, err = os.Lstat(filepath.Join(stateDir(cwd), "agent.id"))
	return true, err == nil && fi.Mode().IsRegular()
}
