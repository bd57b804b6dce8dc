package procscan

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

var matchTests = []struct {
	name string
	argv []string
	want bool
}{
	{"foreground hub", []string{"bones", "hub", "start"}, true},
	{"absolute path", []string{"/usr/local/bin/bones", "hub", "start"}, true},
	{"relative path", []string{"./bin/bones", "hub", "start"}, true},
	{"detached hub", []string{"/home/u/.local/bin/bones", "hub", "start", "--repo-port", "8123", "--coord-port", "8124", "--drain-timeout", "30s"}, true},
	{"global flag before hub", []string{"bones", "--verbose", "hub", "start"}, true},
	{"flags after start", []string{"bones", "hub", "start", "--repo-port", "1"}, true},
	{"hub start later in argv", []string{"bones", "hub", "status", "hub", "start"}, true},
	{"editor on a file", []string{"vim", "bones", "hub", "start.md"}, false},
	{"grep for the words", []string{"grep", "bones", "hub", "start"}, false},
	{"other subcommand", []string{"bones", "hub", "status"}, false},
	{"name only ends in bones", []string{"notbones", "hub", "start"}, false},
	{"name only starts with bones", []string{"bones2", "hub", "start"}, false},
	{"one word", []string{"/usr/bin/bones", "hubstart"}, false},
	{"words apart", []string{"bones", "hub", "--x", "start"}, false},
	{"words swapped", []string{"bones", "start", "hub"}, false},
	{"argv0 is not an argument", []string{"hub", "start", "bones"}, false},
	{"bones as a directory", []string{"/opt/bones/", "hub", "start"}, false},
	{"bones directory, other binary", []string{"/opt/bones/server", "hub", "start"}, false},
	{"upper case words", []string{"bones", "HUB", "START"}, false},
	{"words with spaces", []string{"bones", "hub start"}, false},
	{"bones alone", []string{"bones"}, false},
	{"empty", nil, false},
	{"empty argv0", []string{"", "hub", "start"}, false},
}

func TestIsHubCommand(t *testing.T) {
	t.Parallel()
	for _, tt := range matchTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsHubCommand(tt.argv); got != tt.want {
				t.Errorf("IsHubCommand(%q) = %v, want %v", tt.argv, got, tt.want)
			}
		})
	}
}

func TestIsHubCommandWindowsNames(t *testing.T) {
	t.Parallel()
	argv := []string{`C:\Program Files\bones\bones.exe`, "hub", "start"}
	want := runtime.GOOS == "windows"
	if got := IsHubCommand(argv); got != want {
		t.Errorf("IsHubCommand(%q) on %s = %v, want %v", argv, runtime.GOOS, got, want)
	}
}

func TestFormatETime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00"},
		{-3 * time.Second, "00:00"},
		{999 * time.Millisecond, "00:00"},
		{5 * time.Second, "00:05"},
		{19*time.Minute + 23*time.Second, "19:23"},
		{59*time.Minute + 59*time.Second, "59:59"},
		{time.Hour, "01:00:00"},
		{time.Hour + 2*time.Minute + 3*time.Second, "01:02:03"},
		{23*time.Hour + 59*time.Minute + 59*time.Second, "23:59:59"},
		{24 * time.Hour, "1-00:00:00"},
		{2*24*time.Hour + 14*time.Hour + 5*time.Minute + 9*time.Second, "2-14:05:09"},
		{400*24*time.Hour + time.Second, "400-00:00:01"},
	}
	for _, tt := range tests {
		if got := FormatETime(tt.d); got != tt.want {
			t.Errorf("FormatETime(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// referenceIsHub restates the match rule independently: the last path
// element of argv[0] names bones, and "hub","start" appear as a pair among
// the NUL-joined later arguments.
func referenceIsHub(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	path := argv[0]
	if runtime.GOOS == "windows" {
		path = strings.ReplaceAll(path, `\`, "/")
	}
	parts := strings.Split(path, "/")
	name := parts[len(parts)-1]
	if runtime.GOOS == "windows" {
		name = strings.TrimSuffix(strings.ToLower(name), ".exe")
	}
	if name != "bones" {
		return false
	}
	joined := "\x00" + strings.Join(argv[1:], "\x00") + "\x00"
	return strings.Contains(joined, "\x00hub\x00start\x00")
}

// FuzzIsHubCommand feeds NUL-separated command lines, as /proc/<pid>/cmdline
// stores them, and checks the matcher against the reference and against
// properties any correct matcher has.
func FuzzIsHubCommand(f *testing.F) {
	for _, tt := range matchTests {
		f.Add(strings.Join(tt.argv, "\x00"))
	}
	f.Fuzz(func(t *testing.T, cmdline string) {
		argv := strings.Split(cmdline, "\x00")
		got := IsHubCommand(argv)
		if want := referenceIsHub(argv); got != want {
			t.Fatalf("IsHubCommand(%q) = %v, reference says %v", argv, got, want)
		}
		// Extra arguments never turn a hub into a non-hub.
		if got && !IsHubCommand(append(argv[:len(argv):len(argv)], "--extra")) {
			t.Fatalf("IsHubCommand(%q) flipped when an argument was appended", argv)
		}
		// Only the program's base name matters, not its directory.
		if moved := append([]string{"/some/dir/" + argv[0]}, argv[1:]...); IsHubCommand(moved) != got {
			t.Fatalf("IsHubCommand(%q) = %v but %v for %q", argv, got, !got, moved)
		}
		// Renaming the program away from bones always yields false.
		if renamed := append([]string{argv[0] + "x"}, argv[1:]...); IsHubCommand(renamed) {
			t.Fatalf("IsHubCommand(%q) = true for a program not named bones", renamed)
		}
	})
}
