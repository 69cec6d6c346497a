package contract

import (
	"fmt"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/patches"
)

// Binary is one binary's view: its stapsdt notes, and the path to show
// for it.
type Binary struct {
	Path string
	File *elf.File
}

// Source is the source's view: the tracepoint and semaphore macro calls
// of a source tree, as [patches.ScanDir] returns them.
type Source struct {
	Path   string // the tree as given, for messages
	Macros []patches.Macro
}

// Input is what [Join] joins. Any view may be missing: a nil Doc, a nil
// Source, no Binaries.
type Input struct {
	Doc      *docs.Doc
	DocPath  string // the doc as given; Doc.Name when empty
	Source   *Source
	Binaries []Binary
}

// Contract is every tracepoint any view has, joined by context:event.
type Contract struct {
	Input
	// PointerSize is the target's pointer size: the first binary's, else 8.
	PointerSize int
	// Tracepoints are those of the doc in its order, then those only the
	// binaries have in their order, then those only the source has in
	// the order of their first call.
	Tracepoints []*Tracepoint

	byID map[string]*Tracepoint
}

// Tracepoint is the contract of one context:event.
type Tracepoint struct {
	Context string
	Event   string
	// Doc is the doc's first entry for it, nil when the doc has none.
	Doc *docs.Tracepoint
	// Calls are its TRACEPOINT (or TRACEn, DTRACE_PROBEn, STAP_PROBEn)
	// calls in the source, in scan order.
	Calls []*patches.Macro
	// Semaphores are its TRACEPOINT_SEMAPHORE calls.
	Semaphores []*patches.Macro
	// Probes are the binaries' tracepoints of this ID, one per binary
	// that has it, in the order of the binaries.
	Probes []Probe
	// Args are the arguments a tracer reads: as many as the first
	// binary's first call site passes, else as the doc lists, else as the
	// first call passes.
	Args []Arg
	// Notes are the decisions the join had to make because the views
	// disagree, or cannot tell something: which type an argument is read
	// as, which documented argument has no value.
	Notes []string
}

// Probe is one binary's tracepoint.
type Probe struct {
	Binary *Binary
	Probe  *elf.Probe
}

// ID is "context:event".
func (t *Tracepoint) ID() string { return t.Context + ":" + t.Event }

// Probe is the first binary's tracepoint, nil when no binary has it.
func (t *Tracepoint) Probe() *elf.Probe {
	if len(t.Probes) == 0 {
		return nil
	}
	return t.Probes[0].Probe
}

// Call is the first call in the source, nil when the source has none.
func (t *Tracepoint) Call() *patches.Macro {
	if len(t.Calls) == 0 {
		return nil
	}
	return t.Calls[0]
}

// Semaphore reports whether the first binary guards the tracepoint with
// a semaphore.
func (t *Tracepoint) Semaphore() bool { p := t.Probe(); return p != nil && p.Semaphore != nil }

// Description is the doc's description of the tracepoint, "" when it has
// none or only the placeholder [Entry] writes.
func (t *Tracepoint) Description() string {
	if t.Doc == nil || t.Doc.Description == docs.DescriptionPlaceholder {
		return ""
	}
	return t.Doc.Description
}

// Arg is one argument of a tracepoint.
type Arg struct {
	Index int // 0-based, as bpftrace's argN
	// Name is an identifier for the argument, unique in its tracepoint:
	// made from its documented description ("Peer ID" gives peer_id),
	// else from its source expression (peer.GetId() gives peer_id), else
	// argN. Generated code and --by keys use it.
	Name string
	// Description is the documented description; for an argument the
	// doc does not have, its expression in the source; else "".
	Description string
	// Doc is the documented argument, nil when the doc has none (or does
	// not list this one).
	Doc *docs.Arg
	// Documented is set when the doc gives the argument a valid type.
	Documented bool
	// Expr is the argument's expression in the first call, "" without one.
	Expr string
	// Type is what the value is: the documented type, else the type the
	// binary's spec and the source's expression give (see [TypeOf]). An
	// integer the binary passes with another size or sign than the doc
	// says is read as the binary passes it.
	Type docs.Type
	// Spec is the size and class a tracer reads: the widest of the first
	// binary's call sites, else what the type should have.
	Spec docs.Spec
	// Site is the argument's spec at the first binary's first call site,
	// nil when no binary has the tracepoint.
	Site *elf.Arg
	// LenArg is the index of the argument that holds the length of a
	// byte buffer without a documented size, or -1 (see [LengthArg]).
	LenArg int
}

