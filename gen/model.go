package gen

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/patches"
)

// Model is what the generators render: tracepoints joined from the tracing
// doc and the binary by context:event.
type Model struct {
	// DocPath and BinaryPath name the inputs as given, for the line in
	// the output that says where it came from. Either may be empty.
	DocPath    string
	BinaryPath string
	// PointerSize is the target's pointer size: the binary's, else 8.
	PointerSize int
	// SourcePath names the source tree as given; empty without one.
	SourcePath string
	// Tracepoints are those of the doc in its order, then those only the
	// binary has in the binary's order, then those only the source has in
	// the order of their first call.
	Tracepoints []*Tracepoint
	// Warnings are about tracepoints left out of the model.
	Warnings []Warning

	// docContexts are the contexts the doc has a section for; nil
	// without a doc.
	docContexts map[string]bool
}

// Tracepoint is one context:event with what the doc and the binary say
// about it.
type Tracepoint struct {
	Context string
	Event   string
	// Doc is the doc's entry, nil when the doc has none (or there is no doc).
	Doc *docs.Tracepoint
	// Probe is the binary's tracepoint, nil when the binary has none (or
	// there is no binary).
	Probe *elf.Probe
	// Source is the first TRACEPOINT call (or TRACEn, DTRACE_PROBEn,
	// STAP_PROBEn) of the tracepoint in the source, nil when the source
	// has none (or there is no source).
	Source *patches.Macro
	// Args are the arguments the generated code reads: the binary's when
	// it has the tracepoint, else the documented ones.
	Args []Arg
	// Warnings are disagreements between the doc and the binary that the
	// generated code had to decide.
	Warnings []Warning
}

// ID is "context:event".
func (t *Tracepoint) ID() string { return t.Context + ":" + t.Event }

// Semaphore reports whether the binary guards the tracepoint with a
// semaphore.
func (t *Tracepoint) Semaphore() bool { return t.Probe != nil && t.Probe.Semaphore != nil }

// Description is the doc's description of the tracepoint, "" when it has
// none or only the placeholder docs.NewTracepoint writes.
func (t *Tracepoint) Description() string {
	if t.Doc == nil || t.Doc.Description == docs.DescriptionPlaceholder {
		return ""
	}
	return t.Doc.Description
}

// undocumented says, for a tracepoint the doc lacks, where its names and
// types come from.
func (t *Tracepoint) undocumented() string {
	switch {
	case t.Probe != nil && t.Source != nil:
		return "not in the doc; the names are the source's expressions, the types the binary's specs."
	case t.Probe != nil:
		return "not in the doc; the types are the binary's specs."
	}
	return "not in the doc or the binary; the names come from the source's expressions."
}

// Arg is one argument of a tracepoint.
type Arg struct {
	Index int // 0-based, as bpftrace's argN
	// Name is an identifier for the argument in generated code, made from
	// its documented description ("Peer ID" gives peer_id), else "argN".
	Name string
	// Description is the documented description; for an argument the
	// doc does not have, the argument's expression in the source; else "".
	Description string
	// Expr is the argument's expression in the source's call, "" without
	// one.
	Expr string
	// Type is what the value is: the documented type, else one derived
	// from the binary's spec (an integer of its size and signedness).
	Type docs.Type
	// Spec is the size and class the generated code reads: the binary's
	// spec when the binary has the tracepoint, else what the documented
	// type should have.
	Spec docs.Spec
	// Documented is set when the doc gives this argument a valid type.
	Documented bool
	// Site is the argument's spec at the binary's first call site, nil
	// when the binary does not have the tracepoint.
	Site *elf.Arg
	// LenArg is the index of the argument that holds the length of a
	// Bytes argument without a documented size (the nearest integer whose
	// description says "size" or "length"), or -1.
	LenArg int
}

// Warning is something the generated output cannot do, or had to decide
// because the inputs disagree.
type Warning struct {
	Tracepoint string // context:event
	Message    string
}

func (w Warning) String() string { return w.Tracepoint + ": " + w.Message }

// ErrNoInput is returned by Join when it is given neither a doc nor a binary.
var ErrNoInput = errors.New("no tracing doc and no binary")

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Join joins the doc and the binary (either may be nil, not both) by
// context:event and keeps the tracepoints that match any of the patterns
// (all when there are none). Patterns are globs as [elf.Probe.Match] takes
// them: over context:event when they have a ':', else over the event alone.
//
// Tracepoints whose context or event is not a C identifier cannot be
// written in a probe and are left out with a warning.
func Join(doc *docs.Doc, bin *elf.File, patterns ...string) (*Model, error) {
	return JoinSource(doc, bin, nil, patterns...)
}

