package hubtest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds the wait for a child's ready line.
const readyTimeout = 30 * time.Second

// Options say how Start runs a child.
type Options struct {
	// Mode is what the child plays: a key of Main's modes, or ExitMode.
	Mode string
	// Dir is the child's working directory: a hub's workspace.
	Dir string
	// Path is the executable; empty means Bin("bones").
	Path string
	// Argv0 is the child's argv[0]; empty means Path.
	Argv0 string
	// Args follow argv[0], e.g. HubArgs().
	Args []string
	// Env is added to the test's environment.
	Env []string
	// Lifetime bounds the child; zero means DefaultLifetime.
	Lifetime time.Duration
	// NoReap leaves a child that exits a zombie until Kill, rather than
	// collecting it at once.
	NoReap bool
	// SysProcAttr, if set, is the child's; e.g. a Credential runs it as
	// another user (Path and Dir must then be open to that user: see
	// SharedBin and OpenDir).
	SysProcAttr *syscall.SysProcAttr
}

// Proc is a running child.
type Proc struct {
	Cmd *exec.Cmd
	PID int
	Dir string
	// Ready holds the words of the child's ready line after "ready".
	Ready []string
	// URL is the first of them: a hub's URL.
	URL string

	stdin   io.WriteCloser
	once    sync.Once
	done    chan struct{}
	waitErr error
}

// Start runs a child as o says, waits until it reports ready and kills it
// when the test ends.
func Start(t testing.TB, o Options) *Proc {
	t.Helper()
	p, err := Spawn(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// Spawn is Start for a caller that stops the child itself, with Kill or
// Stop.
func Spawn(o Options) (*Proc, error) {
	path := o.Path
	if path == "" {
		path = Bin("bones")
	}
	argv0 := o.Argv0
	if argv0 == "" {
		argv0 = path
	}
	cmd := &exec.Cmd{Path: path, Args: append([]string{argv0}, o.Args...), Dir: o.Dir, SysProcAttr: o.SysProcAttr}
	cmd.Env = append(append(os.Environ(), modeEnv+"="+o.Mode), o.Env...)
	if o.Lifetime > 0 {
		cmd.Env = append(cmd.Env, lifetimeEnv+"="+o.Lifetime.String())
	}
	ready := &lineWriter{line: make(chan string, 1)}
	cmd.Stdout = ready
	cmd.Stderr = os.Stderr
	// A grandchild holding the output open must not stall Wait.
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s child: %w", o.Mode, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s child: %w", o.Mode, err)
	}
	p := &Proc{Cmd: cmd, PID: cmd.Process.Pid, Dir: o.Dir, stdin: stdin, done: make(chan struct{})}
	if !o.NoReap {
		go p.wait()
	}
	select {
	case line := <-ready.line:
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "ready" {
			p.Kill()
			return nil, fmt.Errorf("%s child did not get ready: %q", o.Mode, line)
		}
		p.Ready = fields[1:]
		if len(p.Ready) > 0 {
			p.URL = p.Ready[0]
		}
	case <-p.done:
		return nil, fmt.Errorf("%s child exited before it got ready: %v", o.Mode, p.waitErr)
	case <-time.After(readyTimeout):
		p.Kill()
		return nil, fmt.Errorf("%s child did not get ready within %v", o.Mode, readyTimeout)
	}
	return p, nil
}

// wait collects the child once, however many callers ask.
func (p *Proc) wait() {
	p.once.Do(func() {
		p.waitErr = p.Cmd.Wait()
		close(p.done)
	})
}

// Kill ends the child by its pid and collects it.
func (p *Proc) Kill() {
	p.Cmd.Process.Kill()
	p.wait()
}

// Stop closes the child's stdin, which AwaitStdin watches, and returns how
// it exited.
func (p *Proc) Stop() error {
	p.stdin.Close()
	p.wait()
	return p.waitErr
}

// Exited reports whether the child exits and is collected within d.
func (p *Proc) Exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	default:
	}
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// lineWriter hands on the first line written to it and drops the rest.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line chan string
	sent bool
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(b), nil
	}
	w.buf = append(w.buf, b...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.line <- string(w.buf[:i])
		w.sent, w.buf = true, nil
	}
	return len(b), nil
}
