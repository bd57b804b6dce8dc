package main

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// installedCopy copies the test binary to dir/boneyard, so that it runs as
// an installed boneyard would (not from Go's build cache, which service
// install refuses).
func installedCopy(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "boneyard")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// runBinary runs bin's main with args, HOME home and PATH path.
func runBinary(t *testing.T, bin, home, path string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1", "HOME="+home, "PATH="+path, "BONES_DIR=", "BONEYARD_TOKEN=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errOut.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errOut.String()
}

func TestServiceCommand(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the expected unit is systemd's")
	}
	dir := t.TempDir()
	bin := installedCopy(t, filepath.Join(dir))
	home := filepath.Join(dir, "home")
	bones := filepath.Join(dir, "tools", "bones")
	if err := os.MkdirAll(filepath.Dir(bones), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bones, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(home, ".config", "systemd", "user", "boneyard.service")
	empty := t.TempDir() // a PATH without systemctl
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"usage", []string{"service"}, 2, nil, []string{"usage: boneyard service install"}},
		{"unknown verb", []string{"service", "start"}, 2, nil, []string{"usage: boneyard service install"}},
		{"unknown flag", []string{"service", "install", "--open"}, 2, nil, []string{"flag provided but not defined: -open"}},
		{"status takes no flags", []string{"service", "status", "--dry-run"}, 2, nil, []string{"flag provided but not defined: -dry-run"}},
		{"extra argument", []string{"service", "install", "now"}, 2, nil, []string{`unexpected argument "now"`}},
		{"address off loopback", []string{"service", "install", "--dry-run", "--addr", "0.0.0.0:2663"}, 1, nil, []string{"loopback only"}},
		{"zero interval", []string{"service", "install", "--dry-run", "--interval", "0s"}, 1, nil, []string{"--interval must be positive"}},
		{"bones that is not there", []string{"service", "install", "--dry-run", "--bones", filepath.Join(dir, "nope")}, 1, nil, []string{"bones CLI not found"}},
		{"dry run with every flag", []string{"service", "install", "--dry-run", "--addr", "127.0.0.1:2700", "--read-only", "--bones", bones, "--interval", "5s"}, 0,
			[]string{
				"# write " + unit + " (mode 0644):\n",
				"\nExecStart=" + bin + " --addr 127.0.0.1:2700 --interval 5s --bones " + bones + " --read-only\n",
				"\nEnvironment=\"PATH=" + empty + "\"\n",
				"# run:\nsystemctl --user daemon-reload\nsystemctl --user enable --now boneyard.service\n",
			}, nil},
		{"dry run without flags", []string{"service", "install", "--dry-run"}, 0, []string{"\nExecStart=" + bin + "\n"}, nil},
		{"install without systemctl", []string{"service", "install"}, 1, nil, []string{"no systemctl on PATH", "start boneyard from a terminal"}},
		{"status without systemctl", []string{"service", "status"}, 1, nil, []string{"no systemctl on PATH"}},
		{"uninstall of nothing", []string{"service", "uninstall"}, 0, nil, []string{"no service to uninstall (" + unit + " does not exist)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, bin, home, empty, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if _, err := os.Stat(unit); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists (stat: %v): nothing may be written here", unit, err)
			}
		})
	}
}

// TestServiceInstallRefusesGoRun: a binary in Go's build cache is gone
// after `go run`, so no unit may name it.
func TestServiceInstallRefusesGoRun(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := run([]string{"service", "install", "--dry-run"}, &stdout, &stderr); runtime.GOOS == "linux" && (code != 1 || !strings.Contains(stderr.String(), "Go's build cache")) {
		t.Errorf("exit %d, stderr %q; want 1 and a message about Go's build cache", code, stderr.String())
	}
}

// TestReadOnlyServer: a --read-only server refuses every change with 403
// and says so, and `boneyard url` prints its mode.
func TestReadOnlyServer(t *testing.T) {
	ro := startServer(t, "127.0.0.1:0", "--read-only")
	req, _ := http.NewRequest(http.MethodPost, ro.base+"/workspaces", strings.NewReader("cwd=/tmp&name=x"))
	req.Header.Set("Authorization", "Bearer "+ro.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /workspaces on a read-only server: %d, want 403", resp.StatusCode)
	}
	for _, tt := range []struct {
		s        *server
		readOnly bool
	}{{ro, true}, {startServer(t, "127.0.0.1:0"), false}} {
		t.Setenv("HOME", tt.s.home)
		t.Setenv("BONEYARD_TOKEN", "")
		var stdout, stderr bytes.Buffer
		if code := run([]string{"url"}, &stdout, &stderr); code != 0 {
			t.Fatalf("url: %d %s", code, stderr.String())
		}
		if want := strings.TrimPrefix(tt.s.line, "boneyard listening on "); stdout.String() != want {
			t.Errorf("url printed %q, want %q", stdout.String(), want)
		}
		if got, want := stderr.String() == "(read-only)\n", tt.readOnly; got != want {
			t.Errorf("url stderr %q; read-only server: %v", stderr.String(), tt.readOnly)
		}
	}
}
