//go:build !unix && !windows

package hublog

import (
	"io/fs"
	"os"
)

// idOf falls back on the name where files have no portable identity: a
// rotation then looks like the file shrinking, and is read from its start.
func idOf(_ *os.File, fi fs.FileInfo) fileID { return nameID(fi.Name()) }
