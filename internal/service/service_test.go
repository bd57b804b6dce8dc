package service

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// plain is a Config as `service install --addr 127.0.0.1:2700` makes it.
var plain = Config{
	Executable: "/home/u/go/bin/boneyard",
	Args:       []string{"--addr", "127.0.0.1:2700", "--interval", "5s"},
	Env:        []string{"PATH=/home/u/go/bin:/usr/bin:/bin"},
}

// plainUnit is the unit of plain.
const plainUnit = `# boneyard as a systemd user service, written by ` + "`boneyard service install`" + `;
# ` + "`boneyard service uninstall`" + ` removes it.
[Unit]
Description=boneyard: dashboard of this host's bones workspaces

[Service]
ExecStart=/home/u/go/bin/boneyard --addr 127.0.0.1:2700 --interval 5s
Environment="PATH=/home/u/go/bin:/usr/bin:/bin"
Restart=on-failure
RestartSec=5s
# The start line carries the access token: ` + "`boneyard url`" + ` prints it.
StandardOutput=null

[Install]
WantedBy=default.target
`

// awkward has every character that needs care in a unit file or an XML
// string.
var awkward = Config{
	Executable: "/home/u/my tools/boneyard",
	Args:       []string{"--bones", `/opt/a "b" c\d/bones`, "--x", "100%", "$HOME", "it's", ";", "a<b&c>"},
	Env:        []string{`PATH=/opt/x y:/bin`, `BONES_DIR=/tmp/%h"q"\z`},
}

func TestUnit(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"plain", plain, plainUnit},
		{"no flags", Config{Executable: "/usr/local/bin/boneyard"}, `# boneyard as a systemd user service, written by ` + "`boneyard service install`" + `;
# ` + "`boneyard service uninstall`" + ` removes it.
[Unit]
Description=boneyard: dashboard of this host's bones workspaces

[Service]
ExecStart=/usr/local/bin/boneyard
Restart=on-failure
RestartSec=5s
# The start line carries the access token: ` + "`boneyard url`" + ` prints it.
StandardOutput=null

[Install]
WantedBy=default.target
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unit(tt.c); got != tt.want {
				t.Errorf("Unit:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestUnitQuoting(t *testing.T) {
	unit := Unit(awkward)
	for _, want := range []string{
		`ExecStart="/home/u/my tools/boneyard" --bones "/opt/a \"b\" c\\d/bones" --x 100%% $$HOME "it's" ";" a<b&c>` + "\n",
		`Environment="PATH=/opt/x y:/bin"` + "\n",
		`Environment="BONES_DIR=/tmp/%%h\"q\"\\z"` + "\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
}

func TestExecArg(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"--addr", "--addr"},
		{"", `""`},
		{"a b", `"a b"`},
		{"tab\there", "\"tab\there\""},
		{`back\slash`, `"back\\slash"`},
		{`say "hi"`, `"say \"hi\""`},
		{"50%", "50%%"},
		{"50% off", `"50%% off"`},
		{"$USER", "$$USER"},
		{"${X}", "$${X}"},
		{";", `";"`},
	} {
		if got := execArg(tt.in); got != tt.want {
			t.Errorf("execArg(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestPlist(t *testing.T) {
	want := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- boneyard as a launchd agent, written by boneyard service install; boneyard service uninstall removes it. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>local.boneyard</string>
	<key>ProgramArguments</key>
	<array>
		<string>/Users/u/my tools/boneyard</string>
		<string>--bones</string>
		<string>/opt/a &#34;b&#34; c\d/bones</string>
		<string>--x</string>
		<string>100%</string>
		<string>$HOME</string>
		<string>it&#39;s</string>
		<string>;</string>
		<string>a&lt;b&amp;c&gt;</string>
	</array>
	<key>EnvironmentVariables</key>
	<dict>
		<key>PATH</key>
		<string>/opt/x y:/bin</string>
		<key>BONES_DIR</key>
		<string>/tmp/%h&#34;q&#34;\z</string>
	</dict>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>StandardErrorPath</key>
	<string>/Users/u/Library/Logs/boneyard.log</string>
</dict>
</plist>
`
	c := awkward
	c.Executable = "/Users/u/my tools/boneyard"
	got, err := Service{System: Launchd, Home: "/Users/u", UID: 501}.File(c)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("plist:\n%s\nwant:\n%s", got, want)
	}
}

func TestFileRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    Config
		want string
	}{
		{"relative binary", Config{Executable: "bin/boneyard"}, `the boneyard binary "bin/boneyard" is not an absolute path`},
		{"go run", Config{Executable: "/tmp/go-build123/b001/exe/boneyard"}, "Go's build cache"},
		{"newline in a flag", Config{Executable: "/bin/boneyard", Args: []string{"--bones", "/a\nb"}}, `argument "/a\nb": contains a control character`},
		{"invalid UTF-8", Config{Executable: "/bin/boneyard", Args: []string{"\xff"}}, "not valid UTF-8"},
		{"environment without =", Config{Executable: "/bin/boneyard", Env: []string{"PATH"}}, `environment entry "PATH" is not NAME=VALUE`},
		{"bad variable name", Config{Executable: "/bin/boneyard", Env: []string{"A B=c"}}, "is not NAME=VALUE"},
		{"control character in a value", Config{Executable: "/bin/boneyard", Env: []string{"PATH=/bin\x1b"}}, "environment variable PATH: contains a control character"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, sys := range []System{Systemd, Launchd} {
				_, err := Service{System: sys, Home: "/home/u"}.File(tt.c)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: error %v, want one containing %q", sys, err, tt.want)
				}
			}
		})
	}
}

func TestFor(t *testing.T) {
	for goos, want := range map[string]System{"linux": Systemd, "darwin": Launchd} {
		if got, err := For(goos); got != want || err != nil {
			t.Errorf("For(%s) = %q, %v; want %q", goos, got, err, want)
		}
	}
	for _, goos := range []string{"windows", "freebsd"} {
		if _, err := For(goos); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "not "+goos) {
			t.Errorf("For(%s): %v, want ErrUnsupported naming it", goos, err)
		}
	}
}

func TestPaths(t *testing.T) {
	for _, tt := range []struct {
		s    Service
		path string
		name string
	}{
		{Service{System: Systemd, Home: "/home/u"}, "/home/u/.config/systemd/user/boneyard.service", "boneyard.service"},
		{Service{System: Launchd, Home: "/Users/u", UID: 501}, "/Users/u/Library/LaunchAgents/local.boneyard.plist", "local.boneyard"},
	} {
		if got := tt.s.Path(); got != tt.path {
			t.Errorf("%s Path %s, want %s", tt.s.System, got, tt.path)
		}
		if got := tt.s.Name(); got != tt.name {
			t.Errorf("%s Name %s, want %s", tt.s.System, got, tt.name)
		}
	}
}

