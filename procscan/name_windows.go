package procscan

import "strings"

// pathSeparators are the characters that end a directory in argv[0].
const pathSeparators = `\/`

// isBonesName matches the executable name case-insensitively, as Windows
// file names are.
func isBonesName(name string) bool {
	return strings.EqualFold(name, "bones") || strings.EqualFold(name, "bones.exe")
}
