package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Default bounds of one command.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultMaxOutput = 64 << 10
)

// Runner runs the service manager's commands: a fixed argv found on PATH,
// never a shell, under a timeout, with the output bounded. The zero value
// uses the defaults.
type Runner struct {
	Timeout   time.Duration
	MaxOutput int
}

// LookPath finds the command name on PATH.
func (r Runner) LookPath(name string) (string, error) { return exec.LookPath(name) }

// Run runs argv and returns its output (stdout and stderr, trimmed). A
// command that ran and failed returns its output too, with an error that
// wraps the *exec.ExitError and quotes the output.
func (r Runner) Run(ctx context.Context, argv ...string) (string, error) {
	timeout, max := r.Timeout, r.MaxOutput
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if max <= 0 {
		max = DefaultMaxOutput
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out := &capped{max: max}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	text := strings.TrimSpace(out.buf.String())
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return text, fmt.Errorf("%s: did not finish within %s", strings.Join(argv, " "), timeout)
	case err != nil && text != "":
		return text, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, text)
	case err != nil:
		return text, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return text, nil
}

// capped keeps the first max bytes written to it.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