// TestDryRun is what --dry-run prints: the file in full and the commands.
func TestDryRun(t *testing.T) {
	short := Config{Executable: "/home/u/bin/boneyard", Args: []string{"--read-only"}}
	unit := "# boneyard as a systemd user service, written by `boneyard service install`;\n" +
		"# `boneyard service uninstall` removes it.\n" +
		"[Unit]\nDescription=boneyard: dashboard of this host's bones workspaces\n\n" +
		"[Service]\nExecStart=/home/u/bin/boneyard --read-only\nRestart=on-failure\nRestartSec=5s\n" +
		"# The start line carries the access token: `boneyard url` prints it.\nStandardOutput=null\n\n" +
		"[Install]\nWantedBy=default.target\n"
	plist := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- boneyard as a launchd agent, written by boneyard service install; boneyard service uninstall removes it. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>local.boneyard</string>
	<key>ProgramArguments</key>
	<array>
		<string>/home/u/bin/boneyard</string>
		<string>--read-only</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>StandardErrorPath</key>
	<string>/Users/u/Library/Logs/boneyard.log</string>
</dict>
</plist>
`
	systemd := Service{System: Systemd, Home: "/home/u", UID: 1000}
	launchd := Service{System: Launchd, Home: "/Users/u", UID: 501}
	tests := []struct {
		name string
		plan func() (Plan, error)
		want string
	}{
		{"systemd install", func() (Plan, error) { return systemd.installPlan(short, nil) },
			"# write /home/u/.config/systemd/user/boneyard.service (mode 0644):\n" + unit +
				"# run:\nsystemctl --user daemon-reload\nsystemctl --user enable --now boneyard.service\n"},
		{"systemd reinstall with other flags", func() (Plan, error) { return systemd.installPlan(short, []byte("old unit")) },
			"# write /home/u/.config/systemd/user/boneyard.service (mode 0644):\n" + unit +
				"# run:\nsystemctl --user daemon-reload\nsystemctl --user enable --now boneyard.service\nsystemctl --user restart boneyard.service\n"},
		{"systemd reinstall unchanged", func() (Plan, error) { return systemd.installPlan(short, []byte(unit)) },
			"# write /home/u/.config/systemd/user/boneyard.service (mode 0644):\n" + unit +
				"# run:\nsystemctl --user daemon-reload\nsystemctl --user enable --now boneyard.service\n"},
		{"systemd uninstall", func() (Plan, error) { return systemd.uninstallPlan(), nil },
			"# run:\nsystemctl --user disable --now boneyard.service\n" +
				"# remove /home/u/.config/systemd/user/boneyard.service\n" +
				"# run:\nsystemctl --user daemon-reload\n"},
		{"launchd install", func() (Plan, error) { return launchd.installPlan(short, nil) },
			"# write /Users/u/Library/LaunchAgents/local.boneyard.plist (mode 0644):\n" + plist +
				"# run:\nlaunchctl enable gui/501/local.boneyard\nlaunchctl bootstrap gui/501 /Users/u/Library/LaunchAgents/local.boneyard.plist\n"},
		{"launchd reinstall", func() (Plan, error) { return launchd.installPlan(short, []byte(plist)) },
			"# run:\nlaunchctl bootout gui/501/local.boneyard  # fails if it was not loaded, which is fine\n" +
				"# write /Users/u/Library/LaunchAgents/local.boneyard.plist (mode 0644):\n" + plist +
				"# run:\nlaunchctl enable gui/501/local.boneyard\nlaunchctl bootstrap gui/501 /Users/u/Library/LaunchAgents/local.boneyard.plist\n"},
		{"launchd uninstall", func() (Plan, error) { return launchd.uninstallPlan(), nil },
			"# run:\nlaunchctl bootout gui/501/local.boneyard  # fails if it was not loaded, which is fine\n" +
				"# remove /Users/u/Library/LaunchAgents/local.boneyard.plist\n"},
		{"nothing", func() (Plan, error) { return Plan{}, nil }, "# nothing to do\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.plan()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			p.Print(&out)
			if out.String() != tt.want {
				t.Errorf("printed:\n%s\nwant:\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"launchctl", "bootstrap", "gui/501", "/Users/a b/it's.plist"})
	want := `launchctl bootstrap gui/501 '/Users/a b/it'\''s.plist'`
	if got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}

// fakeTool puts an executable script named name on a PATH of its own: it
// appends its arguments to calls.log beside it and runs body. The service
// managers themselves cannot run in a test.
func fakeTool(t *testing.T, name, body string) (calls func() []string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	script := "#!/bin/sh\necho \"$*\" >> '" + log + "'\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return func() []string {
		b, err := os.ReadFile(log)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
}

