// Package atomicfile writes small files so that a reader, or a process
// started after a crash, sees either the old content or the new one, never
// a torn or empty file: the bytes go to a temporary file in the same
// directory, which is synced and then renamed or linked into place, and the
// directory is synced.
//
// Temporary names contain ".tmp.", which the bones CLI and this project's
// readers skip, so a writer killed mid-write leaves nothing that is taken
// for real content.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Marker is part of every temporary file's name.
const Marker = ".tmp."

// TempName returns a fresh temporary name next to path:
// <path>.tmp.<purpose>.<random>.
func TempName(path, purpose string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return path + Marker + purpose + "." + hex.EncodeToString(b[:])
}

// WriteTemp writes data with mode perm to a new temporary file next to path
// and returns its name; the caller renames or links it into place. With
// sync the file is fsynced first. Nothing is left behind on error.
func WriteTemp(path, purpose string, data []byte, perm fs.FileMode, sync bool) (string, error) {
	tmp := TempName(path, purpose)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		// The umask may have narrowed perm at creation.
		err = f.Chmod(perm)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// Replace replaces path with data, mode perm, durably: last writer wins.
func Replace(path string, data []byte, perm fs.FileMode) error {
	tmp, err := WriteTemp(path, "write", data, perm, true)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// Create creates path holding data, mode perm, durably, and fails with an
// error matching fs.ErrExist when path already exists: a hard link never
// replaces a file, so of concurrent creators exactly one wins.
func Create(path string, data []byte, perm fs.FileMode) error {
	tmp, err := WriteTemp(path, "create", data, perm, true)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}
