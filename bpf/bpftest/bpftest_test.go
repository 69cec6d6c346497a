package bpftest

import (
	"strings"
	"testing"
)

// recorder records how gate ends a test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = format
}
func (r *recorder) Skip(args ...any) { r.skip = args[0].(string) }

func TestGate(t *testing.T) {
	for _, tc := range []struct {
		ci, reason  string
		fatal, skip bool
	}{
		{"", "", false, false},
		{"true", "", false, false},
		{"", "no BPF", false, true},
		{"false", "no BPF", false, true},
		{"true", "no BPF", true, false},
	} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		gate(r, tc.reason)
		if (r.fatal != "") != tc.fatal || (r.skip != "") != tc.skip {
			t.Errorf("CI=%q reason %q: fatal %q, skip %q", tc.ci, tc.reason, r.fatal, r.skip)
		}
		if r.skip != "" && !strings.Contains(r.skip, tc.reason) {
			t.Errorf("skip %q does not say why", r.skip)
		}
	}
}

func TestRequire(t *testing.T) {
	Require(t) // root on Linux here: passes; elsewhere it skips with the reason
}
