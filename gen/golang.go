package gen

import (
	"fmt"
	"go/format"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
)

type goProgram struct {
	Command     string
	Script      string
	Header      []string
	Path        string
	PathLit     string
	Tracepoints []goTracepoint
}

type goTracepoint struct {
	ID      string
	Comment []string
	Args    []goArg
}

// goArg is one argument in the program's table: its bpf.ArgRead, as Go
// source.
type goArg struct {
	Name    string
	Read    string
	Comment string
}

// genGo writes a standalone Go program that attaches to the tracepoints
// with usdtkit's bpf package and prints each hit as name=value.
func genGo(out *Output, m *Model, opts Options) error {
	p := goProgram{Command: "trace", Script: "trace.go", Path: opts.Path, PathLit: strconv.Quote(opts.Path)}
	if opts.Script != "" {
		p.Script = opts.Script
		p.Command = strings.TrimSuffix(opts.Script, ".go")
	}
	where := "the binary given on the command line"
	if opts.Path != "" {
		where = commentText(opts.Path) + " (or the binary given on the command line)"
	}
	p.Header = wrap("", commentWidth-3, "Command "+p.Command+" prints a line for every hit of "+ids(m.Tracepoints)+" in "+where+": the tracepoint, then its arguments as name=value.")
	if s := m.sources(); s != "" {
		p.Header = append(p.Header, "")
		p.Header = append(p.Header, wrap("", commentWidth-3, "Made from "+s+".")...)
	}
	for _, tp := range m.Tracepoints {
		g := goTracepoint{ID: tp.ID()}
		g.Comment = commentLines("// ", commentWidth-8, tp.ID()+": "+or(tp.Description(), undocumented(tp)))
		for _, w := range warnings(tp) {
			g.Comment = append(g.Comment, commentLines("// ", commentWidth-8, "Warning: "+w.Message+".")...)
		}
		for _, a := range tp.Args {
			read, comment := goRead(tp, a)
			if a.Description != "" {
				comment = strings.TrimSuffix(strings.TrimRight(commentText(a.Description), ",;:. ")+"; "+comment, "; ")
			}
			g.Args = append(g.Args, goArg{Name: a.Name, Read: read, Comment: comment})
			if a.Type.Kind == docs.Bytes && a.Type.Size == 0 && a.LenArg < 0 {
				out.Warnings = append(out.Warnings, Warning{tp.ID(), fmt.Sprintf("nothing gives the length of %s (arg%d); the program reads %d bytes of it", a.Name, a.Index, contract.UnknownBytes)})
			}
		}
		p.Tracepoints = append(p.Tracepoints, g)
	}
	text, err := execute("go.tmpl", p)
	if err != nil {
		return err
	}
	// Comments hold text from the inputs; Go source must be UTF-8.
	src, err := format.Source([]byte(strings.ToValidUTF8(text, "\uFFFD")))
	if err != nil {
		return fmt.Errorf("generate go: %w", err)
	}
	out.Text = string(src)
	return nil
}

// goRead is how the program reads an argument, by the contract's plan:
// a bpf.ArgRead literal and a note for the comment after it.
func goRead(tp *Tracepoint, a Arg) (read, comment string) {
	p := a.Plan(contract.Limits{})
	var fields []string
	switch p.Kind {
	case contract.ReadString:
		fields = append(fields, "Kind: bpf.ReadString", fmt.Sprintf("MaxLen: %d", p.MaxLen))
	case contract.ReadBytes:
		fields = append(fields, "Kind: bpf.ReadBytes", fmt.Sprintf("MaxLen: %d", p.MaxLen))
		switch {
		case p.LenArg >= 0:
			fields = append(fields, fmt.Sprintf("LenArg: %d", p.LenArg+1))
			comment = fmt.Sprintf("%s bytes, up to %d", tp.Args[p.LenArg].Name, p.MaxLen)
		case a.Type.Size == 0:
			comment = fmt.Sprintf("length unknown: the first %d bytes", p.MaxLen)
		}
	}
	if p.Hex {
		fields = append(fields, "Hex: true")
	}
	if p.Reversed {
		fields = append(fields, "Reversed: true")
		comment = "a hash: shown reversed, as Bitcoin Core shows it"
	}
	return "bpf.ArgRead{" + strings.Join(fields, ", ") + "}", comment
}
