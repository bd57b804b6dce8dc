// Package hublog reads a bones hub's log, <state dir>/hub.log, safely: the
// file belongs to the workspace and is untrusted, so it is opened without
// following a symbolic link or blocking on a FIFO, only a regular file is
// read, and only a bounded tail of it, read backwards from the end so that
// the cost does not grow with the file.
//
// A hub writes one JSON object a line (ts, level, event, optional msg and
// other fields); its child's stderr lands in the same file as plain lines
// (`hub: fossil at …`, fatal errors, panics). Parse handles both, and Judge
// tells from the lines how a hub ended: a clean stop or a death, and why.
package hublog

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FileName is the hub log's name in a workspace's bones state directory.
const FileName = "hub.log"

// Path returns the hub log of the state directory stateDir (<ws>/.bones,
// or BONES_DIR).
func Path(stateDir string) string { return filepath.Join(stateDir, FileName) }

// Line is one parsed line of a hub log.
type Line struct {
	Time   time.Time         // ts; a plain line in ParseLines takes the time of the line before it
	Level  string            // DEBUG, INFO, WARN or ERROR; "" for a plain line
	Event  string            // lifecycle, rpc, hook or error; "" for a plain line
	Msg    string            // msg; a plain line's whole text
	Fields map[string]string // every other field, strings unquoted, other values as JSON text; nil if none
	Raw    string            // the line as written, invalid UTF-8 replaced by U+FFFD, no line end
	Plain  bool              // not a JSON object with a valid ts
	Panic  bool              // a plain line of a Go panic or fatal error: its first line or one of its trace
}

// Parse parses one line of a hub log. It never fails: what is not a JSON
// object with a valid RFC 3339 ts is a plain line.
func Parse(raw string) Line {
	raw = strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
	raw = strings.ToValidUTF8(raw, "\uFFFD")
	l := Line{Raw: raw, Msg: raw, Plain: true}
	trimmed := strings.TrimSpace(raw)
	if !strings.HasPrefix(trimmed, "{") {
		l.Panic = isPanicLine(raw)
		return l
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(trimmed), &obj); err != nil {
		return l
	}
	ts, ok := jsonString(obj["ts"])
	if !ok {
		return l
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return l
	}
	l.Time, l.Plain = t, false
	l.Level, _ = jsonString(obj["level"])
	l.Event, _ = jsonString(obj["event"])
	l.Msg, _ = jsonString(obj["msg"])
	for k, v := range obj {
		switch k {
		case "ts", "level", "event", "msg":
			continue
		}
		if l.Fields == nil {
			l.Fields = make(map[string]string, len(obj))
		}
		if s, ok := jsonString(v); ok {
			l.Fields[k] = s
		} else {
			var buf bytes.Buffer
			if json.Compact(&buf, v) == nil {
				l.Fields[k] = buf.String()
			}
		}
	}
	return l
}

// jsonString returns v's value when v is a JSON string.
func jsonString(v json.RawMessage) (string, bool) {
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// ParseLines parses a run of lines in file order. A plain line takes the
// time of the line before it (zero before the first timed line): the
// child's stderr is not timestamped, and its lines belong where they stand.
func ParseLines(raw []string) []Line {
	lines := make([]Line, len(raw))
	var last time.Time
	for i, r := range raw {
		lines[i] = Parse(r)
		if lines[i].Plain {
			lines[i].Time = last
		} else {
			last = lines[i].Time
		}
	}
	return lines
}

// Text is the line as a person reads it: the msg of a JSON line, or its
// event and fields when it has none (`rpc agent=system rpc=tasks.create`);
// a plain line's text.
func (l Line) Text() string {
	if l.Plain || l.Msg != "" {
		return l.Msg
	}
	keys := make([]string, 0, len(l.Fields))
	for k := range l.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys)+1)
	if l.Event != "" {
		parts = append(parts, l.Event)
	}
	for _, k := range keys {
		parts = append(parts, k+"="+l.Fields[k])
	}
	return strings.Join(parts, " ")
}
