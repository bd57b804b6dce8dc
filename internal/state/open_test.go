package state

import (
	"os"
	"strings"
	"testing"
)

func TestOpenFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, err := OpenFile(dir, 42, "http://127.0.0.1:2663/?token=a&b")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || !strings.HasSuffix(path, "/open-42.html") {
		t.Fatalf("open file %s: %v, %v; want mode 0600", path, fi, err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `content="0;url=http://127.0.0.1:2663/?token=a&amp;b"`) {
		t.Errorf("page %s lacks the escaped refresh", b)
	}
}
