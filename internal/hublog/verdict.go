package hublog

import (
	"errors"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Target names the hub whose end a Verdict is about.
type Target struct {
	PID     int       // the hub's pid; 0: whichever hub started last
	Created time.Time // its process's start time; zero when unknown
}

// Cause says where a death's Detail comes from.
type Cause string

const (
	CauseNone     Cause = ""          // a clean stop, or no line to tell
	CausePanic    Cause = "panic"     // the first line of a Go panic or fatal error
	CauseError    Cause = "error"     // the last ERROR line
	CauseLastLine Cause = "last-line" // nothing said why: the hub's last line
)

// Verdict is what a hub's log says of how it ended.
type Verdict struct {
	Log     bool      // the log exists and has lines
	Started time.Time // the hub's `hub: starting` line; zero when not found
	Clean   bool      // a `hub: stopping` or `hub: stopped` line follows its start
	Stopped time.Time // the last such line's time
	StopMsg string    // its message, e.g. "hub: stopped with drain error: …"
	Cause   Cause     // why Detail, when not Clean
	Detail  string    // a panic's first line, the last ERROR's msg and err, or the last line; at most MaxDetail bytes
}

// MaxDetail bounds Verdict.Detail.
const MaxDetail = 300

// VerdictLines is how many lines ReadVerdict looks at, within
// DefaultMaxBytes.
const VerdictLines = 4000

// startSlack allows for the starting line's second-resolution ts and for
// the gap between a process's start and its first line.
const startSlack = 2 * time.Second

// startPID finds the pid in `hub: starting (pid=N, …)`.
var startPID = regexp.MustCompile(`\(pid=(\d+)`)

// ReadVerdict reads the tail of the log at path and judges t's end. A
// missing log is no error: its Verdict has Log false.
func ReadVerdict(path string, t Target) (Verdict, error) {
	ex, err := Tail(path, VerdictLines, DefaultMaxBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return Verdict{}, nil
	}
	if err != nil {
		return Verdict{}, err
	}
	return Judge(ParseLines(ex.Lines), t), nil
}

// Judge tells from a log's lines, in file order, how hub t ended.
//
// The hub's lines run from its `hub: starting` line (the first with its
// pid at or after its process start; without a start time, the last with
// its pid) to the next starting line of any hub. When its starting line is
// not among the lines (rotated away, or a log level above INFO), they run
// from the first line at or after its start time, or else from after the
// last starting line. A `hub: stopping` or `hub: stopped` line among them
// is a clean stop. Otherwise the death's detail is, by preference, a
// panic's first line (the hub's stderr), the last ERROR line, or the last
// line.
func Judge(lines []Line, t Target) Verdict {
	v := Verdict{Log: len(lines) > 0}
	start, begin, end := segment(lines, t)
	if start >= 0 {
		v.Started = lines[start].Time
	}
	var panicLine, errLine, lastLine *Line
	for i := begin; i < end; i++ {
		l := &lines[i]
		switch {
		case isStop(*l):
			v.Clean, v.Stopped, v.StopMsg = true, l.Time, l.Msg
		case l.Plain && isPanic(l.Msg):
			panicLine = l
		case l.Level == "ERROR":
			errLine = l
		}
		if strings.TrimSpace(l.Text()) != "" {
			lastLine = l
		}
	}
	switch {
	case v.Clean:
	case panicLine != nil:
		v.Cause, v.Detail = CausePanic, Clip(panicLine.Msg, MaxDetail)
	case errLine != nil:
		v.Cause, v.Detail = CauseError, Clip(errorText(*errLine), MaxDetail)
	case lastLine != nil:
		v.Cause, v.Detail = CauseLastLine, Clip(lastLine.Text(), MaxDetail)
	}
	return v
}

// segment returns the bounds of t's lines and the index of its starting
// line, -1 when not found.
func segment(lines []Line, t Target) (start, begin, end int) {
	mine := -1
	for i, l := range lines {
		if !isStart(l) || (t.PID > 0 && startedPID(l) != t.PID) {
			continue
		}
		if t.Created.IsZero() {
			mine = i // the last one
			continue
		}
		if !l.Time.Before(t.Created.Add(-startSlack)) {
			mine = i // the first one
			break
		}
	}
	switch {
	case mine >= 0:
		begin = mine + 1
	case !t.Created.IsZero():
		begin = len(lines)
		for i, l := range lines {
			if !l.Time.IsZero() && !l.Time.Before(t.Created.Add(-startSlack)) {
				begin = i
				break
			}
		}
	default:
		for i, l := range lines {
			if isStart(l) {
				begin = i + 1
			}
		}
	}
	end = len(lines)
	for i := begin; i < len(lines); i++ {
		if isStart(lines[i]) {
			end = i
			break
		}
	}
	return mine, begin, end
}

func isStart(l Line) bool { return !l.Plain && strings.HasPrefix(l.Msg, "hub: starting") }

func isStop(l Line) bool {
	return !l.Plain && (l.Msg == "hub: stopping" || strings.HasPrefix(l.Msg, "hub: stopped"))
}

// isPanic reports a Go panic's or fatal error's first line.
func isPanic(s string) bool {
	return strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ")
}

// startedPID returns the pid a starting line names, 0 if none.
func startedPID(l Line) int {
	if s, ok := l.Fields["pid"]; ok {
		if pid, err := strconv.Atoi(s); err == nil {
			return pid
		}
	}
	if m := startPID.FindStringSubmatch(l.Msg); m != nil {
		pid, _ := strconv.Atoi(m[1])
		return pid
	}
	return 0
}

// errorText is an ERROR line's msg and, when the msg does not already say
// it, its err field.
func errorText(l Line) string {
	msg, e := l.Text(), l.Fields["err"]
	switch {
	case e == "" || strings.Contains(msg, e):
		return msg
	case l.Msg == "":
		return e
	}
	return l.Msg + ": " + e
}

// Clip makes s one line of valid UTF-8 of at most n bytes, for showing
// untrusted text: control characters (terminal escapes included) become
// spaces, and a longer text is cut at a character boundary and marked with
// an ellipsis.
func Clip(s string, n int) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD")))
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	if cut < 0 {
		return ""
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
