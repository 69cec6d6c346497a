package gen

import (
	"fmt"
	"go/format"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
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

// goArg is one argument in the program's table: its bpf.ArgRead and the
// function that prints it, as Go source.
type goArg struct {
	Name    string
	Read    string
	Show    string
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
		g.Comment = commentLines("// ", commentWidth-8, tp.ID()+": "+or(tp.Description(), tp.undocumented()))
		for _, w := range tp.Warnings {
			g.Comment = append(g.Comment, commentLines("// ", commentWidth-8, "Warning: "+w.Message+".")...)
		}
		for _, a := range tp.Args {
			read, show, comment := goRead(m, tp, a)
			if a.Description != "" {
				comment = strings.TrimSuffix(strings.TrimRight(commentText(a.Description), ",;:. ")+"; "+comment, "; ")
			}
			g.Args = append(g.Args, goArg{Name: a.Name, Read: read, Show: show, Comment: comment})
			if a.Type.Kind == docs.Bytes && a.Type.Size == 0 && a.LenArg < 0 {
				out.Warnings = append(out.Warnings, Warning{tp.ID(), fmt.Sprintf("nothing gives the length of %s (arg%d); the program reads %d bytes of it", a.Name, a.Index, UnknownBytes)})
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

// goRead is how the program reads and prints an argument: a bpf.ArgRead
// literal, a printing function and a note for the comment after it.
func goRead(m *Model, tp *Tracepoint, a Arg) (read, show, comment string) {
	size := a.Type.Size
	if size == 0 {
		size = m.PointerSize
	}
	t := a.Type
	switch t.Kind {
	case docs.CString:
		if t.MaxLen > 0 {
			return fmt.Sprintf("bpf.ArgRead{Kind: bpf.ReadString, MaxLen: %d}", t.MaxLen+1), "str", ""
		}
		return "bpf.ArgRead{Kind: bpf.ReadString}", "str", ""
	case docs.Bytes:
		switch {
		case t.Size > 0:
			comment = ""
			if t.Size == 32 {
				comment = "a hash: show it with reversed for Bitcoin Core's order"
			}
			return fmt.Sprintf("bpf.ArgRead{Kind: bpf.ReadBytes, MaxLen: %d}", t.Size), "bytes", comment
		case a.LenArg >= 0:
			return fmt.Sprintf("bpf.ArgRead{Kind: bpf.ReadBytes, LenArg: %d}", a.LenArg+1), "bytes", fmt.Sprintf("%s bytes, up to 1024", tp.Args[a.LenArg].Name)
		}
		return fmt.Sprintf("bpf.ArgRead{Kind: bpf.ReadBytes, MaxLen: %d}", UnknownBytes), "bytes", fmt.Sprintf("length unknown: the first %d bytes", UnknownBytes)
	case docs.Int:
		return "bpf.ArgRead{}", fmt.Sprintf("signed(%d)", size), ""
	case docs.Uint:
		return "bpf.ArgRead{}", fmt.Sprintf("unsigned(%d)", size), ""
	case docs.Bool:
		return "bpf.ArgRead{}", "boolean", ""
	case docs.Float:
		return "bpf.ArgRead{}", fmt.Sprintf("float(%d)", size), ""
	}
	return "bpf.ArgRead{}", "pointer", ""
}
