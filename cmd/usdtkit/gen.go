package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/gen"
	"github.com/usdtkit/usdtkit/patches"
)

// firstLine is the first line of a message that may join several.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (and more)"
	}
	return s
}

type genOptions struct {
	IO       *IOStreams
	Lang     gen.Lang
	LangName string
	Docs     string
	Out      string
	Src      string
	New      bool
	Since    string
	Binary   string
	Patterns []string
}

func newGenCmd(io *IOStreams, runF func(context.Context, *genOptions) error) *cobra.Command {
	opts := &genOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "gen --lang LANG [--docs FILE] [--src DIR [--new] [--since REV]] [BINARY] [PATTERN...]",
		Short: "Generate bpftrace, bcc and Go tracers, doc entries and test skeletons",
		Long: `Generate code and text for tracepoints from the tracing docs (Bitcoin Core's
doc/tracing.md format), the binary and the source's TRACEPOINT calls (--src),
joined by context:event:

  bpftrace  a script that prints every hit, one line each (.bt)
  bcc       a Python script for bcc that does the same (.py)
  go        a Go program that does the same with usdtkit's bpf package (.go)
  doc       the entries for the tracing docs (.md)
  test      a functional test skeleton in the style of Bitcoin Core's
            test/functional/interface_usdt_*.py (interface_usdt_*.py)

Arguments are named after their documented descriptions and read by the
binary's argument specs; without a doc they are named arg0, arg1, ...
and typed by their specs alone. With --src, what the doc lacks is named
after the argument expressions in the source. PATTERNs are globs over
context:event ('net:*'), or over the event alone when they have no ':'.
--new keeps the tracepoints the source calls and the doc lacks; --since REV
those whose call was added since the git revision REV.

The output goes to stdout, or with --out DIR to one file per tracepoint
(context_event.bt, .py, .go, .md; interface_usdt_context_event.py), whose
paths are printed. What the output cannot do (bpftrace 0.23 and older read only
arg0 to arg5) is said in it and warned about on stderr. docs/gen.md has the
details.`,
		Example: `  usdtkit gen --lang bpftrace --docs doc/tracing.md ./build/bin/bitcoind 'net:*'
  usdtkit gen --lang bcc --docs doc/tracing.md ./build/bin/bitcoind mempool:added
  usdtkit gen --lang go --docs doc/tracing.md ./build/bin/bitcoind 'net:*' > trace.go
  usdtkit gen --lang doc --docs doc/tracing.md --src src --new ./build/bin/bitcoind
  usdtkit gen --lang bpftrace --src src --since origin/master ./build/bin/bitcoind
  usdtkit gen --lang doc ./build/bin/bitcoind 'coins:*'
  usdtkit gen --lang test --docs doc/tracing.md --out test/functional ./build/bin/bitcoind 'net:*'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.classify(args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runGen(cmd.Context(), opts)
		},
	}
	names := make([]string, len(gen.Langs))
	for i, l := range gen.Langs {
		names[i] = l.String()
	}
	f := cmd.Flags()
	f.StringVar(&opts.LangName, "lang", "", "what to generate: "+strings.Join(names, ", "))
	f.StringVar(&opts.Docs, "docs", "", "the tracing doc (Bitcoin Core's doc/tracing.md format)")
	f.StringVar(&opts.Out, "out", "", "write one file per tracepoint to this directory")
	f.StringVar(&opts.Src, "src", "", "the source tree: names arguments the doc lacks after their expressions")
	f.BoolVar(&opts.New, "new", false, "only tracepoints in the source but not yet in the docs (needs --src and --docs)")
	f.StringVar(&opts.Since, "since", "", "only tracepoints whose call was added since this git revision (needs --src)")
	return cmd
}

// classify checks the flags and splits the positional arguments into the
// binary and the patterns.
func (o *genOptions) classify(args []string) error {
	if o.LangName == "" {
		names := make([]string, len(gen.Langs))
		for i, l := range gen.Langs {
			names[i] = l.String()
		}
		return usagef("gen needs --lang: one of %s", strings.Join(names, ", "))
	}
	l, err := gen.ParseLang(o.LangName)
	if err != nil {
		return &usageError{err}
	}
	o.Lang = l
	if len(args) > 0 {
		if st, err := os.Stat(args[0]); err == nil && !st.IsDir() {
			o.Binary, args = args[0], args[1:]
		} else if strings.Contains(args[0], "/") {
			return fmt.Errorf("open %s: %w", args[0], fs.ErrNotExist)
		}
	}
	o.Patterns = args
	for _, p := range o.Patterns {
		if strings.Contains(p, "/") {
			return fmt.Errorf("open %s: %w", p, fs.ErrNotExist)
		}
		if err := elf.CheckPattern(p); err != nil {
			return &usageError{err}
		}
	}
	if o.New && (o.Src == "" || o.Docs == "") {
		return usagef("--new needs --src DIR and --docs FILE")
	}
	if o.Since != "" && o.Src == "" {
		return usagef("--since needs --src DIR")
	}
	if o.Binary == "" && o.Docs == "" && o.Src == "" {
		if len(args) > 0 && !strings.ContainsAny(args[0], ":*?[") {
			return fmt.Errorf("open %s: %w", args[0], fs.ErrNotExist) // a binary's name, mistyped
		}
		return usagef("gen needs --docs FILE, --src DIR, a BINARY or any of them together")
	}
	return nil
}

func runGen(ctx context.Context, opts *genOptions) error {
	var doc *docs.Doc
	if opts.Docs != "" {
		d, err := docs.ParseFile(opts.Docs)
		if d == nil {
			return fmt.Errorf("read %s: %w", opts.Docs, err)
		}
		if n := len(d.Problems); n > 0 {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: warning: %s has %d problem%s (usdtkit audit lists them), the first: %v\n", opts.Docs, n, plural(n), d.Problems[0])
		}
		doc = d
	}
	var bin *elf.File
	if opts.Binary != "" {
		f, err := elf.Open(opts.Binary)
		if err != nil {
			return fmt.Errorf("read %s: %w", opts.Binary, err)
		}
		if f.Notes == 0 {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: warning: %s has no USDT tracepoints (no .note.stapsdt notes)\n", opts.Binary)
		}
		bin = f
	}
	var src *gen.Source
	if opts.Src != "" {
		st, err := os.Stat(opts.Src)
		if err != nil {
			return fmt.Errorf("scan %s: %w", opts.Src, err)
		}
		if !st.IsDir() {
			return fmt.Errorf("scan %s: not a directory", opts.Src)
		}
		// A root given as a symbolic link is followed; links inside the tree are not.
		walk := opts.Src
		if real, err := filepath.EvalSymlinks(opts.Src); err == nil {
			walk = real
		}
		macros, err := patches.ScanDir(walk)
		if err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: warning: %s\n", firstLine(err.Error()))
		}
		src = &gen.Source{Path: opts.Src, Macros: macros}
	}
	m, err := gen.JoinSource(doc, bin, src, opts.Patterns...)
	if err != nil {
		return &usageError{err}
	}
	if opts.New {
		m = m.Filter(func(tp *gen.Tracepoint) bool { return tp.Source != nil && tp.Doc == nil })
	}
	if opts.Since != "" {
		added, err := gen.AddedSince(opts.Src, src.Macros, opts.Since)
		if err != nil {
			return err
		}
		m = m.Filter(func(tp *gen.Tracepoint) bool { return added[tp.ID()] })
	}
	warn := func(ws []gen.Warning) {
		for _, w := range ws {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: warning: %s\n", w)
		}
	}
	warn(m.Warnings)
	if len(m.Tracepoints) == 0 {
		// Like list: nothing to do is no failure, but it is said.
		switch {
		case opts.New && opts.Since != "":
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: no undocumented tracepoint was added since %s\n", opts.Since)
		case opts.New:
			fmt.Fprintln(opts.IO.ErrOut, "usdtkit: every tracepoint in the source is documented")
		case opts.Since != "":
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: no tracepoint was added since %s\n", opts.Since)
		case len(opts.Patterns) > 0:
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: no tracepoint matches %s\n", strings.Join(opts.Patterns, " "))
		default:
			fmt.Fprintln(opts.IO.ErrOut, "usdtkit: no tracepoints to generate")
		}
		return nil
	}
	if opts.Out == "" {
		out, err := gen.Generate(opts.Lang, m, gen.Options{Path: opts.Binary})
		if err != nil {
			return err
		}
		warn(out.Warnings)
		_, err = fmt.Fprint(opts.IO.Out, out.Text)
		return err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", opts.Out, err)
	}
	for _, tp := range m.Tracepoints {
		name := gen.FileName(opts.Lang, tp)
		out, err := gen.Generate(opts.Lang, m.With(tp), gen.Options{Path: opts.Binary, Script: name})
		if err != nil {
			return err
		}
		warn(out.Warnings)
		path := filepath.Join(opts.Out, name)
		mode := os.FileMode(0o644)
		if opts.Lang != gen.Doc && opts.Lang != gen.Go {
			mode = 0o755 // scripts start with #!
		}
		if err := os.WriteFile(path, []byte(out.Text), mode); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintln(opts.IO.Out, path)
	}
	return nil
}
