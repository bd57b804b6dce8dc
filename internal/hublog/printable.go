package hublog

import (
	"regexp"
	"strings"
	"unicode"
)

// escapeSeq matches terminal escape sequences: CSI (colours, cursor moves),
// OSC (titles, hyperlinks; ended by BEL or ST), character set designations
// like ESC ( B, and two-byte escapes.
var escapeSeq = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]+[0-~]|[@-_])`)

// Printable makes log text readable on a page: hubs colour their output for
// a terminal, and the escapes would show as garbage. Invalid UTF-8 becomes
// U+FFFD, escape sequences go, then every other control character except
// tab and newline.
func Printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) < 0 {
		return s
	}
	s = escapeSeq.ReplaceAllString(s, "")
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}
