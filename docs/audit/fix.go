package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/patches"
)

// StaleMarker starts the comment FixDoc puts under a stale entry's heading.
const StaleMarker = "<!-- usdtkit audit: stale:"

// FixDoc returns the text of the contract's doc with an entry added for every undocumented
// tracepoint among the findings (written by [contract.Entry], in its
// context's section or in a new section at the end) and a comment under
// the heading of every stale entry. It reports how many entries it added
// and flagged, and the tracepoints it could not document because the doc
// format cannot hold their names (a space, a backtick or a colon in the
// context or event): the doc's own reader would refuse their entries.
func FixDoc(c *contract.Contract, findings []Finding) (out string, added, flagged int, refused []string) {
	if c.Doc == nil {
		return "", 0, 0, nil
	}
	stale := map[int][]string{}
	var tps []*contract.Tracepoint
	for _, f := range findings {
		switch f.Kind {
		case Undocumented:
			tp := c.Tracepoint(f.Tracepoint)
			if tp == nil || f.Severity == Info { // only in test code: not for the doc
				continue
			}
			if err := contract.Documentable(tp); err != nil {
				refused = append(refused, f.Tracepoint)
				continue
			}
			tps = append(tps, tp)
		case Stale:
			stale[f.Line] = append(stale[f.Line], fmt.Sprintf("\n%s %s; remove this entry, or restore the tracepoint -->\n", StaleMarker, f.Message))
			flagged++
		}
	}
	return contract.AddEntries(c.Doc, tps, stale), len(tps), flagged, refused
}

// FixPatch is FixDoc as a unified diff for git apply, of the doc at path
// (named relative to the working directory when it is under it), empty
// when nothing changes, and the lines that say what it did.
func FixPatch(c *contract.Contract, findings []Finding, path string) (diff string, notes []string) {
	fixed, added, flagged, refused := FixDoc(c, findings)
	name := filepath.ToSlash(filepath.Clean(path))
	if filepath.IsAbs(name) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
				name = filepath.ToSlash(rel)
			}
		}
	}
	if fixed != c.Doc.Text {
		diff = patches.Patch{{Path: name, Old: c.Doc.Text, New: fixed}}.String()
	}
	entries := func(n int, what string) string {
		if n == 1 {
			return "1 " + what + "entry"
		}
		return fmt.Sprintf("%d %sentries", n, what)
	}
	notes = append(notes, fmt.Sprintf("%s added (marked TODO), %s flagged", entries(added, ""), entries(flagged, "stale ")))
	if len(refused) > 0 {
		notes = append(notes, "not documented, as the doc format cannot hold their names: "+strings.Join(refused, ", "))
	}
	return diff, notes
}
