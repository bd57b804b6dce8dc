package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenAddr(t *testing.T) {
	tests := []struct {
		addr, want, err string
	}{
		{"127.0.0.1:2663", "127.0.0.1:2663", ""},
		{"127.0.0.1:0", "127.0.0.1:0", ""},
		{"127.8.9.10:80", "127.8.9.10:80", ""},
		{"localhost:2663", "127.0.0.1:2663", ""},
		{"LocalHost:1", "127.0.0.1:1", ""},
		{"[::1]:2663", "[::1]:2663", ""},
		{"[::ffff:127.0.0.1]:2663", "127.0.0.1:2663", ""},
		{"0.0.0.0:2663", "", "loopback only"},
		{":2663", "", "loopback only"},
		{"[::]:2663", "", "loopback only"},
		{"192.168.1.2:2663", "", "loopback only"},
		{"example.com:2663", "", "loopback only"},
		{"localhost.example.com:2663", "", "loopback only"},
		{"[fe80::1%lo]:2663", "", "loopback only"},
		{"127.0.0.1", "", "HOST:PORT"},
		{"127.0.0.1:http", "", "port must be a number"},
		{"127.0.0.1:70000", "", "port must be a number"},
	}
	for _, tt := range tests {
		got, err := ListenAddr(tt.addr)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("ListenAddr(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ListenAddr(%q) error %v, want one saying %q", tt.addr, err, tt.err)
		}
	}
}

func TestLoadToken(t *testing.T) {
	t.Setenv(TokenEnv, "")
	dir := filepath.Join(t.TempDir(), "boneyard")
	first, err := LoadToken(dir)
	if err != nil || len(first) != 64 {
		t.Fatalf("first token %q, %v", first, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v, %v", fi, err)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("token dir mode: %v, %v", di, err)
	}
	second, err := LoadToken(dir)
	if err != nil || second != first {
		t.Fatalf("second load %q, %v; want the persisted %q", second, err, first)
	}
	// A token file others could read is no longer secret: it is replaced.
	if err := os.Chmod(filepath.Join(dir, "token"), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := LoadToken(dir)
	if err != nil || third == first || len(third) != 64 {
		t.Fatalf("load of a readable token file = %q, %v; want a new token", third, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "token")); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v after load, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "token")); string(b) != third+"\n" {
		t.Errorf("token file holds %q, want the new token", b)
	}
	env := "from-env-0123456789abcdef0123456"
	t.Setenv(TokenEnv, env)
	if got, err := LoadToken(dir); err != nil || got != env {
		t.Errorf("with %s set: %q, %v", TokenEnv, got, err)
	}
	t.Setenv(TokenEnv, "a")
	if _, err := LoadToken(dir); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("a one-character %s: %v, want a refusal", TokenEnv, err)
	}
	t.Setenv(TokenEnv, "")
	empty := filepath.Join(t.TempDir(), "b")
	if err := os.MkdirAll(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "token"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadToken(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty token file: %v", err)
	}
}

func TestURL(t *testing.T) {
	if got := URL("127.0.0.1:2663", "a b&c"); got != "http://127.0.0.1:2663/?token=a+b%26c" {
		t.Errorf("URL: %q", got)
	}
}

func TestTokenEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
		ok        bool
	}{
		{"abc", "abc", true},
		{"abd", "abc", false},
		{"ab", "abc", false},
		{"", "", false},
		{"abcd", "abc", false},
	}
	for _, tt := range tests {
		if ok := TokenEqual(tt.got, tt.want); ok != tt.ok {
			t.Errorf("TokenEqual(%q, %q) = %v", tt.got, tt.want, ok)
		}
	}
}
