//go:build !unix

package registry

import "io/fs"

// fileUID reports no owner: files here have no uid.
func fileUID(fs.FileInfo) (int, bool) { return 0, false }
