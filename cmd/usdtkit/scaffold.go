package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aymanbagabas/go-udiff"
	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/docs"
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

func newScaffoldCmd(io *IOStreams, runF func(context.Context, *scaffoldOptions) error) *cobra.Command {
	opts := &scaffoldOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "scaffold CONTEXT:EVENT --at FILE:LINE [--arg 'TYPE NAME = EXPR']...",
		Short: "Print the patch that adds a new tracepoint to a source tree",
		Long: `Print a unified diff, for git apply, that adds the tracepoint CONTEXT:EVENT
to a source tree in Bitcoin Core's layout:

  FILE                 TRACEPOINT_SEMAPHORE(context, event) next to the file's
                       other semaphores (or after its includes),
                       #include <util/trace.h> when missing, and the
                       TRACEPOINT(context, event, EXPR...) call before LINE
  doc/tracing.md       an entry in the context's section (a new section if
                       needed), descriptions marked TODO
  contrib/tracing/     CONTEXT_EVENT.bt, a bpftrace script that prints every
                       argument
  test/functional/     interface_usdt_CONTEXT_EVENT.py, a test skeleton

Each --arg is one argument, in order: its type (int8...int64, uint8...uint64,
bool, or a C spelling such as size_t, const char* or unsigned char*), a name
for it in the doc, script and test, and the C++ expression passed.
Paths in the patch are relative to --root; FILE is too.

Exit status: 0 when the patch is printed, 2 on bad input (unknown type, line
out of range, missing file, bad CONTEXT:EVENT).`,
		Example: `  usdtkit scaffold net:closed_connection --at src/net.cpp:120 \
      --arg 'int64 peer_id = node.GetId()' \
      --arg 'const char* addr = node.m_addr_name.c_str()' | git apply`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.docsSet = cmd.Flags().Changed("docs")
			if opts.At == "" {
				return usagef("scaffold needs --at FILE:LINE, the line the call goes before")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runScaffold(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.At, "at", "", "FILE:LINE: the call is inserted before this line, with its indentation")
	f.StringArrayVar(&opts.Args, "arg", nil, "an argument as 'TYPE NAME = EXPR' (repeat, in order)")
	f.StringVar(&opts.Root, "root", ".", "the root of the source tree; paths in the patch are relative to it")
	f.StringVar(&opts.Docs, "docs", "doc/tracing.md", "the tracing doc, relative to --root; \"\" leaves it alone")
	f.StringVar(&opts.Binary, "binary", "./build/bin/bitcoind", "the binary the bpftrace example attaches to")
	f.BoolVar(&opts.NoFiles, "no-files", false, "leave out the bpftrace example and the test skeleton")
	return cmd
}

var argLeftRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.*?)\s*\b([A-Za-z_][A-Za-z0-9_]*)\s*$`) })

// parseScaffoldArg reads "TYPE NAME = EXPR".
func parseScaffoldArg(s string) (patches.NewArg, docs.Type, error) {
	left, expr, ok := strings.Cut(s, "=")
	expr = strings.TrimSpace(expr)
	if !ok || expr == "" {
		return patches.NewArg{}, docs.Type{}, fmt.Errorf("--arg %q: want 'TYPE NAME = EXPR'", s)
	}
	m := argLeftRe().FindStringSubmatch(strings.TrimSpace(left))
	if m == nil || strings.TrimSpace(m[1]) == "" {
		return patches.NewArg{}, docs.Type{}, fmt.Errorf("--arg %q: want 'TYPE NAME = EXPR'", s)
	}
	typ, err := docs.ParseType(m[1])
	if err != nil {
		return patches.NewArg{}, docs.Type{}, fmt.Errorf("--arg %q: %w", s, err)
	}
	a := patches.NewArg{Name: m[2], Expr: expr, Size: typ.Size}
	switch typ.Kind {
	case docs.Int:
		a.Class = patches.ArgInt
	case docs.Uint:
		a.Class = patches.ArgUint
	case docs.Bool:
		a.Class, a.Size = patches.ArgBool, 1
	case docs.Float:
		a.Class = patches.ArgFloat
	case docs.CString:
		a.Class, a.Size = patches.ArgString, 0
	case docs.Bytes:
		a.Class, a.Size = patches.ArgBytes, 0
	default:
		a.Class, a.Size = patches.ArgPointer, 0
	}
	return a, typ, nil
}

// scaffoldFile is one file of the patch.
type scaffoldFile struct {
	path     string // relative to the root, slash separated
	old, new string
	created  bool
	mode     string // for a created file
}

func runScaffold(ctx context.Context, opts *scaffoldOptions) error {
	tpCtx, event, ok := strings.Cut(opts.ID, ":")
	if !ok {
		return usagef("tracepoint %q: want CONTEXT:EVENT", opts.ID)
	}
	tp := patches.NewTracepoint{Context: tpCtx, Event: event}
	var types []docs.Type
	for _, s := range opts.Args {
		a, typ, err := parseScaffoldArg(s)
		if err != nil {
			return &usageError{err}
		}
		tp.Args = append(tp.Args, a)
		types = append(types, typ)
	}
	if err := tp.Validate(); err != nil {
		return &usageError{err}
	}
	i := strings.LastIndex(opts.At, ":")
	if i <= 0 {
		return usagef("--at %q: want FILE:LINE", opts.At)
	}
	file := opts.At[:i]
	line, err := strconv.Atoi(opts.At[i+1:])
	if err != nil {
		return usagef("--at %q: line %q is not a number", opts.At, opts.At[i+1:])
	}
	rel, err := relToRoot(opts.Root, file)
	if err != nil {
		return &usageError{err}
	}
	src, err := os.ReadFile(filepath.Join(opts.Root, rel))
	if err != nil {
		return &usageError{fmt.Errorf("read %s: %w", file, pathErr(err))}
	}
	patched, err := patches.AddTracepoint(rel, src, line, tp)
	if err != nil {
		return &usageError{err}
	}
	if where := existingTracepoint(opts.Root, rel, tp.ID()); where != "" {
		return usagef("%s has %s already; a second semaphore would not link", where, tp.ID())
	}
	files := []scaffoldFile{{path: filepath.ToSlash(rel), old: string(src), new: string(patched)}}

	if opts.Docs != "" {
		f, err := scaffoldDoc(opts, tp, types)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !opts.docsSet:
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: scaffold: no %s, so no doc entry\n", opts.Docs)
		case err != nil:
			return &usageError{err}
		default:
			files = append(files, f)
		}
	}
	if !opts.NoFiles {
		for _, nf := range []scaffoldFile{
			{path: patches.ExamplePath(tp), new: patches.Example(tp, opts.Binary)},
			{path: patches.TestPath(tp), new: patches.Test(tp, time.Now().UTC().Year())},
		} {
			if _, err := os.Lstat(filepath.Join(opts.Root, filepath.FromSlash(nf.path))); err == nil {
				return usagef("%s exists already; move it away or use --no-files", nf.path)
			}
			nf.created, nf.mode = true, "100755"
			files = append(files, nf)
		}
	}

	var b strings.Builder
	for _, f := range files {
		if f.created {
			fmt.Fprintf(&b, "diff --git a/%s b/%s\nnew file mode %s\n", f.path, f.path, f.mode)
			b.WriteString(udiff.Unified("/dev/null", "b/"+f.path, "", f.new))
			continue
		}
		fmt.Fprintf(&b, "diff --git a/%s b/%s\n", f.path, f.path)
		b.WriteString(unifiedDiff("a/"+f.path, "b/"+f.path, f.old, f.new))
	}
	if _, err := opts.IO.Out.Write([]byte(b.String())); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: scaffold: %s in %d file%s; fill in the TODOs\n", tp.ID(), len(files), plural(len(files)))
	return nil
}

// relToRoot makes file relative to root and refuses one outside it.
func relToRoot(root, file string) (string, error) {
	p := file
	if filepath.IsAbs(file) {
		absRoot, err := filepath.Abs(root)
		if err != nil {
			return "", err
		}
		if p, err = filepath.Rel(absRoot, file); err != nil {
			return "", fmt.Errorf("--at %s: not under --root %s", file, root)
		}
	}
	p = filepath.Clean(p)
	if p == ".." || strings.HasPrefix(p, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("--at %s: not under --root %s", file, root)
	}
	return p, nil
}

// scaffoldDoc adds tp's entry to the tracing doc: at the end of its
// context's section, or in a new section after the last one.
func scaffoldDoc(opts *scaffoldOptions, tp patches.NewTracepoint, types []docs.Type) (scaffoldFile, error) {
	rel, err := relToRoot(opts.Root, opts.Docs)
	if err != nil {
		return scaffoldFile{}, err
	}
	path := filepath.Join(opts.Root, rel)
	old, err := os.ReadFile(path)
	if err != nil {
		return scaffoldFile{}, fmt.Errorf("read %s: %w", opts.Docs, pathErr(err))
	}
	doc, err := docs.ParseFile(path)
	if doc == nil {
		return scaffoldFile{}, fmt.Errorf("read %s: %w", opts.Docs, err)
	}
	if t := doc.Tracepoint(tp.ID()); t != nil {
		return scaffoldFile{}, fmt.Errorf("%s:%d: documents %s already", opts.Docs, t.Line, tp.ID())
	}
	entry := docs.NewTracepoint(tp.Context, tp.Event, types...)
	for i, a := range tp.Args {
		entry.Args[i].Description = humanize(a.Name) + " (TODO: describe)"
	}
	lines := strings.SplitAfter(string(old), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	after, found := doc.InsertLine(tp.Context)
	text := "\n" + docs.FormatTracepoint(entry)
	if !found {
		text = "\n" + docs.FormatContext(&docs.Context{Name: tp.Context, Tracepoints: []*docs.Tracepoint{entry}})
		if after == 0 {
			after = len(lines)
		}
	}
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		if i+1 == after {
			if !strings.HasSuffix(l, "\n") {
				b.WriteString("\n")
			}
			b.WriteString(text)
		}
	}
	if after == 0 {
		b.WriteString(text)
	}
	return scaffoldFile{path: filepath.ToSlash(rel), old: string(old), new: b.String()}, nil
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

// existingTracepoint looks for a TRACEPOINT or TRACEPOINT_SEMAPHORE of id
// in the top-level directory of the tree that holds file (src/ for
// src/net.cpp) and returns where it is, or "".
func existingTracepoint(root, file, id string) string {
	top, _, ok := strings.Cut(filepath.ToSlash(file), "/")
	if !ok {
		return "" // a file at the root: AddTracepoint has checked it
	}
	dir := filepath.Join(root, top)
	macros, _ := patches.ScanDir(dir) // files it cannot scan are not this check's business
	for _, m := range macros {
		if (m.Kind == patches.Tracepoint || m.Kind == patches.Semaphore) && m.ID() == id {
			if rel, err := filepath.Rel(root, m.File); err == nil {
				return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), m.Line)
			}
			return fmt.Sprintf("%s:%d", m.File, m.Line)
		}
	}
	return ""
}

var hunkRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`) })

