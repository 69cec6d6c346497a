package elf

import (
	"fmt"
	"sort"
	"strings"
)

// ChangeKind says what changed about a tracepoint between two builds.
type ChangeKind int

const (
	TracepointAdded   ChangeKind = iota // a tracepoint only the new build has
	TracepointRemoved                   // a tracepoint only the old build has
	SemaphoreAdded                      // the tracepoint gained a semaphore
	SemaphoreRemoved                    // the tracepoint lost its semaphore
	CallSitesChanged                    // the number of call sites changed
	ArgsChanged                         // one call site's argument specs changed
)

// Change is one difference between the tracepoints of two builds.
type Change struct {
	Kind       ChangeKind
	Tracepoint string // provider:name
	// Args is the number of arguments of an added or removed tracepoint
	// (at its first call site); CallSites its number of call sites.
	Args      int
	CallSites int
	// OldCount and NewCount are the call site counts for CallSitesChanged.
	OldCount, NewCount int
	// Site is the call site index (in note order) for ArgsChanged; Sites
	// is the larger call site count of the two builds, so the index is
	// shown only when there is more than one.
	Site, Sites int
	// Arg is the argument index for ArgsChanged, or -1 when the number of
	// arguments changed and Old and New are the whole argument strings.
	Arg      int
	Old, New string
}

// String formats the change as one line: "+ net:outbound_message (2 args)",
// "~ validation:block_connected arg1 -4@%esi -> -8@%rsi".
func (c Change) String() string {
	switch c.Kind {
	case TracepointAdded, TracepointRemoved:
		sign := "+"
		if c.Kind == TracepointRemoved {
			sign = "-"
		}
		s := fmt.Sprintf("%s %s (%d arg%s", sign, c.Tracepoint, c.Args, plural(c.Args))
		if c.CallSites > 1 {
			s += fmt.Sprintf(", %d call sites", c.CallSites)
		}
		return s + ")"
	case SemaphoreAdded:
		return "+ " + c.Tracepoint + " semaphore"
	case SemaphoreRemoved:
		return "- " + c.Tracepoint + " semaphore"
	case CallSitesChanged:
		return fmt.Sprintf("~ %s call sites %d -> %d", c.Tracepoint, c.OldCount, c.NewCount)
	case ArgsChanged:
		tp := c.Tracepoint
		if c.Sites > 1 {
			tp += fmt.Sprintf("#%d", c.Site)
		}
		if c.Arg < 0 {
			return fmt.Sprintf("~ %s args %q -> %q", tp, c.Old, c.New)
		}
		return fmt.Sprintf("~ %s arg%d %s -> %s", tp, c.Arg, c.Old, c.New)
	}
	return fmt.Sprintf("? %s", c.Tracepoint)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Diff returns how the tracepoints of new differ from those of old, ordered
// by tracepoint ID, then by kind, call site and argument. A nil file has no
// tracepoints. Call sites are paired by their order in the notes.
func Diff(old, new *File) []Change {
	before, after := probesByID(old), probesByID(new)
	ids := make([]string, 0, len(before)+len(after))
	for id := range before {
		ids = append(ids, id)
	}
	for id := range after {
		if _, ok := before[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	changes := []Change{}
	for _, id := range ids {
		o, n := before[id], after[id]
		switch {
		case o == nil:
			changes = append(changes, Change{Kind: TracepointAdded, Tracepoint: id, Args: argCount(n), CallSites: len(n.CallSites)})
			continue
		case n == nil:
			changes = append(changes, Change{Kind: TracepointRemoved, Tracepoint: id, Args: argCount(o), CallSites: len(o.CallSites)})
			continue
		}
		if o.Semaphore == nil && n.Semaphore != nil {
			changes = append(changes, Change{Kind: SemaphoreAdded, Tracepoint: id})
		} else if o.Semaphore != nil && n.Semaphore == nil {
			changes = append(changes, Change{Kind: SemaphoreRemoved, Tracepoint: id})
		}
		if len(o.CallSites) != len(n.CallSites) {
			changes = append(changes, Change{Kind: CallSitesChanged, Tracepoint: id, OldCount: len(o.CallSites), NewCount: len(n.CallSites)})
		}
		sites := max(len(o.CallSites), len(n.CallSites))
		for i := 0; i < min(len(o.CallSites), len(n.CallSites)); i++ {
			oa, na := strings.Fields(o.CallSites[i].ArgsRaw), strings.Fields(n.CallSites[i].ArgsRaw)
			if len(oa) != len(na) {
				changes = append(changes, Change{Kind: ArgsChanged, Tracepoint: id, Site: i, Sites: sites, Arg: -1,
					Old: o.CallSites[i].ArgsRaw, New: n.CallSites[i].ArgsRaw})
				continue
			}
			for j := range oa {
				if oa[j] != na[j] {
					changes = append(changes, Change{Kind: ArgsChanged, Tracepoint: id, Site: i, Sites: sites, Arg: j, Old: oa[j], New: na[j]})
				}
			}
		}
	}
	return changes
}

func probesByID(f *File) map[string]*Probe {
	m := map[string]*Probe{}
	if f == nil {
		return m
	}
	for i := range f.Probes {
		m[f.Probes[i].ID()] = &f.Probes[i]
	}
	return m
}

func argCount(p *Probe) int {
	if len(p.CallSites) == 0 {
		return 0
	}
	cs := &p.CallSites[0]
	return max(cs.ArgCount, len(cs.Args))
}
