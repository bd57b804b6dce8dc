//go:build !windows

package registry

import "os"

// syncDirectory fsyncs a directory so a rename or link in it survives a crash.
func syncDirectory(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
