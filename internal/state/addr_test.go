package state

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// TestLoadTokenConcurrentFirstStart: boneyards starting at once on a fresh
// HOME all end up with the one token on disk, never an empty or partial one.
func TestLoadTokenConcurrentFirstStart(t *testing.T) {
	t.Setenv(TokenEnv, "")
	const rounds, starters = 20, 8
	for round := range rounds {
		dir := filepath.Join(t.TempDir(), "boneyard")
		tokens := make([]string, starters)
		errs := make([]error, starters)
		var wg sync.WaitGroup
		for i := range starters {
			wg.Go(func() { tokens[i], errs[i] = LoadToken(dir) })
		}
		wg.Wait()
		onDisk, err := os.ReadFile(filepath.Join(dir, "token"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range starters {
			if errs[i] != nil || tokens[i] == "" || tokens[i] != strings.TrimSpace(string(onDisk)) {
				t.Fatalf("round %d starter %d: token %q, %v; file holds %q", round, i, tokens[i], errs[i], onDisk)
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 {
			t.Fatalf("round %d: state directory holds %v (%v), want only the token", round, entries, err)
		}
	}
}

func TestRecordAddrAndRunningAddr(t *testing.T) {
	live := fakeBoneyard(t)
	closed := strings.TrimPrefix(hubtest.ClosedURL(t), "http://")

	dir := filepath.Join(t.TempDir(), "boneyard")
	if _, ok := RunningAddr(dir, time.Second); ok {
		t.Fatal("RunningAddr without an addr file reports a server")
	}
	tests := []struct {
		name   string
		record string
		ok     bool
	}{
		{"live server", live, true},
		{"nobody listening", closed, false},
		{"not loopback", "192.0.2.1:80", false},
		{"port 0", "127.0.0.1:0", false},
		{"garbage", "no address", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remove, err := RecordAddr(dir, tt.record)
			if err != nil {
				t.Fatal(err)
			}
			defer remove()
			if fi, err := os.Stat(filepath.Join(dir, addrFile)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("addr file: %v, %v; want mode 0600", fi, err)
			}
			got, ok := RunningAddr(dir, time.Second)
			if ok != tt.ok || (ok && got != tt.record) {
				t.Errorf("RunningAddr = %q, %v; want %q, %v", got, ok, tt.record, tt.ok)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, addrFile)); !os.IsNotExist(err) {
		t.Errorf("addr file left after remove: %v", err)
	}

	// A server's remove leaves the record of a server started after it.
	removeFirst, err := RecordAddr(dir, closed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RecordAddr(dir, live); err != nil {
		t.Fatal(err)
	}
	removeFirst()
	if got, ok := RunningAddr(dir, time.Second); !ok || got != live {
		t.Errorf("after the older server's remove: RunningAddr = %q, %v; want %q", got, ok, live)
	}
}

func TestTokenAccepted(t *testing.T) {
	addr := fakeBoneyard(t)

	tests := []struct {
		name    string
		addr    string
		token   string
		ok      bool
		wantErr bool
	}{
		{"its token", addr, testToken, true, false},
		{"another token", addr, "not-" + testToken, false, false},
		{"nobody listening", strings.TrimPrefix(hubtest.ClosedURL(t), "http://"), testToken, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := TokenAccepted(tt.addr, tt.token, time.Second)
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Errorf("TokenAccepted = %v, %v; want %v, error %v", ok, err, tt.ok, tt.wantErr)
			}
		})
	}
}

const testToken = "0123456789abcdef0123456789abcdef"

// fakeBoneyard serves on 127.0.0.1 what `boneyard url` asks a running
// boneyard: /healthz, and a Bearer-protected /api/processes. It returns the
// listener's host:port.
func fakeBoneyard(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /api/processes", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "{}")
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}
