package main

import (
	"runtime/debug"
	"strings"
)

// buildVersion is the version of a binary built without -ldflags
// "-X main.version=..." (make build sets the git tag or commit), from what
// the go command recorded in it: the module's version for
// go install ...@version, or the commit, with -dirty for uncommitted
// changes, for a build in a checkout; "dev" when it recorded neither.
func buildVersion(info *debug.BuildInfo) string {
	if info == nil {
		return "dev"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	v := info.Main.Version
	// A tag names the build better than its commit; a pseudo-version
	// made up from the commit does not.
	if v != "" && v != "(devel)" && (rev == "" || !isPseudoVersion(v)) {
		return v
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "-dirty"
		}
		return rev
	}
	return "dev"
}

// isPseudoVersion reports whether v is a version the go command made up
// from a commit, such as v0.0.0-20260102150405-0123456789ab: its last
// pre-release part is a 14-digit time and a 12-digit commit.
func isPseudoVersion(v string) bool {
	v, _, _ = strings.Cut(v, "+")
	i := strings.LastIndexByte(v, '-')
	if i < 14 || len(v)-i-1 != 12 || !allIn(v[i+1:], "0123456789abcdef") {
		return false
	}
	return allIn(v[i-14:i], "0123456789")
}

func allIn(s, set string) bool {
	for _, c := range s {
		if !strings.ContainsRune(set, c) {
			return false
		}
	}
	return true
}