// unifiedDiff is udiff.Unified with each hunk's start in the new file
// computed from its start in the old one and the hunks before it: the
// library counts it short after a hunk that joins two nearby edits (git
// apply finds the place anyway, at an offset, but the patch should say it).
func unifiedDiff(oldName, newName, old, new string) string {
	lines := strings.SplitAfter(udiff.Unified(oldName, newName, old, new), "\n")
	shift := 0
	for i, l := range lines {
		m := hunkRe().FindStringSubmatch(l)
		if m == nil {
			continue
		}
		from, _ := strconv.Atoi(m[1])
		fromCount, toCount := 1, 1
		if m[2] != "" {
			fromCount, _ = strconv.Atoi(m[2])
		}
		if m[4] != "" {
			toCount, _ = strconv.Atoi(m[4])
		}
		to := from + shift
		if fromCount == 0 {
			to++ // "-N,0" names the line the insertion follows
		}
		if toCount == 0 {
			to--
		}
		newRange := strconv.Itoa(to)
		if m[4] != "" {
			newRange += "," + m[4]
		}
		oldRange := m[1]
		if m[2] != "" {
			oldRange += "," + m[2]
		}
		lines[i] = "@@ -" + oldRange + " +" + newRange + " @@" + l[len(m[0]):]
		shift += toCount - fromCount
	}
	return strings.Join(lines, "")
}

// pathErr drops the operation and path from an *fs.PathError, which the
// message names already; errors.Is still sees fs.ErrNotExist.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
