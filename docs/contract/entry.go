package contract

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/patches"
)

// Entry is the doc entry of a tracepoint: the doc's own when it has one,
// else a new one, typed by the contract, with TODO descriptions for a
// person to finish. It is the one writer of new entries: audit --fix,
// gen --lang doc and scaffold all use it.
//
// An argument with a source expression is described as
// "Peer id, passed as peer.GetId() (TODO: describe)", which names it
// peer_id as before; one without is docs.ArgPlaceholder.
func Entry(tp *Tracepoint) *docs.Tracepoint {
	if tp.Doc != nil {
		return tp.Doc
	}
	types := make([]docs.Type, len(tp.Args))
	for i, a := range tp.Args {
		types[i] = a.Type
	}
	e := docs.NewTracepoint(tp.Context, tp.Event, types...)
	for i, a := range tp.Args {
		if a.Expr != "" {
			e.Args[i].Description = humanize(a.Name) + ", passed as " + strings.ReplaceAll(a.Expr, "`", "'") + " (TODO: describe)"
		}
	}
	return e
}

// humanize turns an argument name into the start of a description:
// "peer_id" becomes "Peer id".
func humanize(name string) string {
	s := strings.TrimSpace(strings.ReplaceAll(name, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Of is a contract of the given tracepoints alone, such as one
// [Declare] made, for a generator to render.
func Of(ptrSize int, tps ...*Tracepoint) *Contract {
	c := &Contract{PointerSize: ptrSize, Tracepoints: tps, byID: map[string]*Tracepoint{}}
	for _, tp := range tps {
		c.byID[tp.ID()] = tp
	}
	return c
}

// Decl is one argument of a tracepoint that does not exist yet.
type Decl struct {
	Name string    // an identifier
	Type docs.Type // its documented type
	Expr string    // the C or C++ expression passed
}

var declRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.*?)\s*\b([A-Za-z_][A-Za-z0-9_]*)\s*$`) })

// ParseDecl reads an argument of a new tracepoint as scaffold's --arg
// takes it: "TYPE NAME = EXPR", such as "const char* addr =
// node.m_addr_name.c_str()".
func ParseDecl(s string) (Decl, error) {
	left, expr, ok := strings.Cut(s, "=")
	expr = strings.TrimSpace(expr)
	m := declRe().FindStringSubmatch(strings.TrimSpace(left))
	if !ok || expr == "" || m == nil || strings.TrimSpace(m[1]) == "" {
		return Decl{}, fmt.Errorf("--arg %q: want 'TYPE NAME = EXPR'", s)
	}
	typ, err := docs.ParseType(m[1])
	if err != nil {
		return Decl{}, fmt.Errorf("--arg %q: %w", s, err)
	}
	return Decl{Name: m[2], Type: typ, Expr: expr}, nil
}

// Declare is the contract of a tracepoint about to be added to the
// source, as scaffold writes it: the call passes the declared
// expressions, and every argument has its declared name and type.
func Declare(context, event string, ptrSize int, decls ...Decl) *Tracepoint {
	tp := &Tracepoint{Context: context, Event: event}
	call := &patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: context, Event: event}
	names := map[string]bool{}
	for i, d := range decls {
		call.Args = append(call.Args, d.Expr)
		a := Arg{Index: i, Description: d.Expr, Expr: d.Expr, Type: d.Type, Documented: true, LenArg: -1}
		a.Spec, _ = d.Type.Spec(ptrSize)
		a.Name = uniqueName(d.Name, i, names)
		tp.Args = append(tp.Args, a)
	}
	tp.Calls = []*patches.Macro{call}
	for i := range tp.Args {
		if a := &tp.Args[i]; a.Type.Kind == docs.Bytes && a.Type.Size == 0 {
			a.LenArg = LengthArg(tp.Args, i)
		}
	}
	return tp
}

// AddEntries returns the doc's text with the entries of tps added: each at the end of its context's section, or in a new
// section after the last one (a context's entries, and new sections, in
// name order). extra holds more text to insert after a line (0: before
// the first).
func AddEntries(doc *docs.Doc, tps []*Tracepoint, extra map[int][]string) string {
	lines := strings.SplitAfter(doc.Text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	after := map[int][]string{}
	for k, v := range extra {
		after[k] = append(after[k], v...)
	}
	existing := map[string][]*docs.Tracepoint{}
	fresh := map[string][]*docs.Tracepoint{}
	for _, tp := range tps {
		if doc.Context(tp.Context) != nil {
			existing[tp.Context] = append(existing[tp.Context], Entry(tp))
		} else {
			fresh[tp.Context] = append(fresh[tp.Context], Entry(tp))
		}
	}
	byEvent := func(es []*docs.Tracepoint) {
		sort.SliceStable(es, func(i, j int) bool { return es[i].Event < es[j].Event })
	}
	for _, ctx := range sortedKeys(existing) {
		line, _ := doc.InsertLine(ctx)
		byEvent(existing[ctx])
		for _, e := range existing[ctx] {
			after[line] = append(after[line], "\n"+docs.FormatTracepoint(e))
		}
	}
	end := len(lines)
	if n := len(doc.Contexts); n > 0 {
		end = doc.Contexts[n-1].EndLine
	}
	for _, ctx := range sortedKeys(fresh) {
		byEvent(fresh[ctx])
		after[end] = append(after[end], "\n"+docs.FormatContext(&docs.Context{Name: ctx, Tracepoints: fresh[ctx]}))
	}
	var b strings.Builder
	for _, s := range after[0] {
		b.WriteString(s)
	}
	for i, l := range lines {
		b.WriteString(l)
		if ins := after[i+1]; len(ins) > 0 {
			if !strings.HasSuffix(l, "\n") {
				b.WriteString("\n")
			}
			for _, s := range ins {
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Documentable says why tp's entry cannot be written in a doc that the
// doc's reader accepts (a context or event with a space, a backtick or a
// colon in it), or nil when it can: the entry is written and read back.
func Documentable(tp *Tracepoint) error {
	text := docs.FormatContext(&docs.Context{Name: tp.Context, Tracepoints: []*docs.Tracepoint{Entry(tp)}})
	doc, err := docs.Parse("entry", strings.NewReader(text))
	if err != nil {
		return fmt.Errorf("document %q: %w", tp.ID(), err)
	}
	if len(doc.Tracepoints) != 1 || doc.Tracepoints[0].ID() != tp.ID() {
		return fmt.Errorf("document %q: the doc format cannot hold the name", tp.ID())
	}
	return nil
}
