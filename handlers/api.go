package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"boneyard/internal/collector"
)

// schema is the bones JSON envelope's header.
type schema struct {
	Verb    string `json:"verb"`
	Version string `json:"version"`
}

// workspaceRow is one row of `bones workspaces ls --json`, field for field
// and in the same order.
type workspaceRow struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Cwd         string `json:"cwd"`
	HubStatus   string `json:"hub_status"`
	LastTouched string `json:"last_touched"`
	AgentID     string `json:"agent_id"`
	NATSURL     string `json:"nats_url"`
	HubURL      string `json:"hub_url"`
}

type workspaceList struct {
	Schema schema         `json:"schema"`
	Data   []workspaceRow `json:"data"`
}

// encodeJSON encodes like bones does: compact, HTML characters unescaped,
// one trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

func writeJSON(c echo.Context, v any) error {
	b, err := encodeJSON(v)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}

// apiWorkspaces is GET /api/workspaces: the workspaces.list v1 envelope of
// `bones workspaces ls --json`, sorted by name then cwd; encoded once per
// snapshot.
func (s *Server) apiWorkspaces(c echo.Context) error {
	snap := s.src.Snapshot()
	if err := apiUnavailable(c, snap, false); err != nil {
		return err
	}
	body, err := s.api.get(snap.Seq, struct{}{}, func() ([]byte, error) { return encodeJSON(workspaceListOf(snap)) })
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

func workspaceListOf(snap *collector.Snapshot) workspaceList {
	rows := make([]workspaceRow, 0, len(snap.Workspaces))
	for i := range snap.Workspaces {
		w := &snap.Workspaces[i]
		rows = append(rows, workspaceRow{
			ID:          w.ID,
			Name:        w.Name,
			Cwd:         w.Cwd,
			HubStatus:   string(w.HubStatus),
			LastTouched: w.LastTouched.UTC().Format(time.RFC3339),
			AgentID:     w.AgentID,
			NATSURL:     w.NATSURL,
			HubURL:      w.HubURL,
		})
	}
	slices.SortStableFunc(rows, func(a, b workspaceRow) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Cwd, b.Cwd)
	})
	return workspaceList{Schema: schema{Verb: "workspaces.list", Version: "v1"}, Data: rows}
}

// processRow is one live hub process in GET /api/processes.
type processRow struct {
	PID         int     `json:"pid"`
	Cmd         string  `json:"cmd"`
	Cwd         string  `json:"cwd"`
	ETime       string  `json:"etime"`
	CreateTime  string  `json:"create_time"`
	RSS         uint64  `json:"rss"`
	CPUPercent  float64 `json:"cpu_percent"`
	Orphan      bool    `json:"orphan"`
	Reason      string  `json:"reason,omitempty"`
	WorkspaceID string  `json:"workspace_id,omitempty"`
}

// apiUnavailable answers 503 when the snapshot cannot speak for the
// registry (before the first collection, or when listing it failed) or,
// with scan, for the hub processes: a script must never read "nothing
// registered" or "no hubs" into a failure.
func apiUnavailable(c echo.Context, snap *collector.Snapshot, scan bool) error {
	var msg string
	switch {
	case snap.Seq == 0:
		msg = "boneyard is still collecting its first snapshot; retry in a second."
	case snap.ListErr != nil:
		msg = "boneyard cannot list the registry (" + snap.ListErr.Error() + "); fix that and retry: boneyard re-collects on its own."
	case scan && snap.ScanErr != nil:
		msg = "boneyard cannot list hub processes (" + snap.ScanErr.Error() + "); retry later: boneyard re-collects on its own."
	default:
		return nil
	}
	c.Response().Header().Set("Retry-After", "2")
	return echo.NewHTTPError(http.StatusServiceUnavailable, msg)
}

// apiProcesses is GET /api/processes: every live hub process, with the
// orphan flag and reason the collector decided, under the same definition
// the dashboard uses.
func (s *Server) apiProcesses(c echo.Context) error {
	snap := s.src.Snapshot()
	if err := apiUnavailable(c, snap, true); err != nil {
		return err
	}
	rows := make([]processRow, 0, len(snap.Processes))
	for _, p := range snap.Processes {
		rows = append(rows, processRow{
			PID: p.PID, Cmd: p.Cmd, Cwd: p.Cwd, ETime: p.ETime,
			CreateTime: p.CreateTime.UTC().Format(time.RFC3339Nano),
			RSS:        p.RSS, CPUPercent: p.CPUPercent,
			Orphan: p.Orphan, Reason: p.OrphanReason, WorkspaceID: p.WorkspaceID,
		})
	}
	return writeJSON(c, map[string]any{"processes": rows})
}
