package handlers

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"boneyard/internal/collector"
	"boneyard/web/templates"
)

// formatter turns snapshot values into display strings at one instant.
type formatter struct {
	now  time.Time
	home string // shown as ~; "" shortens nothing
	// readOnly renders pages without action forms (Config.ReadOnly).
	readOnly bool
	// bones is the CLI Start, Stop and Restart run; without one they are
	// shown turned off.
	bones templates.BonesNote
}

// formatter formats for a page rendered now.
func (s *Server) formatter() formatter {
	return formatter{now: time.Now(), home: s.home, readOnly: s.readOnly, bones: s.bones}
}

// maxPath is the longest path a table cell shows whole, in characters.
const maxPath = 60

func (f formatter) path(p string) templates.Path {
	short := p
	if f.home != "" && f.home != "/" {
		if p == f.home {
			short = "~"
		} else if rest, ok := strings.CutPrefix(p, f.home+string(filepath.Separator)); ok {
			short = "~" + string(filepath.Separator) + rest
		}
	}
	elided := elide(short, maxPath)
	return templates.Path{Short: elided, Full: p, Elided: elided != short}
}

// elide shortens a path longer than limit characters in the middle, keeping
// its first element and as many of its last elements as fit (at least the
// last one): "~/…/deep/dir/ws", "/srv/…/ws". The ends tell paths apart; the
// middle rarely does.
func elide(p string, limit int) string {
	if utf8.RuneCountInString(p) <= limit {
		return p
	}
	sep := string(filepath.Separator)
	root, rel := "", p
	if strings.HasPrefix(p, sep) {
		root, rel = sep, p[len(sep):]
	}
	parts := strings.Split(rel, sep)
	if len(parts) < 3 {
		return p
	}
	head := root + parts[0] + sep + "…"
	tail := parts[len(parts)-1]
	for i := len(parts) - 2; i > 0; i-- {
		longer := parts[i] + sep + tail
		if utf8.RuneCountInString(head+sep+longer) > limit {
			break
		}
		tail = longer
	}
	return head + sep + tail
}

func (f formatter) stamp(t time.Time) templates.Stamp {
	if t.IsZero() {
		return templates.Stamp{Rel: "never"}
	}
	return templates.Stamp{Rel: ago(f.now.Sub(t)), UTC: t.UTC().Format(time.RFC3339)}
}

// ago is a coarse relative time; minute granularity keeps live updates from
// resending rows every few seconds.
func ago(d time.Duration) string {
	if d < time.Minute {
		return "just now"
	}
	return duration(d) + " ago"
}

// duration renders d in its two largest units, e.g. "3m", "2h 5m", "4d 1h".
func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func lockText(l collector.LockState) string {
	switch {
	case !l.Held:
		return "free"
	case l.PID > 0:
		return "held by pid " + strconv.Itoa(l.PID)
	default:
		return "held (holder unknown)"
	}
}

// plural is "1 process", "2 processes", "0 workspaces".
func plural(n int, noun string) string {
	if n != 1 {
		if strings.HasSuffix(noun, "s") {
			noun += "es"
		} else {
			noun += "s"
		}
	}
	return strconv.Itoa(n) + " " + noun
}
