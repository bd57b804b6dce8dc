package handlers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// auditLog appends one JSON line per action to a file only the user can read.
type auditLog struct {
	path string
	mu   sync.Mutex
}

// auditRecord is one line of the audit log.
type auditRecord struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Result string    `json:"result"`
	Client string    `json:"client"`
}

func (a *auditLog) append(rec auditRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit encode: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return fmt.Errorf("audit dir %s: %w", filepath.Dir(a.path), err)
	}
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit open %s: %w", a.path, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit write %s: %w", a.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("audit close %s: %w", a.path, err)
	}
	return nil
}
