package registry

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestCrashSafety kills a process that rewrites one entry in a tight loop
// (Write: temporary file, fsync, rename, directory fsync) at random moments.
// After every kill the entry must still parse: never torn, never empty.
func TestCrashSafety(t *testing.T) {
	const (
		minKills = 200
		maxTime  = 40 * time.Second
	)
	home := setHome(t)
	cwd := workspace(t, home, "ws", true)
	mustWrite(t, Entry{Cwd: cwd, Name: "initial"})
	deadline := time.Now().Add(maxTime)
	kills := 0
	for ; kills < minKills && time.Now().Before(deadline); kills++ {
		c := startChild(t, "writer", cwd, bonesBin, "registry-writer")
		time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
		c.kill()
		f, err := readEntryFile(EntryPath(cwd))
		if err != nil {
			t.Fatalf("after kill %d: %v", kills+1, err)
		}
		if f.entry.Cwd != cwd {
			t.Fatalf("after kill %d: entry %+v", kills+1, f.entry)
		}
	}
	t.Logf("%d SIGKILLs of a writer, every entry intact; %d temporary files left by killed writers", kills, len(tempFiles(t)))
	if kills < minKills {
		t.Errorf("only %d kills within %v, want %d", kills, maxTime, minKills)
	}
}
