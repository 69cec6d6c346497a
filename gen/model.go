package gen

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/usdtkit/usdtkit/docs/contract"
)

// Tracepoint and Arg are the contract's: generators render them as the
// contract resolved them.
type (
	Tracepoint = contract.Tracepoint
	Arg        = contract.Arg
)

// Model is what the generators render: tracepoints of a contract that
// can be written in a probe, with the names they take in the output.
type Model struct {
	*contract.Contract
	// Tracepoints are the ones to render, in the contract's order.
	Tracepoints []*Tracepoint
	// Warnings are about tracepoints left out.
	Warnings []Warning

	bases map[*Tracepoint]string
}

// Warning is something the generated output cannot do, or had to decide
// because the inputs disagree.
type Warning struct {
	Tracepoint string // context:event
	Message    string
}

func (w Warning) String() string { return w.Tracepoint + ": " + w.Message }

var identRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// NewModel keeps the tracepoints of c that match any of the patterns (all
// when there are none), globs as elf.Probe.Match takes them. Tracepoints
// whose context or event is not a C identifier cannot be written in a
// probe and are left out with a warning.
func NewModel(c *contract.Contract, patterns ...string) *Model {
	m := &Model{Contract: c}
	var tps []*Tracepoint
	for _, tp := range c.Select(patterns...) {
		if len(tp.Calls) == 0 && tp.Doc == nil && len(tp.Probes) == 0 {
			continue // a semaphore without a call: nothing to trace
		}
		if !identRe().MatchString(tp.Context) || !identRe().MatchString(tp.Event) {
			m.Warnings = append(m.Warnings, Warning{strconv.Quote(tp.ID()), "context and event must be C identifiers to be written in a probe; left out"})
			continue
		}
		tps = append(tps, tp)
	}
	m.Tracepoints = tps
	m.name()
	return m
}

// name gives every tracepoint a base name for the identifiers and files
// of the output, context_event, unique among the model's as it is and in
// the CamelCase and upper case the output also writes it in: net:a_b and
// net_a:b would both be net_a_b, net_:x and net:x both NetX, so the
// second one met (in the model's order) gets a suffix: net_a_b_2.
func (m *Model) name() {
	m.bases = map[*Tracepoint]string{}
	taken := map[string]bool{}
	free := func(base string) bool {
		return !taken[base] && !taken[camel(base)] && !taken[strings.ToUpper(base)]
	}
	for _, tp := range m.Tracepoints {
		base := tp.Context + "_" + tp.Event
		for n := 2; !free(base); n++ {
			base = fmt.Sprintf("%s_%s_%d", tp.Context, tp.Event, n)
		}
		taken[base], taken[camel(base)], taken[strings.ToUpper(base)] = true, true, true
		m.bases[tp] = base
	}
}

// base is tp's base name in the output.
func (m *Model) base(tp *Tracepoint) string {
	if b, ok := m.bases[tp]; ok {
		return b
	}
	return tp.Context + "_" + tp.Event
}

// With returns a copy of the model that renders only tp, with the names
// it has in the whole model.
func (m *Model) With(tp *Tracepoint) *Model {
	c := *m
	c.Tracepoints = []*Tracepoint{tp}
	c.Warnings = nil
	return &c
}

// Filter returns a copy of the model that has only the tracepoints keep
// keeps.
func (m *Model) Filter(keep func(*Tracepoint) bool) *Model {
	var tps []*Tracepoint
	for _, tp := range m.Tracepoints {
		if keep(tp) {
			tps = append(tps, tp)
		}
	}
	c := *m
	c.Tracepoints = tps
	return &c
}

// BinaryPath is the first binary as given, "" without one.
func (m *Model) BinaryPath() string {
	if len(m.Binaries) == 0 {
		return ""
	}
	return m.Binaries[0].Path
}

// SourcePath is the source tree as given, "" without one.
func (m *Model) SourcePath() string {
	if m.Source == nil {
		return ""
	}
	return m.Source.Path
}

// documentsContext reports whether the doc has a section for ctx.
func (m *Model) documentsContext(ctx string) bool {
	return m.Doc != nil && m.Doc.Context(ctx) != nil
}

// warnings are the contract's notes on tp as warnings.
func warnings(tp *Tracepoint) []Warning {
	var ws []Warning
	for _, n := range tp.Notes {
		ws = append(ws, Warning{tp.ID(), n})
	}
	return ws
}

// undocumented says, for a tracepoint the doc lacks, where its names and
// types come from.
func undocumented(tp *Tracepoint) string {
	switch {
	case tp.Probe() != nil && tp.Call() != nil:
		return "not in the doc; the names are the source's expressions, the types the binary's specs."
	case tp.Probe() != nil:
		return "not in the doc; the types are the binary's specs."
	}
	return "not in the doc or the binary; the names come from the source's expressions."
}
