// Package state holds what a boneyard keeps between runs and shares with
// `boneyard url`: the access token, the validated listen address and the
// record of the running server's address, all under ~/.bones/boneyard.
package state

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"boneyard/internal/atomicfile"
	"boneyard/internal/safefile"
)

// TokenEnv overrides the persisted token.
const TokenEnv = "BONEYARD_TOKEN"

// DefaultAddr is where boneyard listens unless told otherwise.
const DefaultAddr = "127.0.0.1:2663"

// Dir returns ~/.bones/boneyard, where the token and the audit log live.
func Dir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locate home directory (set HOME): %w", err)
	}
	return filepath.Join(home, ".bones", "boneyard"), nil
}

// MinTokenLen is the shortest BONEYARD_TOKEN accepted: a generated token is
// 64 hex digits (256 bits).
const MinTokenLen = 32

// maxTokenFile bounds the token file read.
const maxTokenFile = 4 << 10

// TokenPath is the persisted token's file in dir.
func TokenPath(dir string) string { return filepath.Join(dir, "token") }

// LoadToken returns the access token: BONEYARD_TOKEN when set (at least
// MinTokenLen characters), else the one persisted in dir/token, created with
// mode 0600 on first use. A token file that other users could read or write
// is no longer secret: it is replaced by a new token, with a warning.
func LoadToken(dir string) (string, error) {
	if t := strings.TrimSpace(os.Getenv(TokenEnv)); t != "" {
		if len(t) < MinTokenLen {
			return "", fmt.Errorf("%s is %d characters, too short to guard your hubs: use at least %d, e.g. the output of 'openssl rand -hex 32', or unset it to use the generated token", TokenEnv, len(t), MinTokenLen)
		}
		return t, nil
	}
	path := TokenPath(dir)
	t, info, err := readToken(path)
	if err == nil && info.Mode().Perm()&0o077 != 0 {
		slog.Warn("token file was accessible to other users; replaced it with a new token (bookmarks with the old one stop working: run 'boneyard url')",
			"path", path, "mode", info.Mode().Perm().String())
		return RotateToken(dir)
	}
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return t, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	token := newToken()
	// Created complete or not at all: a boneyard starting alongside never
	// reads a half-written token, and the first one to link its file wins.
	err = atomicfile.Create(path, []byte(token+"\n"), 0o600)
	if errors.Is(err, fs.ErrExist) {
		t, _, err := readToken(path)
		return t, err
	}
	if err != nil {
		return "", fmt.Errorf("create token file %s: %w", path, err)
	}
	return token, nil
}

// RotateToken replaces the persisted token with a new one and returns it. A
// running server notices the new file and ends every session.
func RotateToken(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	token := newToken()
	if err := atomicfile.Replace(TokenPath(dir), []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write new token %s: %w", TokenPath(dir), err)
	}
	// Sessions opened with the old token end with it, also for a server
	// that is not running now.
	if err := os.Remove(SessionsPath(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("end the sessions of the old token (%s): %w", SessionsPath(dir), err)
	}
	return token, nil
}

// newToken is 256 random bits in hex.
func newToken() string {
	buf := make([]byte, 32)
	rand.Read(buf) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(buf)
}

func readToken(path string) (string, fs.FileInfo, error) {
	b, info, err := safefile.ReadFile(path, maxTokenFile)
	if err != nil {
		return "", nil, fmt.Errorf("read token file %s: %w", path, err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", nil, fmt.Errorf("token file %s is empty: delete it to create a new token", path)
	}
	return t, info, nil
}

// TokenEqual reports whether got is the token want (never for an empty
// got). It compares in constant time; hashing first hides the length too.
func TokenEqual(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && got != ""
}

// ListenAddr validates a --addr value and returns the address to listen on.
// Only loopback hosts are accepted: 127.0.0.0/8, ::1 and localhost (which
// is bound as 127.0.0.1 so the printed URL is unambiguous).
func ListenAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: want HOST:PORT, e.g. %s: %w", addr, DefaultAddr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("--addr %q: port must be a number from 0 to 65535 (0 picks a free port)", addr)
	}
	if strings.EqualFold(host, "localhost") {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	ip, err := netip.ParseAddr(host)
	ip = ip.Unmap()
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return "", fmt.Errorf("--addr %q: boneyard listens on loopback only (127.0.0.1, ::1 or localhost), because anyone who can reach it can stop your hubs", addr)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// URL is the bookmarkable dashboard URL for a listener address and token.
func URL(addr, token string) string {
	return "http://" + addr + "/?token=" + url.QueryEscape(token)
}