func TestApplyWithoutManager(t *testing.T) {
	for _, sys := range []System{Systemd, Launchd} {
		t.Run(string(sys), func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			s := Service{System: sys, Home: t.TempDir(), UID: 501}
			p, err := s.Install(plain)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Apply(context.Background(), Runner{}, &bytes.Buffer{})
			if !errors.Is(err, ErrNoManager) || !strings.Contains(err.Error(), "no "+s.Tool()+" on PATH") {
				t.Fatalf("Apply: %v, want ErrNoManager naming %s", err, s.Tool())
			}
			if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s was written without a service manager (stat: %v)", s.Path(), err)
			}
			if _, err := s.Status(context.Background(), Runner{}); !errors.Is(err, ErrNoManager) {
				t.Errorf("Status: %v, want ErrNoManager", err)
			}
		})
	}
}

func TestInstallAndUninstallSystemd(t *testing.T) {
	calls := fakeTool(t, "systemctl", `case "$2" in is-active) echo active;; is-enabled) echo enabled;; esac`)
	s := Service{System: Systemd, Home: t.TempDir()}
	ctx := context.Background()
	p, err := s.Install(plain)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := p.Apply(ctx, Runner{}, &log); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != plainUnit {
		t.Errorf("installed unit:\n%s", got)
	}
	if fi, _ := os.Stat(s.Path()); fi.Mode().Perm() != 0o644 {
		t.Errorf("unit mode %v, want 0644", fi.Mode().Perm())
	}
	st, err := s.Status(ctx, Runner{})
	if err != nil {
		t.Fatal(err)
	}
	if st != (Status{Installed: true, State: "active", Enabled: "enabled", Running: true}) {
		t.Errorf("status %+v", st)
	}
	p, err = s.Uninstall()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(ctx, Runner{}, &log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unit still there after uninstall: %v", err)
	}
	want := []string{
		"--user show-environment", "--user daemon-reload", "--user enable --now boneyard.service",
		"--user show-environment", "--user is-active boneyard.service", "--user is-enabled boneyard.service",
		"--user show-environment", "--user disable --now boneyard.service", "--user daemon-reload",
	}
	if c := calls(); strings.Join(c, "|") != strings.Join(want, "|") {
		t.Errorf("systemctl calls %q, want %q", c, want)
	}
	if p, err := s.Uninstall(); err != nil || len(p.Steps) != 0 {
		t.Errorf("uninstall when not installed: %v, %v; want nothing to do", p, err)
	}
}

func TestSystemdStatus(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       Status
		wantErr    string
	}{
		{"stopped", `case "$2" in is-active) echo inactive; exit 3;; is-enabled) echo disabled; exit 1;; esac`,
			Status{State: "inactive", Enabled: "disabled"}, ""},
		{"failed", `case "$2" in is-active) echo failed; exit 3;; is-enabled) echo enabled;; esac`,
			Status{State: "failed", Enabled: "enabled"}, ""},
		{"no user manager", `echo "Failed to connect to bus: No medium found" >&2; exit 1`,
			Status{}, "systemd's user manager is not running for this user"},
		{"an answer that is no word", `case "$2" in is-active) echo "Failed to get unit state: Access denied" >&2; exit 1;; esac`,
			Status{}, "Access denied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fakeTool(t, "systemctl", tt.body)
			st, err := Service{System: Systemd, Home: t.TempDir()}.Status(context.Background(), Runner{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Status: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || st != tt.want {
				t.Errorf("Status = %+v, %v; want %+v", st, err, tt.want)
			}
		})
	}
}

