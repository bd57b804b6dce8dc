//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// hubLog appends JSON lines to <bd>/hub.log in bones' format: ts (UTC,
// seconds, Z), level, event, msg. A log that cannot be opened is skipped, as
// a hub keeps running without one.
type hubLog struct{ f *os.File }

func openLog(bd string) *hubLog {
	f, err := os.OpenFile(filepath.Join(bd, "hub.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return &hubLog{}
	}
	return &hubLog{f: f}
}

// line writes one lifecycle line in a single write, so lines of two
// processes sharing the file never interleave.
func (l *hubLog) line(level, msg string) {
	if l.f == nil {
		return
	}
	b, err := json.Marshal(struct {
		TS    string `json:"ts"`
		Level string `json:"level"`
		Event string `json:"event"`
		Msg   string `json:"msg"`
	}{time.Now().UTC().Format(time.RFC3339), level, "lifecycle", msg})
	if err != nil {
		return
	}
	l.f.Write(append(b, '\n'))
}

func (l *hubLog) Close() {
	if l.f != nil {
		l.f.Close()
	}
}
