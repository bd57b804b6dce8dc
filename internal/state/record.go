package state

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"boneyard/internal/atomicfile"
	"boneyard/internal/safefile"
	"boneyard/procscan"
)

// serversDir holds one record per running server, named by its pid, so a
// server that exits removes its own record and no other.
const serversDir = "servers"

// maxRecordSize bounds a record read; a real one is about 200 bytes.
const maxRecordSize = 4 << 10

// Record is what a running boneyard publishes about itself for `boneyard
// url`: where it listens, its pid, and a hash of its token, so that `url`
// can tell from local state alone, without sending the token anywhere,
// whether the token it holds is the one the server accepts.
type Record struct {
	Addr      string    `json:"addr"`       // host:port it serves on
	PID       int       `json:"pid"`        // its process
	TokenHash string    `json:"token_hash"` // hex SHA-256 of its token
	ReadOnly  bool      `json:"read_only"`  // serves no action
	Started   time.Time `json:"started"`
}

// HashToken is the TokenHash of token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Accepts reports whether the server takes token.
func (r Record) Accepts(token string) bool {
	return subtle.ConstantTimeCompare([]byte(r.TokenHash), []byte(HashToken(token))) == 1
}

// Publish writes r (mode 0600) into dir and returns a func that removes it.
func Publish(dir string, r Record) (remove func(), err error) {
	sdir := filepath.Join(dir, serversDir)
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", sdir, err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(sdir, strconv.Itoa(r.PID)+".json")
	if err := atomicfile.Replace(path, append(data, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("record the running server in %s: %w", path, err)
	}
	return func() { os.Remove(path) }, nil
}

// ErrNotRunning: no record names a live boneyard of this user.
var ErrNotRunning = errors.New("no boneyard of this user is running")

// Running returns the record of the most recently started boneyard that
// verifiably still serves: its pid is alive, runs as this user, and (where
// the platform lists a process's sockets) listens on the recorded port.
// Records of servers that died are removed. Nothing is sent to the
// listener: a squatter on a dead server's port is never told anything.
func Running(dir string) (Record, error) {
	sdir := filepath.Join(dir, serversDir)
	names, err := os.ReadDir(sdir)
	if err != nil {
		return Record{}, ErrNotRunning
	}
	var live []Record
	for _, de := range names {
		pid, err := strconv.Atoi(strings.TrimSuffix(de.Name(), ".json"))
		if err != nil || !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		path := filepath.Join(sdir, de.Name())
		r, err := readRecord(path)
		if err != nil || r.PID != pid {
			continue
		}
		switch verify(r) {
		case nil:
			live = append(live, r)
		case errDead:
			os.Remove(path)
		}
	}
	if len(live) == 0 {
		return Record{}, ErrNotRunning
	}
	slices.SortFunc(live, func(a, b Record) int { return b.Started.Compare(a.Started) })
	return live[0], nil
}

func readRecord(path string) (Record, error) {
	data, _, err := safefile.ReadFile(path, maxRecordSize)
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("server record %s: %w", path, err)
	}
	if _, err := ListenAddr(r.Addr); err != nil {
		return Record{}, fmt.Errorf("server record %s: %w", path, err)
	}
	return r, nil
}

var errDead = errors.New("recorded server is gone")

// verify checks that r's process is this user's and serves r.Addr.
func verify(r Record) error {
	if r.PID <= 0 || !procscan.Alive(r.PID) {
		return errDead
	}
	if mine, err := procscan.RunsAsSelf(r.PID); err != nil || !mine {
		return fmt.Errorf("pid %d is not this user's process", r.PID)
	}
	_, port, err := net.SplitHostPort(r.Addr)
	if err != nil {
		return err
	}
	p, _ := strconv.Atoi(port)
	listens, err := procscan.ListensOn(r.PID, p)
	if err != nil {
		return nil // the platform cannot list sockets: pid and owner must do
	}
	if !listens {
		return fmt.Errorf("pid %d does not listen on %s", r.PID, r.Addr)
	}
	return nil
}
