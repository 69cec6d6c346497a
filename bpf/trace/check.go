package trace

import (
	"fmt"

	"github.com/usdtkit/usdtkit/docs"
)

// Check checks one event's values against the documented types and
// says what does not fit: a value that could not be read, a string not
// NUL-terminated within its documented maximum, a bool other than 0 or 1,
// a byte buffer shorter than its length argument says, an integer out of
// the range of its documented size and sign.
func (tp *Tracepoint) Check(ev *Event) []string {
	var bad []string
	for i, v := range ev.Args {
		if i >= len(tp.Args) || tp.Args[i].Doc == nil {
			continue
		}
		a := &tp.Args[i]
		what := fmt.Sprintf("arg%d (%s)", i, a.Description)
		if v.Err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", what, v.Err))
			continue
		}
		switch d := a.Doc; d.Kind {
		case docs.CString:
			if v.Truncated {
				bad = append(bad, fmt.Sprintf("%s: string longer than the documented %d characters", what, a.Plan.MaxLen))
			}
		case docs.Bool:
			if b := v.Raw & 0xff; b > 1 {
				bad = append(bad, fmt.Sprintf("%s: bool is %d, not 0 or 1", what, b))
			}
		case docs.Bytes:
			if l := a.Plan.LenArg; l >= 0 && l < len(ev.Args) {
				want := min(ev.Args[l].Raw, uint64(a.Plan.MaxLen))
				if uint64(len(v.Bytes)) != want {
					bad = append(bad, fmt.Sprintf("%s: %d bytes read, the size argument arg%d says %d", what, len(v.Bytes), l, ev.Args[l].Raw))
				}
			}
		case docs.Int, docs.Uint:
			if d.Size == 0 || d.Size >= v.Size {
				continue
			}
			// The spec is wider than the documented type: the value must fit.
			shift := 64 - 8*uint(d.Size)
			if d.Kind == docs.Int {
				if x := int64(v.Raw); x != x<<shift>>shift {
					bad = append(bad, fmt.Sprintf("%s: %d does not fit the documented int%d", what, x, d.Size*8))
				}
			} else if v.Raw != v.Raw<<shift>>shift {
				bad = append(bad, fmt.Sprintf("%s: %d does not fit the documented uint%d", what, v.Raw, d.Size*8))
			}
		}
	}
	return bad
}
