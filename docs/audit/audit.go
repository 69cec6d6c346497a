package audit

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/patches"
)

// MaxArgs is the most arguments a USDT tracepoint can have.
const MaxArgs = elf.MaxArgs

// bpftraceMaxArg is the highest argN bpftrace 0.23 and older can read on x86-64.
const bpftraceMaxArg = 5

// bpftraceStrlen is bpftrace's default string buffer, NUL included.
const bpftraceStrlen = 64

// Run checks the contract: every disagreement between its views is a
// finding, ordered by tracepoint, then severity (highest first), then
// location. sourceErrs are the errors of the source scan (files that
// could not be read or tokenized), as patches.ScanDir returns them joined;
// each becomes a source-syntax finding.
func Run(c *contract.Contract, sourceErrs error) []Finding {
	a := &auditor{c: c, docPath: c.DocPath}
	a.run(sourceErrs)
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
	c       *contract.Contract
	docPath string
	out     []Finding
}

func (a *auditor) add(f Finding) { a.out = append(a.out, f) }

func (a *auditor) run(sourceErrs error) {
	c := a.c
	hasDoc, hasSrc, hasBin := c.Doc != nil, c.Source != nil, len(c.Binaries) > 0
	if c.Doc != nil {
		for _, p := range c.Doc.Problems {
			a.add(Finding{Kind: DocSyntax, Severity: Error, Tracepoint: entryAt(c.Doc, p.Line), File: a.docPath, Line: p.Line, Message: p.Msg,
				Fix: "rewrite the line in the format of Bitcoin Core's doc/tracing.md"})
		}
	}
	a.sourceProblems(sourceErrs)
	binHasNotes := false
	for _, b := range c.Binaries {
		binHasNotes = binHasNotes || b.File.Notes > 0
		if b.File.Notes == 0 {
			a.add(Finding{Kind: NoTracepoints, Severity: Error, File: b.Path,
				Message: b.Path + " has no USDT tracepoints: it was built without tracing",
				Fix:     "rebuild with tracepoints enabled (Bitcoin Core: cmake -B build -DWITH_USDT=ON; needs systemtap-sdt-dev)"})
		}
	}
	for _, tp := range c.Tracepoints {
		inSrc, inBin := len(tp.Calls) > 0, len(tp.Probes) > 0
		switch {
		case tp.Doc == nil && (inSrc || inBin) && hasDoc:
			a.undocumented(tp)
		case tp.Doc != nil && !inSrc && !inBin && (hasSrc || binHasNotes):
			a.stale(tp, hasSrc, hasBin)
		case tp.Doc != nil && inSrc && !inBin && binHasNotes:
			a.notInBinary(tp)
		case tp.Doc == nil && !hasDoc && inSrc && !inBin && binHasNotes:
			a.notInBinary(tp)
		}
		a.argCounts(tp)
		a.argTypes(tp)
		a.semaphoreFindings(tp, hasSrc)
		a.toolLimits(tp)
	}
}

// entryAt is the tracepoint whose doc entry holds line, "" when none does.
func entryAt(doc *docs.Doc, line int) string {
	for _, tp := range doc.Tracepoints {
		if tp.Line <= line && line <= tp.EndLine {
			return tp.ID()
		}
	}
	return ""
}

// sourceProblems reports the calls the scanner could not read and the
// files it could not scan.
func (a *auditor) sourceProblems(errs error) {
	for _, e := range flatten(errs) {
		f := Finding{Kind: SourceSyntax, Severity: Error, Message: e.Error(),
			Fix: "fix the source so it compiles; the scanner reads C and C++ as the compiler does"}
		var se *patches.SyntaxError
		if errors.As(e, &se) {
			f.File, f.Line, f.Message = se.File, se.Line, se.Msg
		}
		a.add(f)
	}
	if a.c.Source == nil {
		return
	}
	for i := range a.c.Source.Macros {
		m := &a.c.Source.Macros[i]
		if m.Err == nil {
			continue
		}
		f := Finding{Kind: SourceSyntax, Severity: Error, Tracepoint: m.ID(), File: m.File, Line: m.Line,
			Message: m.Err.Error(), Fix: "make the call match its macro"}
		var se *patches.SyntaxError
		if errors.As(m.Err, &se) {
			f.Message = se.Msg
		}
		a.add(f)
	}
}

// flatten unwraps errors.Join.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func where(m *patches.Macro) string { return fmt.Sprintf("%s:%d", m.File, m.Line) }

