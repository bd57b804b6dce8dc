package registry

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// TestCrashSafety kills processes that rewrite one entry in a tight loop
// (Write: temporary file, fsync, rename, directory fsync) at random moments,
// two writers at a time. After every kill the entry must still parse: never
// torn, never empty.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	const (
		lanes        = 2
		killsPerLane = 100
		maxTime      = 40 * time.Second
	)
	r, home := testRegistry(t)
	cwd := hubtest.Workspace(t, home, "ws", true)
	mustWrite(t, r, Entry{Cwd: cwd, Name: "initial"})
	deadline := time.Now().Add(maxTime)
	var kills atomic.Int64
	var wg sync.WaitGroup
	for range lanes {
		wg.Go(func() {
			for range killsPerLane {
				if time.Now().After(deadline) {
					return
				}
				if err := killWriter(r, cwd); err != nil {
					t.Error(err)
					return
				}
				n := kills.Add(1)
				f, err := readEntryFile(r.EntryPath(cwd))
				if err != nil {
					t.Errorf("after kill %d: %v", n, err)
					return
				}
				if f.entry.Cwd != cwd {
					t.Errorf("after kill %d: entry %+v", n, f.entry)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d SIGKILLs of writers, every entry intact; %d temporary files left by killed writers", kills.Load(), len(tempFiles(t, r)))
	if n := kills.Load(); n < lanes*killsPerLane {
		t.Errorf("only %d kills within %v, want %d", n, maxTime, lanes*killsPerLane)
	}
}

// killWriter starts a writer child of r in cwd, lets it write for a random
// moment after its first write, and kills it with SIGKILL.
func killWriter(r Registry, cwd string) error {
	p, err := hubtest.Spawn(hubtest.Options{Mode: "writer", Dir: cwd, Args: []string{"registry-writer"}, Env: hubtest.HomeEnv(r.Home)})
	if err != nil {
		return err
	}
	defer p.Kill()
	time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
	if p.Exited(0) {
		return fmt.Errorf("writer exited before it was killed: %v", p.Cmd.ProcessState)
	}
	return nil
}
