package audit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
)

// MaxArgs is the most arguments a USDT tracepoint can have.
const MaxArgs = elf.MaxArgs

// bpftraceMaxArg is the highest argN bpftrace 0.23 and older can read on x86-64.
const bpftraceMaxArg = 5

// bpftraceStrlen is bpftrace's default string buffer, NUL included.
const bpftraceStrlen = 64

// SourceKind says which macro a source call is.
type SourceKind int

const (
	SourceTracepoint SourceKind = iota // TRACEPOINT, TRACEn, DTRACE_PROBEn, STAP_PROBEn
	SourceSemaphore                    // TRACEPOINT_SEMAPHORE
)

// Source is one tracepoint or semaphore macro call in the source.
type Source struct {
	Kind    SourceKind
	Macro   string // the macro's name as written: "TRACEPOINT", "TRACE6"
	Context string
	Event   string
	File    string
	Line    int
	Args    []string // argument expressions after context and event
	Cond    string   // the enclosing #if conditions, "" when none
}

// ID is "context:event".
func (s *Source) ID() string { return s.Context + ":" + s.Event }

func (s *Source) where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Binary is one binary's USDT view and the path to show for it.
type Binary struct {
	Path string
	File *elf.File
}

// Input is what to compare. A nil Doc, a nil Sources with SourceGiven false,
// or no Binaries leaves that view out; at least two views must be given.
type Input struct {
	Doc         *docs.Doc
	DocPath     string
	Sources     []Source
	SourceGiven bool // a source tree was scanned (it may have no calls)
	// SourceProblems are calls the scanner could not read.
	SourceProblems []Finding
	Binaries       []Binary
}

// Run compares the views and returns the findings, ordered by tracepoint,
// then severity (highest first), then location.
func Run(in Input) []Finding {
	a := &auditor{in: in, ptrSize: 8}
	for _, b := range in.Binaries {
		a.ptrSize = b.File.PointerSize()
		break
	}
	a.run()
	sort.SliceStable(a.out, func(i, j int) bool {
		x, y := a.out[i], a.out[j]
		if x.Tracepoint != y.Tracepoint {
			return x.Tracepoint < y.Tracepoint
		}
		if x.Severity != y.Severity {
			return x.Severity > y.Severity
		}
		if x.File != y.File {
			return x.File < y.File
		}
		return x.Line < y.Line
	})
	return a.out
}

type auditor struct {
	in      Input
	ptrSize int
	out     []Finding
}

func (a *auditor) add(f Finding) { a.out = append(a.out, f) }

// view is everything known about one tracepoint.
type view struct {
	id         string
	doc        *docs.Tracepoint
	calls      []*Source // tracepoint macros
	semaphores []*Source
	probes     []probeIn // one per binary carrying it
}

type probeIn struct {
	bin   Binary
	probe *elf.Probe
}

