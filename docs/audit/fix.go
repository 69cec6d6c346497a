package audit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
)

// StaleMarker starts the comment FixDoc puts under a stale entry's heading.
const StaleMarker = "<!-- usdtkit audit: stale:"

// FixDoc returns the doc's text with an entry added for every undocumented
// tracepoint among the findings (in its context's section, or in a new
// section at the end) and a comment under the heading of every stale entry.
// New entries take their types from the binary's specs, and their
// descriptions from the source's argument expressions, and are marked TODO
// for a person to finish. It reports how many entries it added and flagged.
func FixDoc(text string, in Input, findings []Finding) (out string, added, flagged int) {
	if in.Doc == nil {
		return text, 0, 0
	}
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	after := map[int][]string{} // text to insert after line n (0: before the first)
	newContexts := map[string][]*docs.Tracepoint{}
	existing := map[string][]*docs.Tracepoint{}
	for _, f := range findings {
		switch f.Kind {
		case Undocumented:
			tp := newEntryMaker(in).entry(f.Tracepoint)
			if in.Doc.Context(tp.Context) != nil {
				existing[tp.Context] = append(existing[tp.Context], tp)
			} else {
				newContexts[tp.Context] = append(newContexts[tp.Context], tp)
			}
			added++
		case Stale:
			after[f.Line] = append(after[f.Line], fmt.Sprintf("\n%s %s; remove this entry, or restore the tracepoint -->\n", StaleMarker, f.Message))
			flagged++
		}
	}
	for ctx, tps := range existing {
		line, _ := in.Doc.InsertLine(ctx)
		sort.Slice(tps, func(i, j int) bool { return tps[i].Event < tps[j].Event })
		for _, tp := range tps {
			after[line] = append(after[line], "\n"+docs.FormatTracepoint(tp))
		}
	}
	var names []string
	for ctx := range newContexts {
		names = append(names, ctx)
	}
	sort.Strings(names)
	end := len(lines)
	if n := len(in.Doc.Contexts); n > 0 {
		end = in.Doc.Contexts[n-1].EndLine
	}
	for _, ctx := range names {
		tps := newContexts[ctx]
		sort.Slice(tps, func(i, j int) bool { return tps[i].Event < tps[j].Event })
		after[end] = append(after[end], "\n"+docs.FormatContext(&docs.Context{Name: ctx, Tracepoints: tps}))
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
	return b.String(), added, flagged
}

type entryMaker struct {
	in      Input
	ptrSize int
}

func newEntryMaker(in Input) *entryMaker {
	m := &entryMaker{in: in, ptrSize: 8}
	for _, b := range in.Binaries {
		m.ptrSize = b.File.PointerSize()
		break
	}
	return m
}

// entry writes a doc entry for a tracepoint from its source call and its
// binary call site, whichever are known.
func (m *entryMaker) entry(id string) *docs.Tracepoint {
	ctx, event, _ := strings.Cut(id, ":")
	var call *Source
	for i := range m.in.Sources {
		if s := &m.in.Sources[i]; s.Kind == SourceTracepoint && s.ID() == id {
			call = s
			break
		}
	}
	var specs []elf.Arg
	for _, b := range m.in.Binaries {
		for i := range b.File.Probes {
			if p := &b.File.Probes[i]; p.ID() == id {
				specs = p.CallSites[0].Args
			}
		}
		if specs != nil {
			break
		}
	}
	n := len(specs)
	if call != nil && specs == nil {
		n = len(call.Args)
	}
	types := make([]docs.Type, n)
	for i := range types {
		expr := ""
		if call != nil && i < len(call.Args) {
			expr = call.Args[i]
		}
		if i < len(specs) {
			types[i] = typeFor(specs[i], expr, m.ptrSize)
		} else {
			types[i] = typeFromExpr(expr)
		}
	}
	tp := docs.NewTracepoint(ctx, event, types...)
	for i := range tp.Args {
		if call != nil && i < len(call.Args) {
			tp.Args[i].Description = fmt.Sprintf("TODO: describe `%s`", call.Args[i])
		}
	}
	return tp
}

// typeFor chooses a documented type for a binary spec, using the source
// expression to tell strings and byte buffers from plain integers.
func typeFor(a elf.Arg, expr string, ptrSize int) docs.Type {
	switch {
	case a.Size == 0:
		return typeFromExpr(expr)
	case a.Float:
		return docs.Type{Kind: docs.Float, Size: a.Size}
	case a.Signed:
		return docs.Type{Kind: docs.Int, Size: a.Size}
	case a.Size == ptrSize:
		if t := typeFromExpr(expr); t.Kind == docs.CString || t.Kind == docs.Bytes {
			return t
		}
	case a.Size == 1 && looksBoolean(expr):
		return docs.Type{Kind: docs.Bool, Size: 1}
	}
	return docs.Type{Kind: docs.Uint, Size: a.Size}
}

// typeFromExpr guesses from the expression alone: strings and byte buffers
// by their usual spellings, else uint64.
func typeFromExpr(expr string) docs.Type {
	e := strings.ReplaceAll(expr, " ", "")
	switch {
	case strings.HasSuffix(e, ".c_str()") || strings.HasPrefix(e, "\"") || strings.HasSuffix(e, ".data()") && strings.Contains(strings.ToLower(e), "str"):
		return docs.Type{Kind: docs.CString}
	case strings.HasSuffix(e, ".data()") || strings.HasSuffix(e, ".begin()") || strings.Contains(e, "UCharCast") || strings.Contains(e, "MakeUCharSpan"):
		return docs.Type{Kind: docs.Bytes}
	case looksBoolean(e):
		return docs.Type{Kind: docs.Bool, Size: 1}
	}
	return docs.Type{Kind: docs.Uint, Size: 8}
}

func looksBoolean(e string) bool {
	e = strings.TrimSpace(e)
	if strings.HasPrefix(e, "!") || strings.Contains(e, "==") || strings.Contains(e, "!=") || e == "true" || e == "false" {
		return true
	}
	last := e
	if i := strings.LastIndexAny(e, ".>:"); i >= 0 {
		last = e[i+1:]
	}
	for _, p := range []string{"is", "Is", "has", "Has", "f"} {
		if strings.HasPrefix(last, p) && len(last) > len(p) && last[len(p)] >= 'A' && last[len(p)] <= 'Z' {
			return true
		}
	}
	return false
}
