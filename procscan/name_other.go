//go:build !windows

package procscan

// pathSeparators are the characters that end a directory in argv[0].
const pathSeparators = "/"

// isBonesName matches the executable name exactly.
func isBonesName(name string) bool {
	return name == "bones"
}
