package state

import (
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strconv"

	"boneyard/internal/atomicfile"
)

// OpenFile writes a page (mode 0600, named by the server's pid) that sends
// the browser on to url, and returns its path. Handing the browser this
// file instead of the URL keeps the token off the command line of the
// browser process, which every local user can read (as Jupyter does).
func OpenFile(dir string, pid int, url string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, "open-"+strconv.Itoa(pid)+".html")
	u := html.EscapeString(url)
	page := `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=` + u + `">
<title>Opening boneyard</title></head>
<body><p>Opening <a href="` + u + `">boneyard</a>.</p></body></html>
`
	if err := atomicfile.Replace(path, []byte(page), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}
