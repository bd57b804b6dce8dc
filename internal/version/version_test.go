package version

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "-trimpath", Value: "true"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.modified", Value: "true"},
		{Key: "vcs.revision", Value: "f62c77a1b2c3d4e5f60718293a4b5c6d7e8f9012"},
		{Key: "vcs.time", Value: "2025-12-01T17:53:00Z"},
	}
	for _, tt := range []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"stamped wins", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"}, Settings: vcs}, "v1.2.3"},
		{"no build info", Unset, nil, "dev"},
		{"go install of a tagged module", Unset, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0 (go1.26.8)"},
		{"checkout with changes", Unset, &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Main:      debug.Module{Version: "v0.0.0-20251201175300-f62c77a1b2c3+dirty"},
			Settings:  vcs,
		}, "v0.0.0-20251201175300-f62c77a1b2c3+dirty (revision f62c77a1b2c3, modified, go1.26.8)"},
		{"devel build, clean tree", "", &debug.BuildInfo{
			Main:     debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}},
		}, "dev (revision abc)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.stamped, tt.info); got != tt.want {
				t.Errorf("Format = %q, want %q", got, tt.want)
			}
		})
	}
}