func (a *auditor) binaryNames() string {
	var names []string
	for _, b := range a.c.Binaries {
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

func (a *auditor) undocumented(tp *contract.Tracepoint) {
	testOnly := len(tp.Calls) > 0
	for _, c := range tp.Calls {
		testOnly = testOnly && isTestSource(c.File)
	}
	if testOnly {
		c := tp.Calls[0]
		a.add(Finding{Kind: Undocumented, Severity: Info, Tracepoint: tp.ID(), File: c.File, Line: c.Line,
			Message: fmt.Sprintf("%s is only in test code (%s) and not documented", tp.ID(), where(c)),
			Fix:     "nothing to do for a test-only tracepoint; document it if users are meant to trace it"})
		return
	}
	f := Finding{Kind: Undocumented, Severity: Error, Tracepoint: tp.ID(),
		Fix: fmt.Sprintf("add a \"#### Tracepoint `%s`\" entry under \"### Context `%s`\" in %s (usdtkit audit --fix writes it)", tp.ID(), contextOf(tp.ID()), a.docPath)}
	if len(tp.Calls) > 0 {
		c := tp.Calls[0]
		f.File, f.Line = c.File, c.Line
		f.Message = fmt.Sprintf("%s is in the source but not documented in %s", tp.ID(), a.docPath)
	} else {
		p := tp.Probes[0]
		f.File, f.CallSite = p.Binary.Path, addr(p.Probe.CallSites[0].Address)
		f.Message = fmt.Sprintf("%s is in %s but not documented in %s", tp.ID(), p.Binary.Path, a.docPath)
	}
	a.add(f)
}

func (a *auditor) stale(tp *contract.Tracepoint, hasSrc, hasBin bool) {
	var where []string
	if hasSrc {
		where = append(where, "the source")
	}
	if hasBin {
		where = append(where, a.binaryNames())
	}
	msg := fmt.Sprintf("%s is documented but is not in %s", tp.ID(), strings.Join(where, ""))
	if len(where) > 1 {
		msg = fmt.Sprintf("%s is documented but is in neither %s", tp.ID(), strings.Join(where, " nor "))
	}
	a.add(Finding{Kind: Stale, Severity: Error, Tracepoint: tp.ID(), File: a.docPath, Line: tp.Doc.Line,
		Message: msg,
		Fix:     "remove the entry, or restore the tracepoint if it was dropped by mistake"})
}

func (a *auditor) notInBinary(tp *contract.Tracepoint) {
	c := tp.Calls[0]
	msg := fmt.Sprintf("%s is in the source (%s) but not in %s", tp.ID(), where(c), a.binaryNames())
	fix := "build the binary that compiles " + c.File + ", or with tracing enabled"
	if cond := c.Condition(); cond != "" {
		msg += fmt.Sprintf("; the call is under #if %s", cond)
		fix = fmt.Sprintf("build a configuration where %s holds, or audit the binary that contains %s", cond, c.File)
	}
	a.add(Finding{Kind: NotInBinary, Severity: Warning, Tracepoint: tp.ID(), File: c.File, Line: c.Line, Message: msg, Fix: fix})
}

func (a *auditor) argCounts(tp *contract.Tracepoint) {
	if tp.Doc != nil {
		n := len(tp.Doc.Args)
		for _, c := range tp.Calls {
			if len(c.Args) != n {
				a.add(Finding{Kind: ArgCount, Severity: Error, Tracepoint: tp.ID(), File: a.docPath, Line: argsLine(tp.Doc),
					Message: fmt.Sprintf("%s: the doc lists %d argument%s, %s at %s passes %d", tp.ID(), n, plural(n), c.Name, where(c), len(c.Args)),
					Fix:     fmt.Sprintf("make the doc's list match the call's arguments: %s", strings.Join(c.Args, ", "))})
			}
		}
		for _, p := range tp.Probes {
			for _, cs := range p.Probe.CallSites {
				if len(cs.Args) != n {
					a.add(Finding{Kind: ArgCount, Severity: Error, Tracepoint: tp.ID(), File: a.docPath, Line: argsLine(tp.Doc), CallSite: addr(cs.Address),
						Message: fmt.Sprintf("%s: the doc lists %d argument%s, the call site at %s in %s passes %d (%s)", tp.ID(), n, plural(n), hexAddr(cs.Address), p.Binary.Path, len(cs.Args), cs.ArgsRaw),
						Fix:     "document the arguments the binary passes, or rebuild the binary from the documented source"})
				}
			}
		}
	} else {
		for _, c := range tp.Calls {
			for _, p := range tp.Probes {
				for _, cs := range p.Probe.CallSites {
					if len(cs.Args) != len(c.Args) {
						a.add(Finding{Kind: ArgCount, Severity: Error, Tracepoint: tp.ID(), File: c.File, Line: c.Line, CallSite: addr(cs.Address),
							Message: fmt.Sprintf("%s: %s passes %d arguments, the call site at %s in %s has %d", tp.ID(), c.Name, len(c.Args), hexAddr(cs.Address), p.Binary.Path, len(cs.Args)),
							Fix:     "rebuild the binary from this source"})
					}
				}
			}
		}
	}
	for _, p := range tp.Probes {
		sites := p.Probe.CallSites
		for _, cs := range sites[1:] {
			if len(cs.Args) != len(sites[0].Args) {
				a.add(Finding{Kind: SiteArgCount, Severity: Error, Tracepoint: tp.ID(), File: p.Binary.Path, CallSite: addr(cs.Address),
					Message: fmt.Sprintf("%s: the call site at %s passes %d arguments, the one at %s passes %d", tp.ID(), hexAddr(cs.Address), len(cs.Args), hexAddr(sites[0].Address), len(sites[0].Args)),
					Fix:     "give every TRACEPOINT call of one tracepoint the same arguments, or split it into two tracepoints"})
				break
			}
		}
	}
	most, where := 0, Finding{}
	if tp.Doc != nil && len(tp.Doc.Args) > most {
		most, where = len(tp.Doc.Args), Finding{File: a.docPath, Line: argsLine(tp.Doc)}
	}
	for _, c := range tp.Calls {
		if len(c.Args) > most {
			most, where = len(c.Args), Finding{File: c.File, Line: c.Line}
		}
	}
	for _, p := range tp.Probes {
		for _, cs := range p.Probe.CallSites {
			if n := max(cs.ArgCount, len(cs.Args)); n > most {
				most, where = n, Finding{File: p.Binary.Path, CallSite: addr(cs.Address)}
			}
		}
	}
	if most > MaxArgs {
		where.Kind, where.Severity, where.Tracepoint = TooManyArgs, Error, tp.ID()
		where.Message = fmt.Sprintf("%s has %d arguments; USDT tracepoints carry at most %d", tp.ID(), most, MaxArgs)
		where.Fix = "pass fewer arguments, e.g. a pointer to a struct"
		a.add(where)
	}
}

// argTypes compares each documented type with every call site's spec.
func (a *auditor) argTypes(tp *contract.Tracepoint) {
	if tp.Doc == nil {
		return
	}
	for _, p := range tp.Probes {
		reported := map[string]bool{} // one finding per argument and spec, not per call site
		for _, cs := range p.Probe.CallSites {
			for i := range cs.Args {
				if i >= len(tp.Doc.Args) {
					break
				}
				da, ba := &tp.Doc.Args[i], &cs.Args[i]
				if ba.Size == 0 {
					key := "undecodable:" + ba.Raw
					if !reported[key] {
						reported[key] = true
						a.add(Finding{Kind: UndecodableSpec, Severity: Warning, Tracepoint: tp.ID(), File: p.Binary.Path, CallSite: addr(cs.Address),
							Message: fmt.Sprintf("%s: arg%d's spec %q could not be decoded: %v", tp.ID(), i, ba.Raw, ba.Err), Fix: "check the compiler's output for this argument"})
					}
					continue
				}
				if da.Err != nil || da.Type.Kind == docs.Invalid {
					continue // reported as a doc problem
				}
				want, ok := da.Type.Spec(a.c.PointerSize)
				if !ok {
					continue
				}
				key := fmt.Sprintf("%d:%d:%v:%v", i, ba.Size, ba.Signed, ba.Float)
				if reported[key] {
					continue
				}
				f := Finding{Tracepoint: tp.ID(), File: a.docPath, Line: da.Line, CallSite: addr(cs.Address), Severity: Error}
				got := fmt.Sprintf("%s (%s at %s)", ba.Type(), ba.Raw, hexAddr(cs.Address))
				isPtr := da.Type.Kind == docs.CString || da.Type.Kind == docs.Bytes || da.Type.Kind == docs.Pointer
				switch {
				case isPtr && ba.Size != a.c.PointerSize:
					f.Kind = PointerSize
					f.Message = fmt.Sprintf("%s: arg%d (%s) is documented as `%s` but the binary passes %s, not a %d-byte pointer", tp.ID(), i, da.Description, da.TypePhrase, got, a.c.PointerSize)
					f.Fix = "pass the pointer itself, or document the value's type"
				case isPtr:
					continue // pointers: size is what can be checked
				case ba.Size != want.Size || ba.Float != want.Float:
					f.Kind = ArgSize
					f.Message = fmt.Sprintf("%s: arg%d (%s) is documented as `%s` (%s) but the binary passes %s", tp.ID(), i, da.Description, da.TypePhrase, want, got)
					f.Fix = fmt.Sprintf("document it as `%s`, or cast the argument to the documented type in the TRACEPOINT call", ba.Type())
				case ba.Signed != want.Signed:
					f.Kind = ArgSign
					f.Message = fmt.Sprintf("%s: arg%d (%s) is documented as `%s` (%s) but the binary passes %s", tp.ID(), i, da.Description, da.TypePhrase, want, got)
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

func (a *auditor) semaphoreFindings(tp *contract.Tracepoint, hasSrc bool) {
	if !hasSrc {
		return
	}
	modern := false
	for _, c := range tp.Calls {
		modern = modern || c.Name == "TRACEPOINT"
	}
	// Only a tree that guards tracepoints with semaphores at all expects
	// one per TRACEPOINT (Bitcoin Core before 2024-10 had none).
	if modern && len(tp.Semaphores) == 0 && a.semaphoresInUse() {
		c := tp.Calls[0]
		a.add(Finding{Kind: MissingSemaphore, Severity: Error, Tracepoint: tp.ID(), File: c.File, Line: c.Line,
			Message: fmt.Sprintf("%s: TRACEPOINT at %s has no TRACEPOINT_SEMAPHORE(%s, %s)", tp.ID(), where(c), contextOf(tp.ID()), eventOf(tp.ID())),
			Fix:     fmt.Sprintf("add TRACEPOINT_SEMAPHORE(%s, %s); at file scope in %s", contextOf(tp.ID()), eventOf(tp.ID()), c.File)})
	}
	if len(tp.Calls) == 0 {
		for _, s := range tp.Semaphores {
			a.add(Finding{Kind: OrphanSemaphore, Severity: Warning, Tracepoint: tp.ID(), File: s.File, Line: s.Line,
				Message: fmt.Sprintf("%s: TRACEPOINT_SEMAPHORE at %s has no TRACEPOINT", tp.ID(), where(s)),
				Fix:     "remove the semaphore, or add the TRACEPOINT it guards"})
		}
	}
	if len(tp.Semaphores) > 0 {
		for _, p := range tp.Probes {
			if p.Probe.Semaphore == nil {
				s := tp.Semaphores[0]
				a.add(Finding{Kind: UnguardedNote, Severity: Error, Tracepoint: tp.ID(), File: p.Binary.Path, CallSite: addr(p.Probe.CallSites[0].Address),
					Message: fmt.Sprintf("%s: the note in %s has no semaphore, though %s defines one", tp.ID(), p.Binary.Path, where(s)),
					Fix:     "build with the semaphore-aware sys/sdt.h macros (define SDT_USE_VARIADIC and _SDT_HAS_SEMAPHORES before including it, as util/trace.h does)"})
			}
		}
	}
}

func (a *auditor) toolLimits(tp *contract.Tracepoint) {
	n, file, line := 0, "", 0
	var site *uint64
	if tp.Doc != nil {
		n, file, line = len(tp.Doc.Args), a.docPath, argsLine(tp.Doc)
	} else if len(tp.Calls) > 0 {
		n, file, line = len(tp.Calls[0].Args), tp.Calls[0].File, tp.Calls[0].Line
	} else if len(tp.Probes) > 0 {
		cs := tp.Probes[0].Probe.CallSites[0]
		n, file, site = len(cs.Args), tp.Probes[0].Binary.Path, addr(cs.Address)
	}
	if n > bpftraceMaxArg+1 && n <= MaxArgs {
		a.add(Finding{Kind: BpftraceArgs, Severity: Warning, Tracepoint: tp.ID(), File: file, Line: line, CallSite: site,
			Message: fmt.Sprintf("%s has %d arguments: bpftrace 0.23 and older read only arg0 to arg%d", tp.ID(), n, bpftraceMaxArg),
			Fix:     "use bpftrace 0.24 or newer, bcc, or usdtkit attach for arg6 and beyond"})
	}
	if tp.Doc == nil {
		return
	}
	for _, da := range tp.Doc.Args {
		if da.Type.Kind == docs.CString && da.Type.MaxLen >= bpftraceStrlen {
			a.add(Finding{Kind: BpftraceStrlen, Severity: Warning, Tracepoint: tp.ID(), File: a.docPath, Line: da.Line,
				Message: fmt.Sprintf("%s: arg%d (%s) is documented up to %d characters; bpftrace reads %d bytes of a string by default, NUL included", tp.ID(), da.Index, da.Description, da.Type.MaxLen, bpftraceStrlen),
				Fix:     fmt.Sprintf("run bpftrace with BPFTRACE_STRLEN=%d (or more)", da.Type.MaxLen+1)})
		}
	}
}

func (a *auditor) semaphoresInUse() bool {
	for i := range a.c.Source.Macros {
		if a.c.Source.Macros[i].Kind == patches.Semaphore {
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

// addr is a call site's address for a finding.
func addr(a uint64) *uint64 { return &a }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