func (a *auditor) run() {
	views := map[string]*view{}
	get := func(id string) *view {
		v := views[id]
		if v == nil {
			v = &view{id: id}
			views[id] = v
		}
		return v
	}
	hasDoc, hasSrc, hasBin := a.in.Doc != nil, a.in.SourceGiven, len(a.in.Binaries) > 0
	if a.in.Doc != nil {
		for _, p := range a.in.Doc.Problems {
			a.add(Finding{Kind: DocSyntax, Severity: Error, File: a.in.DocPath, Line: p.Line, Message: p.Msg,
				Fix: "rewrite the line in the format of Bitcoin Core's doc/tracing.md"})
		}
		for _, tp := range a.in.Doc.Tracepoints {
			// A second entry for one tracepoint is a doc problem, reported above.
			if v := get(tp.ID()); v.doc == nil {
				v.doc = tp
			}
		}
	}
	a.out = append(a.out, a.in.SourceProblems...)
	for i := range a.in.Sources {
		s := &a.in.Sources[i]
		v := get(s.ID())
		if s.Kind == SourceSemaphore {
			v.semaphores = append(v.semaphores, s)
		} else {
			v.calls = append(v.calls, s)
		}
	}
	for _, b := range a.in.Binaries {
		if b.File.Notes == 0 {
			a.add(Finding{Kind: NoTracepoints, Severity: Error, File: b.Path,
				Message: b.Path + " has no USDT tracepoints: it was built without tracing",
				Fix:     "rebuild with tracepoints enabled (Bitcoin Core: cmake -B build -DWITH_USDT=ON; needs systemtap-sdt-dev)"})
			continue
		}
		for i := range b.File.Probes {
			p := &b.File.Probes[i]
			v := get(p.ID())
			v.probes = append(v.probes, probeIn{b, p})
		}
	}
	binHasNotes := false
	for _, b := range a.in.Binaries {
		binHasNotes = binHasNotes || b.File.Notes > 0
	}
	ids := make([]string, 0, len(views))
	for id := range views {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		v := views[id]
		inSrc, inBin := len(v.calls) > 0, len(v.probes) > 0
		switch {
		case v.doc == nil && (inSrc || inBin) && hasDoc:
			a.undocumented(v)
		case v.doc != nil && !inSrc && !inBin && (hasSrc || binHasNotes):
			a.stale(v, hasSrc, hasBin)
		case v.doc != nil && inSrc && !inBin && binHasNotes:
			a.notInBinary(v)
		case v.doc == nil && !hasDoc && inSrc && !inBin && binHasNotes:
			a.notInBinary(v)
		}
		a.argCounts(v)
		a.argTypes(v)
		a.semaphoreFindings(v, hasSrc)
		a.toolLimits(v)
	}
}

func (a *auditor) binaryNames() string {
	var names []string
	for _, b := range a.in.Binaries {
		names = append(names, b.Path)
	}
	return strings.Join(names, ", ")
}

// isTestSource reports whether a source file is test code: a path component
// "test" or "tests", or a name ending in _test(s).cpp. Its tracepoints exist
// for the tests (Bitcoin Core's src/test/util_trace_tests.cpp) and are not
// expected in the docs.
func isTestSource(path string) bool {
	p := "/" + strings.ReplaceAll(path, "\\", "/")
	if strings.Contains(p, "/test/") || strings.Contains(p, "/tests/") {
		return true
	}
	base := p[strings.LastIndex(p, "/")+1:]
	if dot := strings.LastIndex(base, "."); dot > 0 {
		base = base[:dot]
	}
	return strings.HasSuffix(base, "_test") || strings.HasSuffix(base, "_tests")
}

func (a *auditor) undocumented(v *view) {
	testOnly := len(v.calls) > 0
	for _, c := range v.calls {
		testOnly = testOnly && isTestSource(c.File)
	}
	if testOnly {
		c := v.calls[0]
		a.add(Finding{Kind: Undocumented, Severity: Info, Tracepoint: v.id, File: c.File, Line: c.Line,
			Message: fmt.Sprintf("%s is only in test code (%s) and not documented", v.id, c.where()),
			Fix:     "nothing to do for a test-only tracepoint; document it if users are meant to trace it"})
		return
	}
	f := Finding{Kind: Undocumented, Severity: Error, Tracepoint: v.id,
		Fix: fmt.Sprintf("add a \"#### Tracepoint `%s`\" entry under \"### Context `%s`\" in %s (usdtkit audit --fix writes it)", v.id, contextOf(v.id), a.in.DocPath)}
	if len(v.calls) > 0 {
		c := v.calls[0]
		f.File, f.Line = c.File, c.Line
		f.Message = fmt.Sprintf("%s is in the source but not documented in %s", v.id, a.in.DocPath)
	} else {
		p := v.probes[0]
		f.File, f.CallSite = p.bin.Path, hexAddr(p.probe.CallSites[0].Address)
		f.Message = fmt.Sprintf("%s is in %s but not documented in %s", v.id, p.bin.Path, a.in.DocPath)
	}
	a.add(f)
}

func (a *auditor) stale(v *view, hasSrc, hasBin bool) {
	var where []string
	if hasSrc {
		where = append(where, "the source")
	}
	if hasBin {
		where = append(where, a.binaryNames())
	}
	msg := fmt.Sprintf("%s is documented but is not in %s", v.id, strings.Join(where, ""))
	if len(where) > 1 {
		msg = fmt.Sprintf("%s is documented but is in neither %s", v.id, strings.Join(where, " nor "))
	}
	a.add(Finding{Kind: Stale, Severity: Error, Tracepoint: v.id, File: a.in.DocPath, Line: v.doc.Line,
		Message: msg,
		Fix:     "remove the entry, or restore the tracepoint if it was dropped by mistake"})
}

