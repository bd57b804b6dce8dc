//go:build unix

package handlers

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDetailLogIsFIFO: a FIFO where hub.log belongs must not hang the
// detail page (opening it would wait for a writer forever).
func TestDetailLogIsFIFO(t *testing.T) {
	e := newEnv(t, false)
	dir := e.workspace("piped")
	id := e.idle(dir, "piped")
	fifo := filepath.Join(dir, ".bones", "hub.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	e.refresh()

	if _, err := tailFile(fifo, logLines); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("tailFile(FIFO) = %v, want a not-a-regular-file error", err)
	}
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
		if got := text(parseDOM(t, body).one("pre#hub-log")); got != "The hub log cannot be read: not a regular file" {
			t.Errorf("log %q, want why it cannot be read", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GET detail hangs on a FIFO hub.log")
	}
}
