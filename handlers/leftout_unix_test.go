//go:build unix

package handlers

import (
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRefusedFilesNamed: a FIFO for agent.id and a symlink for an entry
// file are neither read nor waited on; the page names each and why.
func TestRefusedFilesNamed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("planted")
	e.idle(dir, "planted")
	marker := filepath.Join(dir, ".bones", "agent.id")
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(marker, 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(e.home, "secret.json")
	if err := os.WriteFile(secret, []byte(`{"cwd":"/","name":"secret"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(e.reg.Dir, "0123456789abcdef.json")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	e.refresh()
	d := e.page("/", http.StatusOK)
	var notes []string
	for _, li := range d.all("#health .notes li") {
		notes = append(notes, text(li))
	}
	want := map[string]bool{
		"~/src/planted/.bones/agent.id was not read: it is not a regular file (named pipe).": false,
		"~/.bones/workspaces/0123456789abcdef.json was not read: it is a symbolic link.":     false,
	}
	for _, n := range notes {
		if _, ok := want[n]; ok {
			want[n] = true
		}
	}
	for n, seen := range want {
		if !seen {
			t.Errorf("page notes %q, want %q among them", notes, n)
		}
	}
	wantNone(t, d, "tr[data-name=secret]")
}
