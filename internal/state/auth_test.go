package state

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuthFollowsRotation(t *testing.T) {
	t.Setenv(TokenEnv, "")
	dir := filepath.Join(t.TempDir(), "boneyard")
	first, err := LoadToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuth(dir, first, true)
	id, _ := a.Sessions.Create()
	if a.Token() != first || !a.Sessions.Valid(id) {
		t.Fatal("fresh Auth does not hold the loaded token and its session")
	}
	second, err := RotateToken(dir)
	if err != nil || second == first || len(second) != 64 {
		t.Fatalf("RotateToken = %q, %v", second, err)
	}
	a.checked = time.Time{} // skip the once-a-second wait
	if got := a.Token(); got != second {
		t.Fatalf("after rotation Token() = %q, want the new %q", got, second)
	}
	if a.Sessions.Valid(id) {
		t.Error("session survived the rotation")
	}
	// A session opened before a rotation made while no server ran ends too.
	b := NewAuth(dir, second, true)
	old, _ := b.Sessions.Create()
	if _, err := RotateToken(dir); err != nil {
		t.Fatal(err)
	}
	if NewAuth(dir, second, true).Sessions.Valid(old) {
		t.Error("a session of the old token survived a rotation and a restart")
	}

	env := NewAuth(dir, strings.Repeat("e", 32), false)
	RotateToken(dir)
	env.checked = time.Time{}
	if env.Token() != strings.Repeat("e", 32) || env.FromFile() {
		t.Error("a BONEYARD_TOKEN server followed the token file")
	}
}
