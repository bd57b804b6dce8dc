package hubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Ready tells Start the child is set up: it prints "ready" and words, which
// Start hands on in Proc.Ready.
func Ready(words ...string) {
	fmt.Println(strings.TrimSpace("ready " + strings.Join(words, " ")))
}

// Linger keeps the child alive for its lifetime and returns 0, its exit
// code; the test kills it sooner.
func Linger() int {
	time.Sleep(Lifetime())
	return 0
}

// Sleep is the mode of a process that only waits: it reports ready and
// lingers.
func Sleep() int {
	Ready()
	return Linger()
}

// Exit is the mode of a process that reports ready and exits at once.
func Exit() int {
	Ready()
	return 0
}

// AwaitStdin returns once the child's stdin closes (Proc.Stop, or the test
// process dying) or its lifetime ends.
func AwaitStdin() {
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(Lifetime()):
	}
}

// IgnoreTerm makes the child ignore SIGTERM, like a hub stuck draining.
func IgnoreTerm() {
	signal.Ignore(syscall.SIGTERM)
}

// Hub is a fake bones hub: it listens on 127.0.0.1:0, registers itself,
// reports "ready <url>" and lingers.
type Hub struct {
	// Handler answers the hub's HTTP requests; nil hangs every connection,
	// accepted and never answered.
	Handler http.Handler
	// OnReady registers the listening hub, as bones writes its registry
	// entry; nil registers nothing.
	OnReady func(url string) error
	// OnTerm runs on SIGTERM before the hub exits 0, as bones removes its
	// entry; nil leaves SIGTERM its default unless StateDir is set.
	OnTerm func()
	// StateDir, when set, is the workspace's bones state directory, where
	// the hub keeps hub.pid and logs its lifecycle to hub.log as bones
	// does: `hub: starting (pid=N, …)` and `hub: ready`, and on SIGTERM
	// `hub: stopping`, hub.pid removed, `hub: stopped`. A SIGKILL leaves
	// hub.pid behind and logs nothing.
	StateDir string
}

// logLifecycle appends one bones-style JSON lifecycle line to hub.log.
func (h Hub) logLifecycle(msg string) {
	if h.StateDir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(h.StateDir, "hub.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake hub:", err)
		return
	}
	defer f.Close()
	line, _ := json.Marshal(map[string]string{
		"ts": time.Now().UTC().Format(time.RFC3339), "level": "INFO", "event": "lifecycle", "msg": msg,
	})
	f.Write(append(line, '\n'))
}

// Run plays the hub and returns its exit code.
func (h Hub) Run() int {
	pidFile := filepath.Join(h.StateDir, "hub.pid")
	if h.StateDir != "" {
		if err := os.MkdirAll(h.StateDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "fake hub:", err)
			return 1
		}
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fake hub:", err)
			return 1
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake hub:", err)
		return 1
	}
	h.logLifecycle(fmt.Sprintf("hub: starting (pid=%d, repo-port=%d, coord-port=0)", os.Getpid(), ln.Addr().(*net.TCPAddr).Port))
	url := "http://" + ln.Addr().String()
	if h.Handler == nil {
		go Hang(ln)
	} else {
		go http.Serve(ln, h.Handler)
	}
	if h.OnTerm != nil || h.StateDir != "" {
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			h.logLifecycle("hub: stopping")
			if h.OnTerm != nil {
				h.OnTerm()
			}
			if h.StateDir != "" {
				os.Remove(pidFile)
			}
			h.logLifecycle("hub: stopped")
			os.Exit(0)
		}()
	}
	if h.OnReady != nil {
		if err := h.OnReady(url); err != nil {
			fmt.Fprintln(os.Stderr, "fake hub:", err)
			return 1
		}
	}
	h.logLifecycle("hub: ready")
	Ready(url)
	return Linger()
}

// Hang accepts connections on ln and never reads or answers them, like a
// hub that is wedged.
func Hang(ln net.Listener) {
	var held []net.Conn
	for {
		c, err := ln.Accept()
		if err != nil {
			for _, c := range held {
				c.Close()
			}
			return
		}
		held = append(held, c)
	}
}