// Source is the source's view for [JoinSource]: the tracepoint macros of a
// source tree, as [patches.ScanDir] returns them.
type Source struct {
	// Path names the tree as given, for the output's "Generated by" line.
	Path   string
	Macros []patches.Macro
}

// JoinSource is [Join] with the source's view as a third input: a
// tracepoint the doc lacks gets its arguments' names and descriptions from
// the expressions of its first call in the source (peer.GetId() gives
// peer_id), and one only the source has is added after the binary's. Calls
// of semaphores, and calls that do not name a tracepoint, are left out.
func JoinSource(doc *docs.Doc, bin *elf.File, src *Source, patterns ...string) (*Model, error) {
	if doc == nil && bin == nil && src == nil {
		return nil, ErrNoInput
	}
	for _, p := range patterns {
		if err := elf.CheckPattern(p); err != nil {
			return nil, err
		}
	}
	m := &Model{PointerSize: 8}
	probes := map[string]*elf.Probe{}
	if bin != nil {
		m.BinaryPath = bin.Path
		m.PointerSize = bin.PointerSize()
		for i := range bin.Probes {
			p := &bin.Probes[i]
			if _, dup := probes[p.ID()]; !dup {
				probes[p.ID()] = p
			}
		}
	}
	calls := map[string]*patches.Macro{}
	var callOrder []*patches.Macro
	if src != nil {
		m.SourcePath = src.Path
		for i := range src.Macros {
			c := &src.Macros[i]
			if c.Kind == patches.Semaphore || c.Context == "" || c.Event == "" {
				continue
			}
			if _, dup := calls[c.ID()]; !dup {
				calls[c.ID()] = c
				callOrder = append(callOrder, c)
			}
		}
	}
	seen := map[string]bool{}
	add := func(ctx, event string, entry *docs.Tracepoint, probe *elf.Probe) {
		id := ctx + ":" + event
		if seen[id] {
			if entry != nil {
				m.Warnings = append(m.Warnings, Warning{id, fmt.Sprintf("%s:%d documents it again; the first entry is used", doc.Name, entry.Line)})
			}
			return
		}
		seen[id] = true
		if !(&elf.Probe{Provider: ctx, Name: event}).Match(patterns...) {
			return
		}
		if !identRe.MatchString(ctx) || !identRe.MatchString(event) {
			m.Warnings = append(m.Warnings, Warning{strconv.Quote(id), "context and event must be C identifiers to be written in a probe; left out"})
			return
		}
		m.Tracepoints = append(m.Tracepoints, m.join(ctx, event, entry, probe, calls[id]))
	}
	if doc != nil {
		m.DocPath = doc.Name
		m.docContexts = map[string]bool{}
		for _, c := range doc.Contexts {
			m.docContexts[c.Name] = true
		}
		for _, entry := range doc.Tracepoints {
			add(entry.Context, entry.Event, entry, probes[entry.ID()])
		}
	}
	if bin != nil {
		for i := range bin.Probes {
			p := &bin.Probes[i]
			add(p.Provider, p.Name, nil, p)
		}
	}
	for _, c := range callOrder {
		add(c.Context, c.Event, nil, nil)
	}
	return m, nil
}

