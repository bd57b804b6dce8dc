// Package bonescli runs the bones CLI's hub verbs for boneyard: `bones hub
// start --detach` and `bones hub stop [--force]`, with a fixed argv (never a
// shell), in a workspace root, under a timeout, with bounded output, a
// scrubbed environment and its own process group.
package bonescli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Default bounds of one run.
const (
	DefaultStartTimeout = 30 * time.Second
	DefaultStopTimeout  = 10 * time.Second
	// DefaultMaxOutput bounds what is kept of stdout and of stderr each; a
	// failed start's message ends with the hub log's tail, so the end is
	// what is kept.
	DefaultMaxOutput = 64 << 10
)

// foregroundEnv, inherited by a lazy verb, makes bones run the hub in the
// calling process instead of detaching it; it never reaches the child.
const foregroundEnv = "BONES_HUB_FOREGROUND"

// slotsMessage is how bones hub stop refuses while swarm slots are live.
const slotsMessage = "active swarm slots present"

// ErrNotFound: no bones binary was configured or found on PATH.
var ErrNotFound = errors.New("bones CLI not found")

// ErrSlotsActive: `bones hub stop` refused because swarm slots are live;
// Stop with force ends the hub anyway. Returned wrapped in an *ExitError.
var ErrSlotsActive = errors.New("bones refused: active swarm slots present")

// ErrTimeout: the command did not finish within its timeout and was
// killed. Returned wrapped in an *ExitError.
var ErrTimeout = errors.New("bones did not finish in time")

// CLI is a resolved bones binary and the bounds of each run. The zero
// timeouts and MaxOutput mean the defaults.
type CLI struct {
	Path         string // absolute path of the bones binary
	StartTimeout time.Duration
	StopTimeout  time.Duration
	MaxOutput    int
}

// Find resolves the bones binary: path when given (it must be an
// executable file), else `bones` on PATH. The error says what to do.
func Find(path string) (*CLI, error) {
	if path == "" {
		p, err := exec.LookPath("bones")
		if err != nil {
			return nil, fmt.Errorf("%w: no bones on PATH; install bones or start boneyard with --bones PATH", ErrNotFound)
		}
		path = p
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: --bones %s: %v", ErrNotFound, path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("%w: --bones %s: %v", ErrNotFound, path, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("%w: --bones %s is not an executable file", ErrNotFound, path)
	}
	return &CLI{Path: abs}, nil
}

// Result is what one run of the CLI did.
type Result struct {
	Argv      []string      // the command run, argv[0] first
	Dir       string        // its working directory
	Stdout    string        // the last MaxOutput bytes written
	Stderr    string        // likewise
	Truncated bool          // output beyond MaxOutput was dropped
	ExitCode  int           // -1 when killed or not started
	Took      time.Duration // wall time
}

// Message is the CLI's own explanation: its stderr, else its stdout,
// trimmed.
func (r Result) Message() string {
	if s := strings.TrimSpace(r.Stderr); s != "" {
		return s
	}
	return strings.TrimSpace(r.Stdout)
}

// ExitError is a run that failed: a non-zero exit or a timeout. Its Result
// holds the output.
type ExitError struct {
	Result
	Err error // ErrTimeout, ErrSlotsActive, or the wait error
}

func (e *ExitError) Error() string {
	msg := e.Message()
	if errors.Is(e.Err, ErrTimeout) {
		return fmt.Sprintf("%s: killed after %s: %s", strings.Join(e.Argv, " "), e.Took.Round(time.Millisecond), orNone(msg))
	}
	return fmt.Sprintf("%s exited with %d: %s", strings.Join(e.Argv, " "), e.ExitCode, orNone(msg))
}

func (e *ExitError) Unwrap() error { return e.Err }

func orNone(s string) string {
	if s == "" {
		return "no output"
	}
	return s
}

// Start runs `bones hub start --detach` in root. bones returns once the hub
// is ready; it also exits 0, silently, when a hub already runs there.
func (c *CLI) Start(ctx context.Context, root string) (Result, error) {
	return c.run(ctx, root, or(c.StartTimeout, DefaultStartTimeout), "hub", "start", "--detach")
}

// Stop runs `bones hub stop` in root, with --force when force is set. A
// refusal for live swarm slots is an *ExitError wrapping ErrSlotsActive.
func (c *CLI) Stop(ctx context.Context, root string, force bool) (Result, error) {
	args := []string{"hub", "stop"}
	if force {
		args = append(args, "--force")
	}
	res, err := c.run(ctx, root, or(c.StopTimeout, DefaultStopTimeout), args...)
	var ee *ExitError
	if errors.As(err, &ee) && !force && ee.ExitCode == 1 && strings.Contains(ee.Stderr, slotsMessage) {
		ee.Err = ErrSlotsActive
	}
	return res, err
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// run executes the binary with args in root. The child gets its own
// process group, which a timeout kills as a whole (a detached hub has its
// own session and survives), and boneyard's environment without
// foregroundEnv.
func (c *CLI) run(ctx context.Context, root string, timeout time.Duration, args ...string) (Result, error) {
	res := Result{Argv: append([]string{c.Path}, args...), Dir: root, ExitCode: -1}
	if c.Path == "" {
		return res, ErrNotFound
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return res, fmt.Errorf("bones %s: workspace directory %s is missing", strings.Join(args, " "), root)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	max := c.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	stdout, stderr := &tailBuffer{max: max}, &tailBuffer{max: max}
	cmd := exec.CommandContext(ctx, c.Path, args...)
	cmd.Dir = root
	cmd.Env = scrubbedEnv(os.Environ())
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = stdout, stderr
	setProcessGroup(cmd)
	// Output pipes may be held open by a grandchild; do not wait on them
	// long after the command itself is gone.
	cmd.WaitDelay = time.Second
	began := time.Now()
	err := cmd.Run()
	res.Took = time.Since(began)
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	res.Truncated = stdout.dropped || stderr.dropped
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() == context.DeadlineExceeded:
		return res, &ExitError{Result: res, Err: ErrTimeout}
	case cmd.ProcessState == nil:
		return res, fmt.Errorf("run %s: %w", c.Path, err)
	}
	return res, &ExitError{Result: res, Err: err}
}

// scrubbedEnv is env without foregroundEnv.
func scrubbedEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != foregroundEnv {
			out = append(out, kv)
		}
	}
	return out
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf     bytes.Buffer
	max     int
	dropped bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.max {
		p = p[len(p)-t.max:]
		t.dropped = true
	}
	if over := t.buf.Len() + len(p) - t.max; over > 0 {
		t.buf.Next(over)
		t.dropped = true
	}
	t.buf.Write(p)
	return n, nil
}

func (t *tailBuffer) String() string { return t.buf.String() }
