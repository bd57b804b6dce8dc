package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"boneyard/internal/atomicfile"
)

// tmpMarker is part of the name of every temporary file, ours and bones':
// such files are never read as entries.
const tmpMarker = atomicfile.Marker

// RegistryDir returns the directory that holds workspace entry files,
// $HOME/.bones/workspaces.
func RegistryDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		slog.Warn("registry: no home directory; using a relative registry path", "err", err)
	}
	return filepath.Join(home, ".bones", "workspaces")
}

// WorkspaceID returns the 16-hex-character identifier of a workspace: the
// first 8 bytes of SHA-256 over filepath.Clean(cwd). bones uses the same
// algorithm, so both name the same file.
func WorkspaceID(cwd string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(cwd)))
	return hex.EncodeToString(sum[:8])
}

// EntryPath returns the path of the canonical entry file for cwd.
func EntryPath(cwd string) string {
	return filepath.Join(RegistryDir(), WorkspaceID(cwd)+".json")
}

// IsTempFile reports whether name (a path or a base name) is a temporary
// file of an atomic write, by this package or by bones, rather than an entry.
func IsTempFile(name string) bool {
	return strings.Contains(filepath.Base(name), tmpMarker)
}

// isEntryName reports whether a directory entry name may hold an entry:
// any *.json that is not a temporary file.
func isEntryName(name string) bool {
	return strings.HasSuffix(name, ".json") && !IsTempFile(name)
}

// legacyPID parses the pid out of a legacy `<id>-<pid>.json` name for id.
func legacyPID(name, id string) (int, bool) {
	rest, ok := strings.CutPrefix(name, id+"-")
	if !ok || strings.Contains(name, tmpMarker) {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, ".json")
	if !ok || digits == "" {
		return 0, false
	}
	pid := 0
	for _, c := range digits {
		if c < '0' || c > '9' || pid > 1<<30 {
			return 0, false
		}
		pid = pid*10 + int(c-'0')
	}
	return pid, true
}

// maxYear is the last year encoding/json can write in RFC 3339.
const maxYear = 9999

// decodeEntry parses an entry file. A file that could not have been written
// by Write is rejected, so it is treated as corrupt (skipped, never deleted)
// rather than judged: no cwd (nothing to check for existence), a negative
// pid (kill(2) would read it as a process group), or a start time that does
// not survive re-encoding in UTC.
func decodeEntry(data []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("decode entry: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return Entry{}, errors.New("decode entry: trailing data after the JSON object")
	}
	switch {
	case e.Cwd == "":
		return Entry{}, errors.New("decode entry: no cwd")
	case e.HubPID < 0:
		return Entry{}, fmt.Errorf("decode entry: negative hub_pid %d", e.HubPID)
	}
	if y := e.StartedAt.UTC().Year(); y < 0 || y > maxYear {
		return Entry{}, fmt.Errorf("decode entry: started_at year %d out of range", y)
	}
	e.StartedAt = e.StartedAt.UTC()
	return e, nil
}

// encodeEntry renders e the way bones does: the six keys, started_at in
// RFC 3339 UTC.
func encodeEntry(e Entry) ([]byte, error) {
	e.StartedAt = e.StartedAt.UTC()
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode entry for %s: %w", e.Cwd, err)
	}
	return append(data, '\n'), nil
}

// entryFile is one entry file as read: its decoded content and the identity
// of the exact file that content came from.
type entryFile struct {
	path  string
	entry Entry
	info  fs.FileInfo
}

// readEntryFile opens path and reads it through one descriptor, so the
// returned FileInfo identifies the file whose bytes were decoded even if the
// name is replaced meanwhile.
func readEntryFile(path string) (entryFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return entryFile{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return entryFile{}, fmt.Errorf("registry stat %s: %w", path, err)
	}
	data, err := readAll(f, info.Size())
	if err != nil {
		return entryFile{}, fmt.Errorf("registry read %s: %w", path, err)
	}
	e, err := decodeEntry(data)
	if err != nil {
		return entryFile{path: path, info: info}, fmt.Errorf("registry %s: %w", path, err)
	}
	return entryFile{path: path, entry: e, info: info}, nil
}

// maxEntrySize bounds what is read from one entry file; a real entry is a
// few hundred bytes.
const maxEntrySize = 1 << 20

func readAll(f *os.File, size int64) ([]byte, error) {
	if size > maxEntrySize {
		return nil, fmt.Errorf("file is %d bytes, more than an entry can be", size)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+1))
	if _, err := buf.ReadFrom(io.LimitReader(f, maxEntrySize+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxEntrySize {
		return nil, errors.New("file grew beyond what an entry can be")
	}
	return buf.Bytes(), nil
}

// sameFile reports whether a and b describe the same file at the same
// version. Inode numbers are reused once a file is deleted, so size and
// mtime are compared too: a file written later by another writer differs in
// at least its nanosecond mtime.
func sameFile(a, b fs.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) &&
		a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// cwdGone reports whether cwd definitely no longer exists. Other stat
// failures (permissions, an unmounted volume timing out) are not proof, and
// an entry is never pruned on a guess.
func cwdGone(cwd string) bool {
	_, err := os.Stat(cwd)
	return errors.Is(err, fs.ErrNotExist)
}

// nowUTC is the time stamp used for new rows.
func nowUTC() time.Time { return time.Now().UTC() }
