package service

import "strings"

// Unit is the systemd user unit that runs c: started with the user's
// manager (default.target, at login), restarted when it fails, its stdout
// (the start line, which carries the access token) kept out of the journal.
// c must have passed validation.
func Unit(c Config) string {
	var b strings.Builder
	b.WriteString("# boneyard as a systemd user service, written by `boneyard service install`;\n" +
		"# `boneyard service uninstall` removes it.\n" +
		"[Unit]\n" +
		"Description=boneyard: dashboard of this host's bones workspaces\n" +
		"\n" +
		"[Service]\n" +
		"ExecStart=")
	for i, arg := range append([]string{c.Executable}, c.Args...) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(execArg(arg))
	}
	b.WriteByte('\n')
	for _, kv := range c.Env {
		b.WriteString("Environment=" + envAssignment(kv) + "\n")
	}
	b.WriteString("Restart=on-failure\n" +
		"RestartSec=5s\n" +
		"# The start line carries the access token: `boneyard url` prints it.\n" +
		"StandardOutput=null\n" +
		"\n" +
		"[Install]\n" +
		"WantedBy=default.target\n")
	return b.String()
}

// execArg is one word of an ExecStart command line: % (specifiers) and $
// (variables) doubled, and quoted with C-style escapes when it holds white
// space, quotes, backslashes or a semicolon (or is empty), so that systemd
// passes it as one argument, unchanged.
func execArg(s string) string {
	s = strings.NewReplacer("%", "%%", "$", "$$").Replace(s)
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// envAssignment is one Environment= assignment, quoted: backslashes and
// quotes escaped, % (specifiers) doubled; systemd expands no variables there.
func envAssignment(kv string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%").Replace(kv) + `"`
}
