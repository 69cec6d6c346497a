package elf

import (
	"fmt"
	"path"
	"strings"
)

// CheckPattern reports whether pattern is a valid tracepoint glob.
func CheckPattern(pattern string) error {
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("bad pattern %q: %w", pattern, err)
	}
	return nil
}

// Match reports whether the probe matches any of the globs (none matches
// all). A glob with a ':' is matched against "provider:name" ("net:*",
// "*:inbound_*"); one without is matched against the name alone.
func (p *Probe) Match(patterns ...string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, pat := range patterns {
		subject := p.Name
		if strings.Contains(pat, ":") {
			subject = p.ID()
		}
		if ok, _ := path.Match(pat, subject); ok {
			return true
		}
	}
	return false
}
