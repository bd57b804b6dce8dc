// Package version tells which boneyard this is: the version stamped at
// build time with -ldflags, else what the Go toolchain recorded in the
// binary (module version, VCS revision and whether the tree was modified),
// so that a `go install` build can say where it came from.
package version

import (
	"runtime/debug"
	"strings"
)

// Unset is the stamped version of a build without -ldflags.
const Unset = "dev"

// String is the version of this binary given the stamped one.
func String(stamped string) string {
	info, _ := debug.ReadBuildInfo()
	return Format(stamped, info)
}

// Format is the version given the stamped one and the build info (nil when
// the binary has none): the stamped version when set, else the module
// version (or "dev" for a build outside a module version), followed by the
// revision, whether the tree was modified, and the Go version.
func Format(stamped string, info *debug.BuildInfo) string {
	if stamped != "" && stamped != Unset {
		return stamped
	}
	if info == nil {
		return Unset
	}
	v := Unset
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		v = mv
	}
	var notes []string
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && s.Value != "":
			notes = append([]string{"revision " + s.Value[:min(12, len(s.Value))]}, notes...)
		case s.Key == "vcs.modified" && s.Value == "true":
			notes = append(notes, "modified")
		}
	}
	if info.GoVersion != "" {
		notes = append(notes, info.GoVersion)
	}
	if len(notes) == 0 {
		return v
	}
	return v + " (" + strings.Join(notes, ", ") + ")"
}
