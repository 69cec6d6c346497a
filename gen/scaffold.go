package gen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/patches"
)

// Scaffold says what tracepoint to add to a source tree, and where.
type Scaffold struct {
	ID   string   // CONTEXT:EVENT
	At   string   // FILE:LINE, relative to Root: the call goes before LINE
	Args []string // 'TYPE NAME = EXPR', in order (contract.ParseDecl)
	Root string   // the tree
	// Docs is the tracing doc, relative to Root; "" leaves it alone. A
	// missing doc is an error when DocsGiven, else it is left out, and
	// said in a note.
	Docs      string
	DocsGiven bool
	// Binary is what the bpftrace example attaches to; where the tree
	// builds bitcoind when "".
	Binary  string
	NoFiles bool // no bpftrace example and test skeleton
}

// Patch is the patch that adds the tracepoint in the tree's own style
// (patches.Layout): the call, its semaphore and include; the doc entry;
// the bpftrace example and the test skeleton. Every error is the input's.
func (s Scaffold) Patch() (patch patches.Patch, notes []string, err error) {
	tpCtx, event, ok := strings.Cut(s.ID, ":")
	if !ok {
		return nil, nil, fmt.Errorf("tracepoint %q: want CONTEXT:EVENT", s.ID)
	}
	nt := patches.NewTracepoint{Context: tpCtx, Event: event}
	var decls []contract.Decl
	for _, a := range s.Args {
		d, err := contract.ParseDecl(a)
		if err != nil {
			return nil, nil, err
		}
		decls = append(decls, d)
		nt.Args = append(nt.Args, patches.NewArg{Name: d.Name, Expr: d.Expr})
	}
	if err := nt.Validate(); err != nil {
		return nil, nil, err
	}
	i := strings.LastIndex(s.At, ":")
	if i <= 0 {
		return nil, nil, fmt.Errorf("--at %q: want FILE:LINE", s.At)
	}
	line, err := strconv.Atoi(s.At[i+1:])
	if err != nil {
		return nil, nil, fmt.Errorf("--at %q: line %q is not a number", s.At, s.At[i+1:])
	}
	rel, err := patches.InTree(s.Root, s.At[:i])
	if err != nil {
		return nil, nil, fmt.Errorf("--at %w", err)
	}
	src, err := patches.ReadFile(filepath.Join(s.Root, rel))
	if err != nil {
		return nil, nil, err
	}
	layout, err := patches.ReadLayout(s.Root)
	if err != nil {
		return nil, nil, err
	}
	patched, err := layout.AddTracepoint(rel, src, line, nt)
	if err != nil {
		return nil, nil, err
	}
	if where := patches.FindTracepoint(s.Root, rel, nt.ID()); where != "" {
		return nil, nil, fmt.Errorf("%s has %s already; scaffold adds new tracepoints only", where, nt.ID())
	}
	if s.Binary == "" && layout.Binary != "" {
		s.Binary = "./" + layout.Binary // the example runs from the tree's root
	}
	patch = patches.Patch{{Path: filepath.ToSlash(rel), Old: string(src), New: string(patched)}}
	tp := contract.Declare(tpCtx, event, 8, decls...)
	if s.Docs != "" {
		f, err := s.docEntry(tp)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !s.DocsGiven:
			notes = append(notes, fmt.Sprintf("no %s, so no doc entry", s.Docs))
		case err != nil:
			return nil, nil, err
		default:
			patch = append(patch, f)
		}
	}
	if s.NoFiles {
		return patch, notes, nil
	}
	m := NewModel(contract.Of(8, tp))
	for _, file := range []struct {
		lang Lang
		dir  string
	}{{BPFtrace, patches.ExampleDir}, {Test, patches.TestDir}} {
		path := file.dir + "/" + m.FileName(file.lang, tp)
		if _, err := os.Lstat(filepath.Join(s.Root, filepath.FromSlash(path))); err == nil {
			return nil, nil, fmt.Errorf("%s exists already; move it away or use --no-files", path)
		}
		out, err := Generate(file.lang, m, Options{Path: s.Binary, Script: path, Layout: layout})
		if err != nil {
			return nil, nil, fmt.Errorf("--binary: %w", err)
		}
		patch = append(patch, patches.FileChange{Path: path, New: out.Text, Created: true, Mode: "100755"})
	}
	return patch, notes, nil
}

// docEntry adds tp's entry to the tracing doc, read once.
func (s Scaffold) docEntry(tp *contract.Tracepoint) (patches.FileChange, error) {
	rel, err := patches.InTree(s.Root, s.Docs)
	if err != nil {
		return patches.FileChange{}, fmt.Errorf("--docs %w", err)
	}
	doc, err := docs.ParseFile(filepath.Join(s.Root, rel))
	if doc == nil {
		return patches.FileChange{}, err
	}
	if t := doc.Tracepoint(tp.ID()); t != nil {
		return patches.FileChange{}, fmt.Errorf("%s:%d: documents %s already", s.Docs, t.Line, tp.ID())
	}
	return patches.FileChange{Path: filepath.ToSlash(rel), Old: doc.Text, New: contract.AddEntries(doc, []*contract.Tracepoint{tp}, nil)}, nil
}