func (a *auditor) notInBinary(v *view) {
	c := v.calls[0]
	msg := fmt.Sprintf("%s is in the source (%s) but not in %s", v.id, c.where(), a.binaryNames())
	fix := "build the binary that compiles " + c.File + ", or with tracing enabled"
	if c.Cond != "" {
		msg += fmt.Sprintf("; the call is under #if %s", c.Cond)
		fix = fmt.Sprintf("build a configuration where %s holds, or audit the binary that contains %s", c.Cond, c.File)
	}
	a.add(Finding{Kind: NotInBinary, Severity: Warning, Tracepoint: v.id, File: c.File, Line: c.Line, Message: msg, Fix: fix})
}

func (a *auditor) argCounts(v *view) {
	if v.doc != nil {
		n := len(v.doc.Args)
		for _, c := range v.calls {
			if len(c.Args) != n {
				a.add(Finding{Kind: ArgCount, Severity: Error, Tracepoint: v.id, File: a.in.DocPath, Line: argsLine(v.doc),
					Message: fmt.Sprintf("%s: the doc lists %d argument%s, %s at %s passes %d", v.id, n, plural(n), c.Macro, c.where(), len(c.Args)),
					Fix:     fmt.Sprintf("make the doc's list match the call's arguments: %s", strings.Join(c.Args, ", "))})
			}
		}
		for _, p := range v.probes {
			for _, cs := range p.probe.CallSites {
				if len(cs.Args) != n {
					a.add(Finding{Kind: ArgCount, Severity: Error, Tracepoint: v.id, File: a.in.DocPath, Line: argsLine(v.doc), CallSite: hexAddr(cs.Address),
						Message: fmt.Sprintf("%s: the doc lists %d argument%s, the call site at %s in %s passes %d (%s)", v.id, n, plural(n), hexAddr(cs.Address), p.bin.Path, len(cs.Args), cs.ArgsRaw),
						Fix:     "document the arguments the binary passes, or rebuild the binary from the documented source"})
				}
			}
		}
	} else {
		for _, c := range v.calls {
			for _, p := range v.probes {
				for _, cs := range p.probe.CallSites {
					if len(cs.Args) != len(c.Args) {
						a.add(Finding{Kind: ArgCount, Severity: Error, Tracepoint: v.id, File: c.File, Line: c.Line, CallSite: hexAddr(cs.Address),
							Message: fmt.Sprintf("%s: %s passes %d arguments, the call site at %s in %s has %d", v.id, c.Macro, len(c.Args), hexAddr(cs.Address), p.bin.Path, len(cs.Args)),
							Fix:     "rebuild the binary from this source"})
					}
				}
			}
		}
	}
	for _, p := range v.probes {
		sites := p.probe.CallSites
		for _, cs := range sites[1:] {
			if len(cs.Args) != len(sites[0].Args) {
				a.add(Finding{Kind: SiteArgCount, Severity: Error, Tracepoint: v.id, File: p.bin.Path, CallSite: hexAddr(cs.Address),
					Message: fmt.Sprintf("%s: the call site at %s passes %d arguments, the one at %s passes %d", v.id, hexAddr(cs.Address), len(cs.Args), hexAddr(sites[0].Address), len(sites[0].Args)),
					Fix:     "give every TRACEPOINT call of one tracepoint the same arguments, or split it into two tracepoints"})
				break
			}
		}
	}
	most, where := 0, Finding{}
	if v.doc != nil && len(v.doc.Args) > most {
		most, where = len(v.doc.Args), Finding{File: a.in.DocPath, Line: argsLine(v.doc)}
	}
	for _, c := range v.calls {
		if len(c.Args) > most {
			most, where = len(c.Args), Finding{File: c.File, Line: c.Line}
		}
	}
	for _, p := range v.probes {
		for _, cs := range p.probe.CallSites {
			if n := max(cs.ArgCount, len(cs.Args)); n > most {
				most, where = n, Finding{File: p.bin.Path, CallSite: hexAddr(cs.Address)}
			}
		}
	}
	if most > MaxArgs {
		where.Kind, where.Severity, where.Tracepoint = TooManyArgs, Error, v.id
		where.Message = fmt.Sprintf("%s has %d arguments; USDT tracepoints carry at most %d", v.id, most, MaxArgs)
		where.Fix = "pass fewer arguments, e.g. a pointer to a struct"
		a.add(where)
	}
}

