package hublog

import (
	"slices"
	"unicode/utf8"
)

// Bounds of what an Entry holds, whatever the line: a page or a response
// of many lines stays small.
const (
	MaxText   = 16 << 10 // Raw, Msg and each field value, in bytes
	MaxFields = 64       // fields kept, by name
)

// Entry is a line read from a state directory's logs, with where it is.
type Entry struct {
	Line
	File string // the file's name when it was read: hub.log, hub.log.1, …
	At   Mark   // where the line starts
	Cut  int64  // bytes of Raw left out (past MaxText, or past MaxLine when read)
}

// newEntry parses a line read from file lf, bounding what it keeps.
func newEntry(lf logFile, rl rawLine) Entry {
	e := Entry{Line: Parse(string(rl.b)), File: lf.name, At: Mark{id: lf.id, off: rl.off}, Cut: rl.cut}
	if len(e.Raw) > MaxText {
		clipped := clipUTF8(e.Raw, MaxText)
		e.Cut += int64(len(e.Raw) - len(clipped))
		e.Raw = clipped
	}
	e.Msg = clipUTF8(e.Msg, MaxText)
	if len(e.Fields) > MaxFields {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys[MaxFields:] {
			delete(e.Fields, k)
		}
	}
	for k, v := range e.Fields {
		if len(v) > MaxText {
			e.Fields[k] = clipUTF8(v, MaxText)
		}
	}
	return e
}

// clipUTF8 cuts s to at most n bytes at a character boundary.
func clipUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
