package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/gen"
	"github.com/usdtkit/usdtkit/patches"
)

type scaffoldOptions struct {
	IO      *IOStreams
	ID      string
	At      string
	Args    []string
	Root    string
	Docs    string
	Binary  string
	NoFiles bool

	docsSet bool
}

func newScaffoldCmd(io *IOStreams) *cobra.Command {
	opts := &scaffoldOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "scaffold CONTEXT:EVENT --at FILE:LINE [--arg 'TYPE NAME = EXPR']...",
		Short: "Print the patch that adds a new tracepoint to a source tree",
		Long: `Print a unified diff, for git apply, that adds the tracepoint CONTEXT:EVENT
to a source tree in Bitcoin Core's layout, in the style of the tree's own
src/util/trace.h (TRACEPOINT with semaphores, TRACEPOINT, or TRACEn):

  FILE                 TRACEPOINT_SEMAPHORE(context, event) next to the file's
                       other semaphores (or after its includes) when the tree
                       has semaphores, #include <util/trace.h> when missing,
                       and the TRACEPOINT(context, event, EXPR...) call (or
                       TRACEn for n arguments) before LINE
  doc/tracing.md       an entry in the context's section (a new section if
                       needed), descriptions marked TODO
  contrib/tracing/     CONTEXT_EVENT.bt, a bpftrace script that prints every
                       argument (what usdtkit gen --lang bpftrace writes),
                       attached to the binary where the tree builds it
  test/functional/     interface_usdt_CONTEXT_EVENT.py, a test skeleton that
                       uses only what the tree's test framework has
                       (what usdtkit gen --lang test writes)

Each --arg is one argument, in order: its type (int8...int64, uint8...uint64,
bool, or a C spelling such as size_t, const char* or unsigned char*), a name
for it in the doc, script and test, and the C++ expression passed.
Paths in the patch are relative to --root; FILE is too, and must be in it.

Exit status: 0 when the patch is printed, 2 on bad input (unknown type, line
out of range, missing file, bad CONTEXT:EVENT).`,
		Example: `  usdtkit scaffold net:closed_connection --at src/net.cpp:120 \
      --arg 'int64 peer_id = node.GetId()' \
      --arg 'const char* addr = node.m_addr_name.c_str()' | git apply`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.docsSet = cmd.Flags().Changed("docs")
			if opts.At == "" {
				return usagef("scaffold needs --at FILE:LINE, the line the call goes before")
			}
			return runScaffold(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.At, "at", "", "FILE:LINE: the call is inserted before this line, with its indentation")
	f.StringArrayVar(&opts.Args, "arg", nil, "an argument as 'TYPE NAME = EXPR' (repeat, in order)")
	f.StringVar(&opts.Root, "root", ".", "the root of the source tree; paths in the patch are relative to it")
	f.StringVar(&opts.Docs, "docs", "doc/tracing.md", "the tracing doc, relative to --root; \"\" leaves it alone")
	f.StringVar(&opts.Binary, "binary", "", "the binary the bpftrace example attaches to (default: where the tree's configure.ac or CMakeLists.txt builds bitcoind)")
	f.BoolVar(&opts.NoFiles, "no-files", false, "leave out the bpftrace example and the test skeleton")
	return cmd
}

func runScaffold(ctx context.Context, opts *scaffoldOptions) error {
	tpCtx, event, ok := strings.Cut(opts.ID, ":")
	if !ok {
		return usagef("tracepoint %q: want CONTEXT:EVENT", opts.ID)
	}
	nt := patches.NewTracepoint{Context: tpCtx, Event: event}
	var decls []contract.Decl
	for _, s := range opts.Args {
		d, err := contract.ParseDecl(s)
		if err != nil {
			return &usageError{err}
		}
		decls = append(decls, d)
		nt.Args = append(nt.Args, patches.NewArg{Name: d.Name, Expr: d.Expr})
	}
	if err := nt.Validate(); err != nil {
		return &usageError{err}
	}
	i := strings.LastIndex(opts.At, ":")
	if i <= 0 {
		return usagef("--at %q: want FILE:LINE", opts.At)
	}
	line, err := strconv.Atoi(opts.At[i+1:])
	if err != nil {
		return usagef("--at %q: line %q is not a number", opts.At, opts.At[i+1:])
	}
	rel, err := patches.InTree(opts.Root, opts.At[:i])
	if err != nil {
		return &usageError{fmt.Errorf("--at %w", err)}
	}
	src, err := patches.ReadFile(filepath.Join(opts.Root, rel))
	if err != nil {
		return &usageError{err}
	}
	layout, err := patches.ReadLayout(opts.Root)
	if err != nil {
		return &usageError{err}
	}
	patched, err := layout.AddTracepoint(rel, src, line, nt)
	if err != nil {
		return &usageError{err}
	}
	if where := patches.FindTracepoint(opts.Root, rel, nt.ID()); where != "" {
		return usagef("%s has %s already; scaffold adds new tracepoints only", where, nt.ID())
	}
	if opts.Binary == "" && layout.Binary != "" {
		opts.Binary = "./" + layout.Binary // the example runs from the tree's root
	}
	patch := patches.Patch{{Path: filepath.ToSlash(rel), Old: string(src), New: string(patched)}}
	tp := contract.Declare(tpCtx, event, 8, decls...)
	if opts.Docs != "" {
		f, err := scaffoldDoc(opts, tp)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !opts.docsSet:
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: scaffold: no %s, so no doc entry\n", opts.Docs)
		case err != nil:
			return &usageError{err}
		default:
			patch = append(patch, f)
		}
	}
	if !opts.NoFiles {
		m := gen.NewModel(contract.Of(8, tp))
		for _, file := range []struct {
			lang gen.Lang
			dir  string
		}{{gen.BPFtrace, patches.ExampleDir}, {gen.Test, patches.TestDir}} {
			path := file.dir + "/" + m.FileName(file.lang, tp)
			if _, err := os.Lstat(filepath.Join(opts.Root, filepath.FromSlash(path))); err == nil {
				return usagef("%s exists already; move it away or use --no-files", path)
			}
			out, err := gen.Generate(file.lang, m, gen.Options{Path: opts.Binary, Script: path, Layout: layout})
			if err != nil {
				return usagef("--binary: %w", err)
			}
			patch = append(patch, patches.FileChange{Path: path, New: out.Text, Created: true, Mode: "100755"})
		}
	}
	if _, err := opts.IO.Out.Write([]byte(patch.String())); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: scaffold: %s in %d file%s; fill in the TODOs\n", nt.ID(), len(patch), plural(len(patch)))
	return nil
}

// scaffoldDoc adds tp's entry to the tracing doc, read once.
func scaffoldDoc(opts *scaffoldOptions, tp *contract.Tracepoint) (patches.FileChange, error) {
	rel, err := patches.InTree(opts.Root, opts.Docs)
	if err != nil {
		return patches.FileChange{}, fmt.Errorf("--docs %w", err)
	}
	doc, err := docs.ParseFile(filepath.Join(opts.Root, rel))
	if doc == nil {
		return patches.FileChange{}, err
	}
	if t := doc.Tracepoint(tp.ID()); t != nil {
		return patches.FileChange{}, fmt.Errorf("%s:%d: documents %s already", opts.Docs, t.Line, tp.ID())
	}
	return patches.FileChange{Path: filepath.ToSlash(rel), Old: doc.Text, New: contract.AddEntries(doc, []*contract.Tracepoint{tp}, nil)}, nil
}
