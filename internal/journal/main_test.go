package journal

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"boneyard/internal/hubtest"
)

// Environment of an appending child.
const (
	appendDirEnv   = "JOURNAL_TEST_DIR"
	appendWhoEnv   = "JOURNAL_TEST_WHO"
	appendCountEnv = "JOURNAL_TEST_COUNT"
	appendSizeEnv  = "JOURNAL_TEST_MAX_SIZE"
)

// TestMain lets the test binary play an appending boneyard: "append"
// records JOURNAL_TEST_COUNT events numbered 0… as JOURNAL_TEST_WHO in the
// journal at JOURNAL_TEST_DIR.
func TestMain(m *testing.M) {
	hubtest.Main(m, map[string]func() int{"append": appendEvents})
}

func appendEvents() int {
	n, _ := strconv.Atoi(os.Getenv(appendCountEnv))
	size, _ := strconv.ParseInt(os.Getenv(appendSizeEnv), 10, 64)
	who := os.Getenv(appendWhoEnv)
	j, err := Open(os.Getenv(appendDirEnv), Options{MaxSize: size, Keep: 1000})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := range n {
		e := Event{Time: time.Now(), Kind: KindReaped, WorkspaceID: who, PID: i + 1, Detail: fmt.Sprintf("%s %d", who, i)}
		if err := j.Record(e); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}