// argTypes compares each documented type with every call site's spec.
func (a *auditor) argTypes(v *view) {
	if v.doc == nil {
		return
	}
	for _, p := range v.probes {
		reported := map[string]bool{} // one finding per argument and spec, not per call site
		for _, cs := range p.probe.CallSites {
			for i := range cs.Args {
				if i >= len(v.doc.Args) {
					break
				}
				da, ba := &v.doc.Args[i], &cs.Args[i]
				if ba.Size == 0 {
					key := "undecodable:" + ba.Raw
					if !reported[key] {
						reported[key] = true
						a.add(Finding{Kind: UndecodableSpec, Severity: Warning, Tracepoint: v.id, File: p.bin.Path, CallSite: hexAddr(cs.Address),
							Message: fmt.Sprintf("%s: arg%d's spec %q could not be decoded: %v", v.id, i, ba.Raw, ba.Err), Fix: "check the compiler's output for this argument"})
					}
					continue
				}
				if da.Err != nil || da.Type.Kind == docs.Invalid {
					continue // reported as a doc problem
				}
				want, ok := da.Type.Spec(a.ptrSize)
				if !ok {
					continue
				}
				key := fmt.Sprintf("%d:%d:%v:%v", i, ba.Size, ba.Signed, ba.Float)
				if reported[key] {
					continue
				}
				f := Finding{Tracepoint: v.id, File: a.in.DocPath, Line: da.Line, CallSite: hexAddr(cs.Address), Severity: Error}
				got := fmt.Sprintf("%s (%s at %s)", ba.Type(), ba.Raw, hexAddr(cs.Address))
				isPtr := da.Type.Kind == docs.CString || da.Type.Kind == docs.Bytes || da.Type.Kind == docs.Pointer
				switch {
				case isPtr && ba.Size != a.ptrSize:
					f.Kind = PointerSize
					f.Message = fmt.Sprintf("%s: arg%d (%s) is documented as `%s` but the binary passes %s, not a %d-byte pointer", v.id, i, da.Description, da.TypePhrase, got, a.ptrSize)
					f.Fix = "pass the pointer itself, or document the value's type"
				case isPtr:
					continue // pointers: size is what can be checked
				case ba.Size != want.Size || ba.Float != want.Float:
					f.Kind = ArgSize
					f.Message = fmt.Sprintf("%s: arg%d (%s) is documented as `%s` (%s) but the binary passes %s", v.id, i, da.Description, da.TypePhrase, want, got)
					f.Fix = fmt.Sprintf("document it as `%s`, or cast the argument to the documented type in the TRACEPOINT call", ba.Type())
				case ba.Signed != want.Signed:
					f.Kind = ArgSign
					f.Message = fmt.Sprintf("%s: arg%d (%s) is documented as `%s` (%s) but the binary passes %s", v.id, i, da.Description, da.TypePhrase, want, got)
					f.Fix = fmt.Sprintf("document it as `%s`, or cast the argument to the documented type in the TRACEPOINT call", ba.Type())
				default:
					continue
				}
				reported[key] = true
				a.add(f)
			}
		}
	}
}

