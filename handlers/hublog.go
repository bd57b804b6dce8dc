package handlers

import (
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode"

	"boneyard/web/templates"
)

// logLines is how much of hub.log the detail page shows.
const logLines = 200

// hubLog fills d's log from the hub log at path: its last lines, cleaned,
// or a note saying why there are none.
func hubLog(d *templates.Detail, path string) {
	d.LogPath = path
	log, err := tailFile(path, logLines)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.LogNote = "There is no hub log (" + path + ") yet."
	case err != nil:
		d.LogNote = "The hub log cannot be read: " + err.Error()
	case log == "":
		d.LogNote = "The hub log " + path + " is empty."
	default:
		d.Log = cleanLog(log)
	}
}

// tailFile returns the last n lines of the file, reading at most its last
// 256 KiB so a huge log cannot stall the request. Only a regular file is
// read: opening a FIFO would wait for a writer forever, so the type is
// checked before opening, and the open does not block where the platform
// allows, in case the file is swapped in between.
func tailFile(path string, n int) (string, error) {
	if fi, err := os.Stat(path); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	const window = 256 << 10
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	off := max(fi.Size()-window, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	text := strings.TrimRight(string(buf), "\n")
	lines := strings.Split(text, "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first line is cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n"), nil
}

// escapeSeq matches terminal escape sequences: CSI (colours, cursor moves),
// OSC (titles, hyperlinks; ended by BEL or ST), character set designations
// like ESC ( B, and two-byte escapes.
var escapeSeq = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]+[0-~]|[@-_])`)

// cleanLog makes a hub log readable as page text: hubs colour their output
// for a terminal, and the escapes would show as garbage. Escape sequences
// go, then every other control character except tab and newline.
func cleanLog(s string) string {
	s = escapeSeq.ReplaceAllString(strings.ToValidUTF8(s, "\uFFFD"), "")
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}
