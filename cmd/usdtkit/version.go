package main

import (
	"runtime/debug"

	gomodule "golang.org/x/mod/module"
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
	if v != "" && v != "(devel)" && (rev == "" || !gomodule.IsPseudoVersion(v)) {
		return v
	}
	if rev != "" {
		if rev = rev[:min(len(rev), 12)]; dirty {
			rev += "-dirty"
		}
		return rev
	}
	return "dev"
}