func (a *auditor) semaphoreFindings(v *view, hasSrc bool) {
	if !hasSrc {
		return
	}
	modern := false
	for _, c := range v.calls {
		modern = modern || c.Macro == "TRACEPOINT"
	}
	// Only a tree that guards tracepoints with semaphores at all expects
	// one per TRACEPOINT (Bitcoin Core before 2024-10 had none).
	if modern && len(v.semaphores) == 0 && a.semaphoresInUse() {
		c := v.calls[0]
		a.add(Finding{Kind: MissingSemaphore, Severity: Error, Tracepoint: v.id, File: c.File, Line: c.Line,
			Message: fmt.Sprintf("%s: TRACEPOINT at %s has no TRACEPOINT_SEMAPHORE(%s, %s)", v.id, c.where(), contextOf(v.id), eventOf(v.id)),
			Fix:     fmt.Sprintf("add TRACEPOINT_SEMAPHORE(%s, %s); at file scope in %s", contextOf(v.id), eventOf(v.id), c.File)})
	}
	if len(v.calls) == 0 {
		for _, s := range v.semaphores {
			a.add(Finding{Kind: OrphanSemaphore, Severity: Warning, Tracepoint: v.id, File: s.File, Line: s.Line,
				Message: fmt.Sprintf("%s: TRACEPOINT_SEMAPHORE at %s has no TRACEPOINT", v.id, s.where()),
				Fix:     "remove the semaphore, or add the TRACEPOINT it guards"})
		}
	}
	if len(v.semaphores) > 0 {
		for _, p := range v.probes {
			if p.probe.Semaphore == nil {
				s := v.semaphores[0]
				a.add(Finding{Kind: UnguardedNote, Severity: Error, Tracepoint: v.id, File: p.bin.Path, CallSite: hexAddr(p.probe.CallSites[0].Address),
					Message: fmt.Sprintf("%s: the note in %s has no semaphore, though %s defines one", v.id, p.bin.Path, s.where()),
					Fix:     "build with the semaphore-aware sys/sdt.h macros (define SDT_USE_VARIADIC and _SDT_HAS_SEMAPHORES before including it, as util/trace.h does)"})
			}
		}
	}
}

func (a *auditor) toolLimits(v *view) {
	n, file, line, site := 0, "", 0, ""
	if v.doc != nil {
		n, file, line = len(v.doc.Args), a.in.DocPath, argsLine(v.doc)
	} else if len(v.calls) > 0 {
		n, file, line = len(v.calls[0].Args), v.calls[0].File, v.calls[0].Line
	} else if len(v.probes) > 0 {
		cs := v.probes[0].probe.CallSites[0]
		n, file, site = len(cs.Args), v.probes[0].bin.Path, hexAddr(cs.Address)
	}
	if n > bpftraceMaxArg+1 && n <= MaxArgs {
		a.add(Finding{Kind: BpftraceArgs, Severity: Warning, Tracepoint: v.id, File: file, Line: line, CallSite: site,
			Message: fmt.Sprintf("%s has %d arguments: bpftrace 0.23 and older read only arg0 to arg%d", v.id, n, bpftraceMaxArg),
			Fix:     "use bpftrace 0.24 or newer, bcc, or usdtkit attach for arg6 and beyond"})
	}
	if v.doc == nil {
		return
	}
	for _, da := range v.doc.Args {
		if da.Type.Kind == docs.CString && da.Type.MaxLen >= bpftraceStrlen {
			a.add(Finding{Kind: BpftraceStrlen, Severity: Warning, Tracepoint: v.id, File: a.in.DocPath, Line: da.Line,
				Message: fmt.Sprintf("%s: arg%d (%s) is documented up to %d characters; bpftrace reads %d bytes of a string by default, NUL included", v.id, da.Index, da.Description, da.Type.MaxLen, bpftraceStrlen),
				Fix:     fmt.Sprintf("run bpftrace with BPFTRACE_STRLEN=%d (or more)", da.Type.MaxLen+1)})
		}
	}
}

func (a *auditor) semaphoresInUse() bool {
	for i := range a.in.Sources {
		if a.in.Sources[i].Kind == SourceSemaphore {
			return true
		}
	}
	return false
}

func argsLine(tp *docs.Tracepoint) int {
	if tp.ArgsLine > 0 {
		return tp.ArgsLine
	}
	return tp.Line
}

func contextOf(id string) string { c, _, _ := strings.Cut(id, ":"); return c }
func eventOf(id string) string   { _, e, _ := strings.Cut(id, ":"); return e }

func hexAddr(a uint64) string { return fmt.Sprintf("%#x", a) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