// Join joins the views by context:event. It never fails: where the views
// disagree, the tracepoint's Notes say what was decided.
func Join(in Input) *Contract {
	c := &Contract{Input: in, PointerSize: 8, byID: map[string]*Tracepoint{}}
	if c.DocPath == "" && in.Doc != nil {
		c.DocPath = in.Doc.Name
	}
	if len(in.Binaries) > 0 {
		c.PointerSize = in.Binaries[0].File.PointerSize()
	}
	get := func(ctx, event string) *Tracepoint {
		id := ctx + ":" + event
		tp := c.byID[id]
		if tp == nil {
			tp = &Tracepoint{Context: ctx, Event: event}
			c.byID[id] = tp
			c.Tracepoints = append(c.Tracepoints, tp)
		}
		return tp
	}
	if in.Doc != nil {
		for _, entry := range in.Doc.Tracepoints {
			tp := get(entry.Context, entry.Event)
			if tp.Doc == nil {
				tp.Doc = entry
			} else {
				tp.Notes = append(tp.Notes, fmt.Sprintf("%s:%d documents it again; the first entry is used", c.DocPath, entry.Line))
			}
		}
	}
	for i := range c.Binaries {
		b := &c.Binaries[i]
		for j := range b.File.Probes {
			p := &b.File.Probes[j]
			tp := get(p.Provider, p.Name)
			if len(tp.Probes) == 0 || tp.Probes[len(tp.Probes)-1].Binary != b {
				tp.Probes = append(tp.Probes, Probe{Binary: b, Probe: p})
			}
		}
	}
	if in.Source != nil {
		// Calls first: a tracepoint only the source has comes in the
		// order of its first call, wherever its semaphore is.
		for _, sema := range []bool{false, true} {
			for i := range in.Source.Macros {
				m := &in.Source.Macros[i]
				if m.Context == "" || m.Event == "" || (m.Kind == patches.Semaphore) != sema {
					continue
				}
				tp := get(m.Context, m.Event)
				if sema {
					tp.Semaphores = append(tp.Semaphores, m)
				} else {
					tp.Calls = append(tp.Calls, m)
				}
			}
		}
	}
	for _, tp := range c.Tracepoints {
		c.resolve(tp)
	}
	return c
}

// Tracepoint returns the contract of id (context:event), or nil.
func (c *Contract) Tracepoint(id string) *Tracepoint { return c.byID[id] }

// Select returns the tracepoints that match any of the patterns (all
// when there are none), globs as [elf.Probe.Match] takes them.
func (c *Contract) Select(patterns ...string) []*Tracepoint {
	var out []*Tracepoint
	for _, tp := range c.Tracepoints {
		if Match(tp.ID(), patterns...) {
			out = append(out, tp)
		}
	}
	return out
}

// Match applies the glob rules of [elf.Probe.Match] to a tracepoint ID.
func Match(id string, patterns ...string) bool {
	ctx, event := id, ""
	for i := 0; i < len(id); i++ {
		if id[i] == ':' {
			ctx, event = id[:i], id[i+1:]
			break
		}
	}
	return (&elf.Probe{Provider: ctx, Name: event}).Match(patterns...)
}

