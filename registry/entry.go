package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"boneyard/internal/atomicfile"
	"boneyard/internal/safefile"
)

// tmpMarker is part of the name of every temporary file, ours and bones':
// such files are never read as entries.
const tmpMarker = atomicfile.Marker

// RegistryDir returns the directory that holds workspace entry files,
// $HOME/.bones/workspaces: Default().Dir.
func RegistryDir() string { return Default().Dir }

// WorkspaceID returns the 16-hex-character identifier of a workspace: the
// first 8 bytes of SHA-256 over filepath.Clean(cwd). bones uses the same
// algorithm, so both name the same file.
func WorkspaceID(cwd string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(cwd)))
	return hex.EncodeToString(sum[:8])
}

// EntryPath returns the path of the canonical entry file for cwd in the
// default registry.
func EntryPath(cwd string) string { return Default().EntryPath(cwd) }

// EntryPath returns the path of the canonical entry file for cwd,
// Dir/<WorkspaceID(cwd)>.json.
func (r Registry) EntryPath(cwd string) string {
	return filepath.Join(r.Dir, WorkspaceID(cwd)+".json")
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

// validate rejects an entry that Write may not write, and so decodeEntry
// treats as corrupt (skipped, never deleted) rather than judged: no cwd
// (nothing to check for existence), a negative pid (kill(2) would read it
// as a process group), or a start time that does not survive encoding in
// RFC 3339 UTC.
func validate(e Entry) error {
	switch {
	case e.Cwd == "":
		return errors.New("entry has no cwd; set it to the workspace root")
	case e.HubPID < 0:
		return fmt.Errorf("entry for %s has negative hub_pid %d", e.Cwd, e.HubPID)
	}
	if y := e.StartedAt.UTC().Year(); y < 0 || y > maxYear {
		return fmt.Errorf("entry for %s has started_at %v outside years 0-%d", e.Cwd, e.StartedAt, maxYear)
	}
	return nil
}

// decodeEntry parses an entry file: one JSON object that validate accepts.
func decodeEntry(data []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("decode entry: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return Entry{}, errors.New("decode entry: trailing data after the JSON object")
	}
	if err := validate(e); err != nil {
		return Entry{}, fmt.Errorf("decode entry: %w", err)
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

// entryFile is one entry file as read: its bytes, their decoded content and
// the identity of the exact file they came from.
type entryFile struct {
	path  string
	data  []byte
	entry Entry
	info  fs.FileInfo
}

// maxEntrySize bounds what is read from one entry file; a real entry is a
// few hundred bytes.
const maxEntrySize = 16 << 10

// corruptError is the error of an entry file that does not decode.
type corruptError struct {
	path string
	err  error // from decodeEntry
}

func (e *corruptError) Error() string { return fmt.Sprintf("registry %s: %v", e.path, e.err) }

func (e *corruptError) Unwrap() error { return e.err }

// readEntryFile reads the entry file at path through one descriptor, so the
// returned FileInfo identifies the file whose bytes were decoded even if the
// name is replaced meanwhile. Entry files are untrusted: a symlink, a FIFO,
// a device or anything but a regular file is refused without blocking, as
// is a file over maxEntrySize (see safefile) or one owned by another user
// (an error wrapping ErrNotOwned). A file that does not decode comes back
// with its identity and bytes, and a *corruptError.
func readEntryFile(path string) (entryFile, error) {
	data, info, err := safefile.ReadFile(path, maxEntrySize)
	if err != nil {
		return entryFile{}, err
	}
	if err := checkOwner(path, info); err != nil {
		return entryFile{}, err
	}
	e, err := decodeEntry(data)
	if err != nil {
		return entryFile{path: path, data: data, info: info}, &corruptError{path: path, err: err}
	}
	return entryFile{path: path, data: data, entry: e, info: info}, nil
}

// sameFile reports whether a and b describe the same file at the same
// version. Inode numbers are reused once a file is deleted, so size and
// mtime are compared too: a file written later by another writer differs in
// at least its nanosecond mtime.
func sameFile(a, b fs.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) &&
		a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// is reports whether g, read later, is the very file f: the same identity
// and the same bytes. The bytes rule out a file that merely got f's inode
// number, size and coarse mtime after f was deleted.
func (f entryFile) is(g entryFile) bool {
	return sameFile(f.info, g.info) && bytes.Equal(f.data, g.data)
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
