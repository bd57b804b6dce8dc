package hublog

import (
	"regexp"
	"slices"
	"strings"
)

// levels are the levels of hub log lines, least severe first.
var levels = [...]string{"DEBUG", "INFO", "WARN", "ERROR"}

// events are the events bones logs (bones-cli.md, hub.log).
var events = [...]string{"lifecycle", "rpc", "hook", "error"}

// Levels returns the levels of hub log lines, least severe first.
func Levels() []string { return slices.Clone(levels[:]) }

// Events returns the events a hub logs.
func Events() []string { return slices.Clone(events[:]) }

// ParseLevel returns the level s names, case-insensitively (WARNING is
// WARN); ok is false when s names none.
func ParseLevel(s string) (level string, ok bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "WARNING" {
		s = "WARN"
	}
	if slices.Contains(levels[:], s) {
		return s, true
	}
	return "", false
}

// rank is a level's place in levels.
func rank(level string) int { return slices.Index(levels[:], level) }

// Severity is the level a filter judges the line by: its own level when it
// names one, ERROR for a panic's lines, INFO for any other line.
func (l Line) Severity() string {
	if lv, ok := ParseLevel(l.Level); ok && !l.Plain {
		return lv
	}
	if l.Panic {
		return "ERROR"
	}
	return "INFO"
}

// goroutineHeader is a trace's `goroutine 1 [running]:` line.
var goroutineHeader = regexp.MustCompile(`^goroutine \d+ .*\]:$`)

// frameCall is a trace's function line: `main.main()`,
// `main.(*T).run(0xc000010000, {0x1, 0x2})`.
var frameCall = regexp.MustCompile(`^[^\s(]*[.\w)]\(.*\)$`)

// isPanicLine reports a plain line of a Go panic or fatal error as the
// runtime writes it to the hub's stderr: the first line, the goroutine
// headers, the frames and their file lines, `created by`, and the signal
// line. Each line is judged alone, so that lines read backwards are judged
// alike.
func isPanicLine(s string) bool {
	switch {
	case isPanic(s),
		strings.HasPrefix(s, "[signal "),
		strings.HasPrefix(s, "created by "),
		strings.HasPrefix(s, "\t") && strings.Contains(s, ".go:"),
		goroutineHeader.MatchString(s):
		return true
	}
	return strings.Contains(s, ".") && frameCall.MatchString(s)
}
