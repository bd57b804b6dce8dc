//go:build unix

package handlers

import (
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDetailLogIsFIFO: a FIFO where hub.log belongs must not hang the
// detail page (opening it would wait for a writer forever).
func TestDetailLogIsFIFO(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	dir := e.workspace("piped")
	id := e.idle(dir, "piped")
	fifo := filepath.Join(dir, ".bones", "hub.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	e.refresh()

	got := make(chan int, 1)
	var body string
	go func() {
		w := e.get("/workspaces/" + id)
		body = w.Body.String()
		got <- w.Code
	}()
	select {
	case code := <-got:
		if code != http.StatusOK {
			t.Fatalf("GET detail: %d", code)
		}
		if got := text(parseDOM(t, body).one("div#log-notes")); got != "hub.log is not a regular file: boneyard does not read it." {
			t.Errorf("note %q, want why the log is not read", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GET detail hangs on a FIFO hub.log")
	}
}
