package service

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunner(t *testing.T) {
	for _, tt := range []struct {
		name    string
		r       Runner
		argv    []string
		out     string
		wantErr string
	}{
		{"output", Runner{}, []string{"sh", "-c", "echo one; echo two >&2"}, "one\ntwo", ""},
		{"failure keeps the output", Runner{}, []string{"sh", "-c", "echo nope >&2; exit 3"}, "nope", "sh -c echo nope >&2; exit 3: exit status 3: nope"},
		{"bounded output", Runner{MaxOutput: 5}, []string{"sh", "-c", "echo 0123456789"}, "01234", ""},
		{"timeout", Runner{Timeout: 100 * time.Millisecond}, []string{"sleep", "10"}, "", "sleep 10: did not finish within 100ms"},
		{"missing command", Runner{}, []string{"/nonexistent/tool"}, "", "/nonexistent/tool: fork/exec /nonexistent/tool: no such file or directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := tt.r.Run(context.Background(), tt.argv...)
			if out != tt.out {
				t.Errorf("output %q, want %q", out, tt.out)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunnerLookPath(t *testing.T) {
	if _, err := (Runner{}).LookPath("sh"); err != nil {
		t.Errorf("LookPath(sh): %v", err)
	}
	if _, err := (Runner{}).LookPath("no-such-tool-anywhere"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("LookPath of a missing tool: %v", err)
	}
}