// With returns a copy of the model that has only the given tracepoints.
func (m *Model) With(tps ...*Tracepoint) *Model {
	c := *m
	c.Tracepoints = tps
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

func (m *Model) join(ctx, event string, entry *docs.Tracepoint, probe *elf.Probe, call *patches.Macro) *Tracepoint {
	tp := &Tracepoint{Context: ctx, Event: event, Doc: entry, Probe: probe, Source: call}
	warn := func(format string, v ...any) {
		tp.Warnings = append(tp.Warnings, Warning{tp.ID(), fmt.Sprintf(format, v...)})
	}
	var documented []docs.Arg
	if entry != nil {
		documented = entry.Args
	}
	var exprs []string
	if call != nil {
		exprs = call.Args
	}
	var sites []elf.Arg
	n := len(documented)
	if entry == nil {
		n = len(exprs)
	}
	if probe == nil && m.BinaryPath != "" {
		warn("not in the binary; a script cannot attach to it until it is")
	}
	if probe != nil {
		sites = probe.CallSites[0].Args
		n = len(sites)
		if entry != nil && len(documented) != len(sites) {
			warn("the doc documents %d arguments, the binary passes %d", len(documented), len(sites))
		}
		if entry == nil && call != nil && len(exprs) != len(sites) {
			warn("the source's call at %s:%d passes %d arguments, the binary %d", call.File, call.Line, len(exprs), len(sites))
		}
	}
	// The widest spec of each argument over the call sites: bcc reads an
	// argument into the largest type of its call sites, and bpftrace
	// extends each site's value to 64 bits, so the widest reads them all.
	widest := make([]docs.Spec, len(sites))
	for i := range sites {
		widest[i] = specOf(sites[i])
	}
	if probe != nil {
		for i := 1; i < len(probe.CallSites); i++ {
			other := probe.CallSites[i].Args
			if len(other) != len(sites) {
				warn("call site %d passes %d arguments, call site 0 passes %d", i, len(other), len(sites))
			}
			for j := range other[:min(len(other), len(sites))] {
				if o := specOf(other[j]); o != specOf(sites[j]) {
					if o.Size > widest[j].Size {
						widest[j] = o
					}
					warn("argument %d is %s at call site %d and %s at call site 0; read as %s", j+1, o, i, specOf(sites[j]), widest[j])
				}
			}
		}
	}
	names := map[string]bool{}
	untyped := 0
	for i := 0; i < n; i++ {
		a := Arg{Index: i, LenArg: -1}
		if i < len(documented) {
			d := &documented[i]
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
		name := argName(a.Description)
		if entry == nil && a.Expr != "" {
			a.Description, name = a.Expr, exprName(a.Expr)
		}
		if sites != nil {
			s := &sites[i]
			a.Site = s
			got := widest[i]
			switch {
			case s.Size == 0 && a.Documented:
				a.Spec, _ = a.Type.Spec(m.PointerSize)
				warn("argument %d: the binary's spec %q has no valid size; read as %s", i+1, s.Raw, a.Spec)
			case s.Size == 0:
				a.Type = docs.Type{Kind: docs.Uint, Size: 8}
				a.Spec, _ = a.Type.Spec(m.PointerSize)
				warn("argument %d: the binary's spec %q has no valid size; read as %s", i+1, s.Raw, a.Spec)
			case !a.Documented:
				a.Type, a.Spec = typeOfSpec(got), got
				if t, ok := exprType(a.Expr, exprs); ok && (t.Kind == docs.CString || t.Kind == docs.Bytes) && got == (docs.Spec{Size: m.PointerSize}) {
					a.Type = t
				}
			default:
				a.Spec = got
				want, _ := a.Type.Spec(m.PointerSize)
				if want == got {
					break
				}
				switch a.Type.Kind {
				case docs.Int, docs.Uint, docs.Bool:
					was := a.Type
					a.Type = typeOfSpec(got)
					warn("argument %d: the doc says %s (%s), the binary passes %s; read as %s", i+1, was.Phrase(), want, got, a.Type.Phrase())
				default:
					warn("argument %d: the doc says %s (%s), the binary passes %s", i+1, a.Type.Phrase(), want, got)
				}
			}
			if s.Err != nil && s.Size != 0 {
				warn("argument %d: %v; bpftrace and bcc may not read it either", i+1, s.Err)
			}
		} else if a.Documented {
			a.Spec, _ = a.Type.Spec(m.PointerSize)
		} else {
			a.Type = docs.Type{Kind: docs.Uint, Size: 8}
			a.Spec, _ = a.Type.Spec(m.PointerSize)
			if t, ok := exprType(a.Expr, exprs); ok && entry == nil {
				a.Type = t
				a.Spec, _ = t.Spec(m.PointerSize)
			} else if entry == nil {
				untyped++
			} else {
				warn("argument %d has no type the doc's reader understands; read as uint64", i+1)
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
		warn("neither the doc nor the binary has it, so %d of its %d arguments %s read as uint64", untyped, n, verb)
	}
	for i := range tp.Args {
		if a := &tp.Args[i]; a.Type.Kind == docs.Bytes && a.Type.Size == 0 {
			a.LenArg = lengthArg(tp.Args, i)
		}
	}
	return tp
}

func specOf(a elf.Arg) docs.Spec {
	return docs.Spec{Size: a.Size, Signed: a.Signed, Float: a.Float}
}

// typeOfSpec is the plain type a spec says: an integer of its size and
// signedness, or a float. Without a doc or the source, nothing tells a
// pointer from an unsigned integer of the same size.
func typeOfSpec(s docs.Spec) docs.Type {
	switch {
	case s.Float:
		return docs.Type{Kind: docs.Float, Size: s.Size}
	case s.Signed:
		return docs.Type{Kind: docs.Int, Size: s.Size}
	}
	return docs.Type{Kind: docs.Uint, Size: s.Size}
}

// lengthArg finds the integer argument that holds the length of the Bytes
// argument i: the nearest one before it whose description says "size" or
// "length", else the nearest after it; -1 when there is none.
func lengthArg(args []Arg, i int) int {
	isLen := func(a *Arg) bool {
		if a.Type.Kind != docs.Int && a.Type.Kind != docs.Uint {
			return false
		}
		for _, w := range strings.FieldsFunc(strings.ToLower(a.Description), notAlnum) {
			switch w {
			case "size", "length", "len", "bytes":
				return true
			}
		}
		return false
	}
	for j := i - 1; j >= 0; j-- {
		if isLen(&args[j]) {
			return j
		}
	}
	for j := i + 1; j < len(args); j++ {
		if isLen(&args[j]) {
			return j
		}
	}
	return -1
}

func notAlnum(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

var (
	// parenRe matches parenthesized remarks and footnote references.
	parenRe = regexp.MustCompile(`\([^)]*\)|\[[^\]]*\]`)
	// nameStops end a name: what follows them qualifies what comes before.
	nameStops = map[string]bool{
		"in": true, "to": true, "is": true, "are": true, "was": true, "as": true, "for": true,
		"from": true, "that": true, "which": true, "when": true, "where": true, "if": true,
		"before": true, "after": true, "including": true, "excluding": true, "by": true,
		"with": true, "on": true, "at": true, "since": true, "ie": true, "eg": true, "or": true,
	}
	nameFillers = map[string]bool{"the": true, "a": true, "an": true}
	// reserved are names that would clash with a keyword of C or Python or
	// with a name the generated code uses itself.
	reserved = map[string]bool{}
)

func init() {
	for _, w := range strings.Fields(`auto break case char const continue default do double else enum
		extern float for goto if inline int long register restrict return short signed sizeof static
		struct switch typedef union unsigned void volatile while bool
		false none true and as assert async await class def del elif except finally from global
		import in is lambda nonlocal not or pass raise try with yield self
		tracepoint ctx p e u8 u16 u32 u64 s8 s16 s32 s64`) {
		reserved[w] = true
	}
}

// maxNameWords bounds a name made from a description.
const maxNameWords = 4

// argName makes an identifier from an argument's description: the words
// before the first remark, comma or qualifying word ("in", "to", ...),
// articles dropped, at most four, in lower snake case. "Peer address and
// port (IPv4, IPv6, Tor v3, ...)" gives peer_address_and_port, "Time it
// took to connect the Block in nanoseconds (ns)" time_it_took, and
// "Whether the coin is a coinbase output" is_coinbase_output. It is ""
// when the description gives no word.
func argName(desc string) string {
	desc = parenRe.ReplaceAllString(desc, " ")
	if i := strings.IndexAny(desc, ",;:"); i >= 0 {
		desc = desc[:i]
	}
	var words []string
	for _, w := range strings.Fields(desc) {
		words = append(words, strings.ToLower(strings.Map(func(r rune) rune {
			if notAlnum(r) {
				return -1
			}
			return r
		}, w)))
	}
	if len(words) > 0 && words[0] == "whether" {
		for i, w := range words {
			if w == "is" || w == "was" || w == "are" {
				words = append([]string{"is"}, words[i+1:]...)
				break
			}
		}
	}
	var name []string
	for _, w := range words {
		if w == "" || nameFillers[w] {
			continue
		}
		if nameStops[w] && len(name) > 0 && !(len(name) == 1 && name[0] == "is") {
			break
		}
		name = append(name, w)
		if len(name) == maxNameWords {
			break
		}
	}
	s := strings.Join(name, "_")
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "n" + s
	}
	return s
}

// exprAccessors are the last identifiers of an argument expression that
// say how a value is passed rather than what it is.
var exprAccessors = map[string]bool{
	"c_str": true, "data": true, "get": true, "begin": true, "ToString": true, "GetHex": true,
	"ToUint256": true, "value": true, "count": true, "load": true, "str": true, "front": true,
	"static_cast": true, "reinterpret_cast": true, "const_cast": true, "std": true, "this": true,
}

// exprCasts are type words that appear in casts.
var exprCasts = map[string]bool{
	"const": true, "char": true, "unsigned": true, "signed": true, "int": true, "long": true,
	"short": true, "void": true, "uint8_t": true, "uint16_t": true, "uint32_t": true, "uint64_t": true,
	"int8_t": true, "int16_t": true, "int32_t": true, "int64_t": true, "size_t": true, "bool": true,
	"double": true, "float": true,
}

var exprIdentRe = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// exprName makes an identifier from an argument expression in the source:
// its last identifier that is not an accessor or a cast, without a m_ or
// Get prefix, in snake case, after the identifier before it when it is as
// short as "id"; a size() or length() after it adds _size. peer.GetId()
// gives peer_id, pfrom->m_addr_name.c_str() addr_name, msg.data.size()
// data_size and (uint64_t)nTime time. It is "" when there is no such
// identifier.
func exprName(expr string) string {
	words := exprIdentRe.FindAllString(expr, -1)
	suffix := ""
	for len(words) > 0 {
		w := words[len(words)-1]
		switch {
		case w == "size" || w == "length" || w == "Size" || w == "GetSerializeSize":
			suffix = "_size"
		case !exprAccessors[w] && !exprCasts[w]:
			name := snake(w)
			if len(name) <= 2 && len(words) > 1 {
				name = snake(words[len(words)-2]) + "_" + name
			}
			return name + suffix
		}
		words = words[:len(words)-1]
	}
	return ""
}

// castRe matches an expression that starts with a C cast or a
// static_cast to a simple type.
var castRe = regexp.MustCompile(`^\(\s*([A-Za-z_:][A-Za-z0-9_: ]*?)\s*\)|^static_cast<\s*([A-Za-z_:][A-Za-z0-9_: ]*?)\s*>`)

// castTypes are the types a cast in an argument expression gives.
var castTypes = map[string]docs.Type{
	"bool":   {Kind: docs.Bool, Size: 1},
	"int8_t": {Kind: docs.Int, Size: 1}, "int16_t": {Kind: docs.Int, Size: 2},
	"int32_t": {Kind: docs.Int, Size: 4}, "int64_t": {Kind: docs.Int, Size: 8},
	"uint8_t": {Kind: docs.Uint, Size: 1}, "uint16_t": {Kind: docs.Uint, Size: 2},
	"uint32_t": {Kind: docs.Uint, Size: 4}, "uint64_t": {Kind: docs.Uint, Size: 8},
	"int": {Kind: docs.Int, Size: 4}, "unsigned": {Kind: docs.Uint, Size: 4}, "unsigned int": {Kind: docs.Uint, Size: 4},
	"size_t": {Kind: docs.Uint},
}

// exprType is the type an argument expression shows: that of a cast to a
// fixed-size integer or bool, a C string for x.c_str(), bytes for
// x.data() when another argument is x.size().
func exprType(expr string, exprs []string) (docs.Type, bool) {
	if m := castRe.FindStringSubmatch(expr); m != nil {
		name := m[1] + m[2]
		if t, ok := castTypes[strings.TrimPrefix(name, "std::")]; ok {
			return t, true
		}
	}
	if strings.HasSuffix(expr, ".c_str()") || strings.HasSuffix(expr, "->c_str()") {
		return docs.Type{Kind: docs.CString}, true
	}
	if x, ok := strings.CutSuffix(expr, ".data()"); ok {
		for _, e := range exprs {
			if e == x+".size()" {
				return docs.Type{Kind: docs.Bytes}, true
			}
		}
	}
	return docs.Type{}, false
}

// snake turns a C++ member or accessor name into snake case: m_addr_name
// gives addr_name, GetId id, nVersion version, fInbound inbound.
func snake(w string) string {
	w = strings.TrimPrefix(w, "m_")
	w = strings.TrimPrefix(w, "Get")
	if len(w) > 1 && (w[0] == 'n' || w[0] == 'f' || w[0] == 'p') && w[1] >= 'A' && w[1] <= 'Z' {
		w = w[1:]
	}
	var b strings.Builder
	for i, r := range w {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && w[i-1] != '_' && !(w[i-1] >= 'A' && w[i-1] <= 'Z') {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	name := strings.Trim(b.String(), "_")
	for _, suffix := range []string{"_as_string", "_to_string"} {
		name = strings.TrimSuffix(name, suffix)
	}
	return name
}

// uniqueName returns name, or "argN" when it is empty, made unique among
// names and kept clear of keywords; it records the result in names.
func uniqueName(name string, index int, names map[string]bool) string {
	if name == "" {
		name = "arg" + strconv.Itoa(index)
	}
	if reserved[name] {
		name += "_"
	}
	if names[name] {
		name += "_" + strconv.Itoa(index)
	}
	for names[name] {
		name += "_"
	}
	names[name] = true
	return name
}
