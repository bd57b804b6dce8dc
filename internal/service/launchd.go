package service

import (
	"encoding/xml"
	"strings"
)

// Plist is the launchd agent that runs c: loaded at login (RunAtLoad),
// started again when it exits with a failure (KeepAlive), its stderr (the
// log) appended to logPath and its stdout (the start line, which carries the
// access token) discarded, as launchd does by default. c must have passed
// validation.
func Plist(c Config, logPath string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- boneyard as a launchd agent, written by boneyard service install; boneyard service uninstall removes it. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + Label + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, arg := range append([]string{c.Executable}, c.Args...) {
		b.WriteString("\t\t<string>" + xmlText(arg) + "</string>\n")
	}
	b.WriteString("\t</array>\n")
	if len(c.Env) > 0 {
		b.WriteString("\t<key>EnvironmentVariables</key>\n\t<dict>\n")
		for _, kv := range c.Env {
			k, v, _ := strings.Cut(kv, "=")
			b.WriteString("\t\t<key>" + xmlText(k) + "</key>\n\t\t<string>" + xmlText(v) + "</string>\n")
		}
		b.WriteString("\t</dict>\n")
	}
	b.WriteString(`	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>StandardErrorPath</key>
	<string>` + xmlText(logPath) + `</string>
</dict>
</plist>
`)
	return b.String()
}

// xmlText escapes s for XML character data.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
