package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// Plan is what install or uninstall does, in order.
type Plan struct {
	Tool  string   // the command the steps need, e.g. "systemctl"
	Probe []string // run first: fails when the manager does not serve this user
	Steps []Step
}

// Step is one thing a Plan does: write a file, remove one, or run a command.
type Step struct {
	Write   string // path to write Content to
	Content string
	Remove  string   // path to remove
	Cmd     []string // argv, run without a shell
	MayFail string   // when a failing Cmd is expected (e.g. "if it was not loaded"): it is reported, not fatal
}

// Print writes what p would do: the file it writes in full, and the
// commands as a shell would take them.
func (p Plan) Print(w io.Writer) {
	if len(p.Steps) == 0 {
		fmt.Fprintln(w, "# nothing to do")
	}
	inRun := false
	for _, s := range p.Steps {
		switch {
		case s.Write != "":
			fmt.Fprintf(w, "# write %s (mode 0644):\n%s", s.Write, s.Content)
			inRun = false
		case s.Remove != "":
			fmt.Fprintf(w, "# remove %s\n", s.Remove)
			inRun = false
		default:
			if !inRun {
				fmt.Fprintln(w, "# run:")
				inRun = true
			}
			line := shellJoin(s.Cmd)
			if s.MayFail != "" {
				line += "  # fails " + s.MayFail + ", which is fine"
			}
			fmt.Fprintln(w, line)
		}
	}
}

// Apply carries p out, reporting each command to log. A missing Tool, or
// a manager that does not serve this user, is ErrNoManager, before anything
// changed.
func (p Plan) Apply(ctx context.Context, r Runner, log io.Writer) error {
	if len(p.Steps) == 0 {
		return nil
	}
	if err := checkManager(ctx, r, p.Tool, p.Probe); err != nil {
		return err
	}
	for _, s := range p.Steps {
		switch {
		case s.Write != "":
			if err := writeFile(s.Write, s.Content); err != nil {
				return err
			}
			fmt.Fprintln(log, "wrote "+s.Write)
		case s.Remove != "":
			if err := os.Remove(s.Remove); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", s.Remove, err)
			}
			fmt.Fprintln(log, "removed "+s.Remove)
		default:
			fmt.Fprintln(log, "running "+shellJoin(s.Cmd))
			if _, err := r.Run(ctx, s.Cmd...); err != nil {
				if s.MayFail == "" {
					return err
				}
				fmt.Fprintf(log, "(%s failed %s: fine)\n", s.Cmd[0], s.MayFail)
			}
		}
	}
	return nil
}

// checkManager makes sure tool is installed and probe succeeds.
func checkManager(ctx context.Context, r Runner, tool string, probe []string) error {
	if _, err := r.LookPath(tool); err != nil {
		return noManager(tool)
	}
	if len(probe) == 0 {
		return nil
	}
	if _, err := r.Run(ctx, probe...); err != nil {
		what := "systemd's user manager is not running for this user (a container, or a system not booted with systemd?)"
		if tool == "launchctl" {
			what = "launchd has no GUI session for this user (log in at the Mac itself, not only over ssh)"
		}
		return fmt.Errorf("%w: %s, so boneyard cannot run as a user service here; start it from a terminal instead (%v)", ErrNoManager, what, err)
	}
	return nil
}

// noManager says that tool is missing and what that means.
func noManager(tool string) error {
	what := "systemd's user manager (systemctl --user)"
	if tool == "launchctl" {
		what = "launchd (launchctl)"
	}
	return fmt.Errorf("%w: no %s on PATH, so this system has no %s to run boneyard at login; "+
		"start boneyard from a terminal or your own service manager instead", ErrNoManager, tool, what)
}

// plainWord is a shell word that needs no quotes.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellJoin is argv as a POSIX shell command line.
func shellJoin(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		if plainWord.MatchString(a) {
			words[i] = a
		} else {
			words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(words, " ")
}
