package state

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"boneyard/internal/atomicfile"
)

// addrFile names the file in the state directory where a running server
// records the address it listens on, for `boneyard url`.
const addrFile = "addr"

// RecordAddr writes addr (host:port) to the state directory's addr file,
// atomically and with mode 0600, and returns a func that removes the file
// again unless another server has recorded itself since.
func RecordAddr(dir, addr string) (remove func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, addrFile)
	if err := atomicfile.Replace(path, []byte(addr+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("record address in %s: %w", path, err)
	}
	return func() {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == addr {
			os.Remove(path)
		}
	}, nil
}

// RunningAddr returns the address a boneyard recorded in the state
// directory, if a boneyard answers its health check there within timeout.
// A leftover file of a server that died is ignored.
func RunningAddr(dir string, timeout time.Duration) (string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, addrFile))
	if err != nil {
		return "", false
	}
	addr := strings.TrimSpace(string(b))
	if _, err := ListenAddr(addr); err != nil {
		return "", false
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
		return "", false
	}
	client := &http.Client{Timeout: timeout}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil || resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		return "", false
	}
	return addr, true
}

// TokenAccepted asks the boneyard at addr whether it accepts token, so that
// `boneyard url` never prints a URL that answers 401: a server started with
// BONEYARD_TOKEN uses that token, not the persisted one.
func TokenAccepted(addr, token string, timeout time.Duration) (bool, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/api/processes", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return false, fmt.Errorf("ask the boneyard at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode != http.StatusUnauthorized, nil
}
