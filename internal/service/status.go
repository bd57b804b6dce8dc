package service

import (
	"context"
	"errors"
	"os/exec"
	"regexp"
)

// Status is what the service manager says about the service.
type Status struct {
	Installed bool   // its unit file or plist exists
	State     string // the manager's word: systemd's active, inactive, failed...; launchd's running, waiting...; "not loaded"
	Enabled   string // systemd's is-enabled answer (enabled, disabled...); "" for launchd
	Running   bool   // the service's boneyard runs
}

// launchdState is the state line of `launchctl print`.
var launchdState = regexp.MustCompile(`(?m)^\s*state = (\S+)`)

// systemdWord is an answer of systemctl is-active or is-enabled, as
// opposed to an error message (no user manager to talk to, say).
var systemdWord = regexp.MustCompile(`^[a-z-]+$`)

// Status asks the service manager how the service is. A missing manager is
// ErrNoManager.
func (s Service) Status(ctx context.Context, r Runner) (Status, error) {
	prev, err := s.installed()
	if err != nil {
		return Status{}, err
	}
	st := Status{Installed: prev != nil}
	if err := checkManager(ctx, r, s.Tool(), s.probe()); err != nil {
		return st, err
	}
	if s.System == Launchd {
		out, err := r.Run(ctx, "launchctl", "print", s.target())
		if err != nil {
			if !ranAndFailed(err) {
				return st, err
			}
			st.State = "not loaded"
			return st, nil
		}
		st.State = "loaded"
		if m := launchdState.FindStringSubmatch(out); m != nil {
			st.State = m[1]
		}
		st.Running = st.State == "running"
		return st, nil
	}
	for _, q := range []struct {
		verb string
		dst  *string
	}{{"is-active", &st.State}, {"is-enabled", &st.Enabled}} {
		// Both answer a word and exit non-zero for any answer but yes.
		out, err := r.Run(ctx, "systemctl", "--user", q.verb, UnitName)
		if err != nil && (!ranAndFailed(err) || !systemdWord.MatchString(out)) {
			return st, err
		}
		*q.dst = out
	}
	st.Running = st.State == "active"
	return st, nil
}

// ranAndFailed reports whether err is a command's non-zero exit.
func ranAndFailed(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}
