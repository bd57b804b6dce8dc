package journal

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"boneyard/internal/hublog"
	"boneyard/internal/safefile"
)

// LogEndings returns the EndingFunc that reads a hub's end from its
// workspace's files in stateDir(cwd) (pass lock.StateDir, which honours
// BONES_DIR): first hub.log, where a hub that stops logs `hub: stopping`
// and `hub: stopped`; and, when the log holds nothing of that hub (no log,
// or a log level above INFO), hub.pid, which a clean exit removes and a
// killed hub leaves behind.
func LogEndings(stateDir func(cwd string) string) EndingFunc {
	return func(h Hub) Ending {
		dir := stateDir(h.Cwd)
		v, err := hublog.ReadVerdict(hublog.Path(dir), hublog.Target{PID: h.PID, Created: h.Created})
		if err != nil {
			return Ending{Detail: "hub.log cannot be read: " + err.Error()}
		}
		switch {
		case v.Clean:
			return Ending{Clean: true, Logged: true, Detail: stopDetail(v)}
		case v.Started.IsZero():
			return pidFileEnding(dir, h.PID, v.Log)
		}
		return Ending{Detail: deathDetail(v)}
	}
}

func stopDetail(v hublog.Verdict) string {
	at := v.Stopped.Local().Format("15:04:05")
	if v.StopMsg == "hub: stopping" || v.StopMsg == "hub: stopped" {
		return "clean stop in hub.log at " + at
	}
	return v.StopMsg + " (hub.log, " + at + ")"
}

func deathDetail(v hublog.Verdict) string {
	const none = "no clean stop in hub.log"
	switch v.Cause {
	case hublog.CausePanic:
		return "crashed: " + none + "; " + v.Detail
	case hublog.CauseError:
		return none + "; last error: " + v.Detail
	case hublog.CauseLastLine:
		return "killed: " + none + "; last line: " + v.Detail
	}
	return "killed: " + none + "; nothing logged after its start"
}

// pidFileEnding judges by hub.pid a hub the log says nothing of.
func pidFileEnding(dir string, pid int, hasLog bool) Ending {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return Ending{Detail: "no clean stop known (the workspace's state directory is gone)"}
	}
	why := "no hub.log"
	if hasLog {
		why = "nothing of it in hub.log"
	}
	switch recorded, err := readPIDFile(filepath.Join(dir, "hub.pid")); {
	case errors.Is(err, fs.ErrNotExist):
		return Ending{Clean: true, Detail: "hub.pid removed, as a clean exit does (" + why + ")"}
	case err == nil && recorded == pid:
		return Ending{Detail: "killed: hub.pid left behind (" + why + ")"}
	}
	return Ending{Detail: "no clean stop known (" + why + ")"}
}

// readPIDFile reads the pid in a hub.pid file, safely: a small regular
// file only.
func readPIDFile(path string) (int, error) {
	f, _, err := safefile.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 32)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(bytes.TrimRight(buf[:n], "\x00"))))
}
