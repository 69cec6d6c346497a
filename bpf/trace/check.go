package trace

import (
	"fmt"
	"sort"
	"strings"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
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

// Verdict is what verify says of one documented tracepoint.
type Verdict struct {
	Tracepoint string   `json:"tracepoint"`
	InBinary   bool     `json:"in_binary"`
	Hits       uint64   `json:"hits"`
	Failures   []string `json:"failures"`
	// Status is ok, failed, never-fired or not-in-binary.
	Status string `json:"status"`

	count map[string]int
}

// Verifier checks every event of the documented tracepoints of a
// contract, and gives each its verdict at the end.
type Verifier struct {
	byID map[string]*Verdict
	// Patterns are the documented tracepoints the binary has: what to
	// attach.
	Patterns []string
}

// NewVerifier takes the documented tracepoints of c that match the
// patterns (all when there are none). It is an error when there are none,
// or none of them is in the binary.
func NewVerifier(c *contract.Contract, patterns []string) (*Verifier, error) {
	v := &Verifier{byID: map[string]*Verdict{}}
	for _, tp := range c.Tracepoints {
		if tp.Doc == nil || !contract.Match(tp.ID(), patterns...) {
			continue
		}
		v.byID[tp.ID()] = &Verdict{Tracepoint: tp.ID(), InBinary: tp.Probe() != nil, Failures: []string{}, count: map[string]int{}}
		if tp.Probe() != nil {
			v.Patterns = append(v.Patterns, tp.ID())
		}
	}
	switch {
	case len(v.byID) == 0:
		return nil, fmt.Errorf("no documented tracepoint in %s matches %s", c.DocPath, strings.Join(patterns, " "))
	case len(v.Patterns) == 0:
		return nil, fmt.Errorf("%s has none of the documented tracepoints of %s", c.Binaries[0].Path, c.DocPath)
	}
	return v, nil
}

// Event checks one event.
func (v *Verifier) Event(ev *Event) {
	if r := v.byID[ev.Probe]; r != nil {
		for _, msg := range ev.Tracepoint.Check(ev) {
			r.count[msg]++
		}
	}
}

// Verdicts are the verdicts, by tracepoint, with the session's counts:
// a tracepoint fails when a value did not fit or events were lost, and
// with requireAll also when it never fired or is not in the binary.
func (v *Verifier) Verdicts(st bpf.Stats, requireAll bool) (list []*Verdict, failed int) {
	for _, tp := range st.Tracepoints {
		if r := v.byID[tp.Probe]; r != nil {
			r.Hits = tp.Hits
			if tp.Lost > 0 {
				r.count[fmt.Sprintf("%d events lost (ring buffer full): their values were not checked", tp.Lost)]++
			}
		}
	}
	for _, r := range v.byID {
		r.Failures = r.Failures[:0]
		for msg, n := range r.count {
			if n > 1 {
				msg = fmt.Sprintf("%s (%d times)", msg, n)
			}
			r.Failures = append(r.Failures, msg)
		}
		sort.Strings(r.Failures)
		switch {
		case len(r.Failures) > 0:
			r.Status = "failed"
		case !r.InBinary:
			r.Status = "not-in-binary"
		case r.Hits == 0:
			r.Status = "never-fired"
		default:
			r.Status = "ok"
		}
		if r.Status == "failed" || r.Status != "ok" && requireAll {
			failed++
		}
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Tracepoint < list[j].Tracepoint })
	return list, failed
}
