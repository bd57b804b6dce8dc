package handlers

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boneyard/registry"
)

func TestAPIWorkspaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	w := e.get("/api/workspaces")
	if w.Code != http.StatusOK || w.Body.String() != `{"schema":{"verb":"workspaces.list","version":"v1"},"data":[]}`+"\n" {
		t.Fatalf("empty list: %d %q", w.Code, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	b := e.workspace("b")
	a2 := e.workspace("a2")
	a1 := e.workspace("a1")
	for dir, name := range map[string]string{b: "beta", a2: "alpha", a1: "alpha"} {
		e.idle(dir, name)
	}
	touched := time.Date(2026, 5, 1, 12, 30, 45, 123456789, time.UTC)
	if err := os.Chtimes(e.reg.EntryPath(b), touched, touched); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	body := e.get("/api/workspaces").Body.String()
	var list struct {
		Schema struct{ Verb, Version string }
		Data   []map[string]any
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, row := range list.Data {
		order = append(order, row["cwd"].(string))
		if len(row) != 8 {
			t.Errorf("row has %d fields, want 8: %v", len(row), row)
		}
	}
	if strings.Join(order, ",") != strings.Join([]string{a1, a2, b}, ",") {
		t.Errorf("order %v, want by name then cwd", order)
	}
	want := `{"id":"` + registry.WorkspaceID(b) + `","name":"beta","cwd":"` + b + `","hub_status":"unknown","last_touched":"2026-05-01T12:30:45Z","agent_id":"agent-b","nats_url":"","hub_url":""}]}` + "\n"
	if !strings.HasSuffix(body, want) {
		t.Errorf("last row:\n%s\nwant suffix\n%s", body, want)
	}
	if !strings.HasPrefix(body, `{"schema":{"verb":"workspaces.list","version":"v1"},"data":[{"id":"`) {
		t.Errorf("envelope: %s", body)
	}
}

func TestAPIProcesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("reg")
	h := startHub(t, "serve", dir, true)
	orphan := startHub(t, "serve", e.workspace("lost"), false)
	if err := os.RemoveAll(filepath.Join(e.home, "src", "lost")); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	w := e.get("/api/processes")
	if w.Code != http.StatusOK {
		t.Fatalf("%d", w.Code)
	}
	var out struct{ Processes []processRow }
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	byPID := map[int]processRow{}
	for _, p := range out.Processes {
		byPID[p.PID] = p
	}
	if p, ok := byPID[h.PID]; !ok || p.Orphan || p.WorkspaceID != registry.WorkspaceID(dir) || p.CreateTime == "" {
		t.Errorf("registered hub %d: %+v (present %v)", h.PID, p, ok)
	}
	if p, ok := byPID[orphan.PID]; !ok || !p.Orphan || p.Reason == "" || !strings.Contains(p.Cmd, "hub start") {
		t.Errorf("orphan %d: %+v (present %v)", orphan.PID, p, ok)
	}
	if len(out.Processes) != 2 {
		t.Errorf("processes: %s, want the two hubs", w.Body.String())
	}
}