func TestLaunchd(t *testing.T) {
	calls := fakeTool(t, "launchctl", `[ "$1" = print ] && printf 'gui/501/local.boneyard = {\n\tactive count = 1\n\tstate = running\n}\n'; exit 0`)
	s := Service{System: Launchd, Home: t.TempDir(), UID: 501}
	ctx := context.Background()
	for range 2 { // the second install replaces the first
		p, err := s.Install(plain)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(ctx, Runner{}, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Status(ctx, Runner{})
	if err != nil || st != (Status{Installed: true, State: "running", Running: true}) {
		t.Errorf("Status = %+v, %v", st, err)
	}
	want := []string{
		"print gui/501", "enable gui/501/local.boneyard", "bootstrap gui/501 " + s.Path(),
		"print gui/501", "bootout gui/501/local.boneyard", "enable gui/501/local.boneyard", "bootstrap gui/501 " + s.Path(),
		"print gui/501", "print gui/501/local.boneyard",
	}
	if c := calls(); strings.Join(c, "|") != strings.Join(want, "|") {
		t.Errorf("launchctl calls %q, want %q", c, want)
	}
}

func TestLaunchdNotLoaded(t *testing.T) {
	fakeTool(t, "launchctl", `[ "$2" = gui/501 ] && exit 0; echo 'Could not find service "local.boneyard" in domain for user gui: 501' >&2; exit 113`)
	s := Service{System: Launchd, Home: t.TempDir(), UID: 501}
	st, err := s.Status(context.Background(), Runner{})
	if err != nil || st != (Status{State: "not loaded"}) {
		t.Errorf("Status = %+v, %v; want not loaded", st, err)
	}
	// Uninstalling a plist that was never loaded removes it all the same.
	if err := writeFile(s.Path(), "x"); err != nil {
		t.Fatal(err)
	}
	p, err := s.Uninstall()
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := p.Apply(context.Background(), Runner{}, &log); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plist still there: %v", err)
	}
	if !strings.Contains(log.String(), "(launchctl failed if it was not loaded: fine)") {
		t.Errorf("log %q does not say the bootout failure was expected", log.String())
	}
}

func TestApplyFailures(t *testing.T) {
	fakeTool(t, "systemctl", `echo "Failed to connect to bus: No medium found" >&2; exit 1`)
	s := Service{System: Systemd, Home: t.TempDir()}
	p, err := s.Install(plain)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Apply(context.Background(), Runner{}, &bytes.Buffer{})
	if !errors.Is(err, ErrNoManager) || !strings.Contains(err.Error(), "systemctl --user show-environment: exit status 1: Failed to connect to bus") {
		t.Fatalf("Apply: %v, want ErrNoManager with the probe's output", err)
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the unit was written for a manager that is not there (stat: %v)", err)
	}
	// A manager that is there but fails a step stops the plan there.
	calls := fakeTool(t, "systemctl", `[ "$2" = enable ] && { echo "Failed to enable unit: Unit file is masked." >&2; exit 1; }; exit 0`)
	err = p.Apply(context.Background(), Runner{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "systemctl --user enable --now boneyard.service: exit status 1: Failed to enable unit: Unit file is masked.") {
		t.Fatalf("Apply: %v, want the failing command with its output", err)
	}
	if got := strings.Join(calls(), "|"); got != "--user show-environment|--user daemon-reload|--user enable --now boneyard.service" {
		t.Errorf("calls %s", got)
	}
}

// TestSystemdVerify has systemd parse the generated unit, when its
// analyzer is installed: an executable path with spaces and arguments with
// quotes, %, $ and ; must come out as one word each, naming a binary that
// exists.
func TestSystemdVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "my tools", "boneyard")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	verify := func(unit string) (string, error) {
		path := filepath.Join(dir, UnitName)
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		runtime := filepath.Join(dir, "runtime")
		if err := os.MkdirAll(runtime, 0o700); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(analyze, "--user", "verify", path)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+runtime)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	c := awkward
	c.Executable = bin
	out, err := verify(Unit(c))
	if err != nil || strings.Contains(out, UnitName) {
		t.Fatalf("systemd-analyze verify: %v\n%s\nunit:\n%s", err, out, Unit(c))
	}
	// The check has teeth: the same path unquoted names a missing binary.
	broken := strings.Replace(Unit(c), `"`+bin+`"`, bin, 1)
	if out, err := verify(broken); err == nil {
		t.Errorf("systemd-analyze accepted an unquoted path with a space:\n%s", out)
	}
}