// resolve decides each argument's name, type and spec from the views.
func (c *Contract) resolve(tp *Tracepoint) {
	note := func(format string, v ...any) { tp.Notes = append(tp.Notes, fmt.Sprintf(format, v...)) }
	var documented []docs.Arg
	if tp.Doc != nil {
		documented = tp.Doc.Args
	}
	var exprs []string
	if call := tp.Call(); call != nil {
		exprs = call.Args
	}
	n := len(documented)
	if tp.Doc == nil {
		n = len(exprs)
	}
	probe := tp.Probe()
	if probe == nil && len(c.Binaries) > 0 && (tp.Doc != nil || len(tp.Calls) > 0) {
		note("not in the binary; a script cannot attach to it until it is")
	}
	var sites []elf.Arg
	if probe != nil {
		sites = probe.CallSites[0].Args
		n = len(sites)
		if tp.Doc != nil && len(documented) != len(sites) {
			note("the doc documents %d arguments, the binary passes %d", len(documented), len(sites))
		}
		if call := tp.Call(); tp.Doc == nil && call != nil && len(exprs) != len(sites) {
			note("the source's call at %s:%d passes %d arguments, the binary %d", call.File, call.Line, len(exprs), len(sites))
		}
	}
	widest := c.widest(tp, note)
	names := map[string]bool{}
	untyped := 0
	for i := 0; i < n; i++ {
		a := Arg{Index: i, LenArg: -1}
		if i < len(documented) {
			d := &documented[i]
			a.Doc = d
			a.Description = d.Description
			if a.Description == docs.ArgPlaceholder {
				a.Description = ""
			}
			if d.Type.Kind != docs.Invalid {
				a.Type, a.Documented = d.Type, true
			}
		}
		if i < len(exprs) {
			a.Expr = exprs[i]
		}
		name := nameFromDescription(a.Description)
		if tp.Doc == nil && a.Expr != "" {
			a.Description, name = a.Expr, nameFromExpr(a.Expr)
		}
		switch {
		case sites != nil:
			s := &sites[i]
			a.Site = s
			got := widest[i]
			switch {
			case s.Size == 0:
				if !a.Documented {
					a.Type = docs.Type{Kind: docs.Uint, Size: 8}
				}
				a.Spec, _ = a.Type.Spec(c.PointerSize)
				note("argument %d: the binary's spec %q has no valid size; read as %s", i+1, s.Raw, a.Spec)
			case !a.Documented:
				a.Type, a.Spec = TypeOf(&got, a.Expr, c.PointerSize), got
			default:
				a.Spec = got
				want, _ := a.Type.Spec(c.PointerSize)
				if want == got {
					break
				}
				switch a.Type.Kind {
				case docs.Int, docs.Uint, docs.Bool:
					was := a.Type
					a.Type = TypeOf(&got, "", c.PointerSize)
					note("argument %d: the doc says %s (%s), the binary passes %s; read as %s", i+1, was.Phrase(), want, got, a.Type.Phrase())
				default:
					note("argument %d: the doc says %s (%s), the binary passes %s", i+1, a.Type.Phrase(), want, got)
				}
			}
			if s.Err != nil && s.Size != 0 {
				note("argument %d: %v; bpftrace and bcc may not read it either", i+1, s.Err)
			}
		case a.Documented:
			a.Spec, _ = a.Type.Spec(c.PointerSize)
		default:
			a.Type = TypeOf(nil, a.Expr, c.PointerSize)
			a.Spec, _ = a.Type.Spec(c.PointerSize)
			switch {
			case tp.Doc != nil:
				note("argument %d has no type the doc's reader understands; read as %s", i+1, a.Type.Phrase())
			case !typedBy(a.Expr):
				untyped++
			}
		}
		a.Name = uniqueName(name, i, names)
		tp.Args = append(tp.Args, a)
	}
	if untyped > 0 {
		verb := "are"
		if untyped == 1 {
			verb = "is"
		}
		note("neither the doc nor the binary has it, so %d of its %d arguments %s read as uint64", untyped, n, verb)
	}
	for i := range tp.Args {
		if a := &tp.Args[i]; a.Type.Kind == docs.Bytes && a.Type.Size == 0 {
			a.LenArg = LengthArg(tp.Args, i)
		}
	}
}

// widest is the widest spec of each argument over the first binary's
// call sites: bcc reads an argument into the largest type of its call
// sites, and bpftrace extends each site's value to 64 bits, so the widest
// reads them all.
func (c *Contract) widest(tp *Tracepoint, note func(string, ...any)) []docs.Spec {
	p := tp.Probe()
	if p == nil {
		return nil
	}
	sites := p.CallSites[0].Args
	widest := make([]docs.Spec, len(sites))
	for i := range sites {
		widest[i] = specOf(sites[i])
	}
	for i := 1; i < len(p.CallSites); i++ {
		other := p.CallSites[i].Args
		if len(other) != len(sites) {
			note("call site %d passes %d arguments, call site 0 passes %d", i, len(other), len(sites))
		}
		for j := range other[:min(len(other), len(sites))] {
			if o := specOf(other[j]); o != specOf(sites[j]) {
				if o.Size > widest[j].Size {
					widest[j] = o
				}
				note("argument %d is %s at call site %d and %s at call site 0; read as %s", j+1, o, i, specOf(sites[j]), widest[j])
			}
		}
	}
	return widest
}

func specOf(a elf.Arg) docs.Spec {
	return docs.Spec{Size: a.Size, Signed: a.Signed, Float: a.Float}
}
