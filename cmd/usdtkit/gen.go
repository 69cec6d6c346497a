package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/gen"
	"github.com/usdtkit/usdtkit/patches"
)

type genOptions struct {
	IO *IOStreams
	contract.Paths
	Lang     gen.Lang
	LangName string
	Out      string
	New      bool
	Since    string
	Patterns []string
}

// newGenCmd makes the gen command; runF, when not nil, runs instead of
// runGen, for tests of the command line.
func newGenCmd(io *IOStreams, runF func(context.Context, *genOptions) error) *cobra.Command {
	opts := &genOptions{IO: io}
	names := make([]string, len(gen.Langs))
	for i, l := range gen.Langs {
		names[i] = l.String()
	}
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
  usdtkit gen --lang test --docs doc/tracing.md --out test/functional ./build/bin/bitcoind 'net:*'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.LangName == "" {
				return usagef("gen needs --lang: one of %s", strings.Join(names, ", "))
			}
			l, err := gen.ParseLang(opts.LangName)
			if err != nil {
				return &usageError{err}
			}
			opts.Lang = l
			if err := opts.classify(args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runGen(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.LangName, "lang", "", "what to generate: "+strings.Join(names, ", "))
	f.StringVar(&opts.Docs, "docs", "", "the tracing doc (Bitcoin Core's doc/tracing.md format)")
	f.StringVar(&opts.Out, "out", "", "write one file per tracepoint to this directory")
	f.StringVar(&opts.Src, "src", "", "the source tree: names arguments the doc lacks after their expressions, and its tree's build and test framework shape the output")
	f.BoolVar(&opts.New, "new", false, "only tracepoints in the source but not yet in the docs (needs --src and --docs)")
	f.StringVar(&opts.Since, "since", "", "only tracepoints whose call was added since this git revision (needs --src)")
	return cmd
}

// classify splits the positional arguments into the binary and the
// patterns: the first is the binary when it names a file (whatever kind:
// reading it says what is wrong) or looks like a path.
func (o *genOptions) classify(args []string) error {
	if len(args) > 0 {
		if _, err := os.Lstat(args[0]); err == nil || strings.Contains(args[0], "/") {
			o.Binaries, args = []string{args[0]}, args[1:]
		}
	}
	o.Patterns = args
	for _, p := range o.Patterns {
		if strings.Contains(p, "/") {
			return usagef("pattern %q has a '/': a binary goes first", p)
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
	if len(o.Binaries) == 0 && o.Docs == "" && o.Src == "" {
		if len(args) > 0 && !strings.ContainsAny(args[0], ":*?[") {
			return fmt.Errorf("open %s: no such file", args[0]) // a binary's name, mistyped
		}
		return usagef("gen needs --docs FILE, --src DIR, a BINARY or any of them together")
	}
	return nil
}

func runGen(ctx context.Context, opts *genOptions) error {
	c, scanErr, err := contract.Load(opts.Paths)
	if err != nil {
		return err
	}
	warnf := func(format string, v ...any) { fmt.Fprintf(opts.IO.ErrOut, "usdtkit: warning: "+format+"\n", v...) }
	for _, w := range c.Warnings(scanErr) {
		warnf("%s", w)
	}
	m := gen.NewModel(c, opts.Patterns...)
	if opts.New {
		m = m.Filter(func(tp *gen.Tracepoint) bool { return tp.Call() != nil && tp.Doc == nil })
	}
	if opts.Since != "" {
		added, err := gen.AddedSince(opts.Src, c.Source.Macros, opts.Since)
		if err != nil {
			return err
		}
		m = m.Filter(func(tp *gen.Tracepoint) bool { return added[tp.ID()] })
	}
	warn := func(ws []gen.Warning) {
		for _, w := range ws {
			warnf("%s", w)
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
	genOpts := gen.Options{Path: m.BinaryPath()}
	if opts.Src != "" {
		if genOpts.Layout, err = patches.FindLayout(opts.Src); err != nil {
			return err
		}
	}
	if opts.Out == "" {
		out, err := gen.Generate(opts.Lang, m, genOpts)
		if err != nil {
			return err
		}
		warn(out.Warnings)
		_, err = fmt.Fprint(opts.IO.Out, out.Text)
		return err
	}
	paths, warns, err := gen.WriteFiles(opts.Lang, m, genOpts, opts.Out)
	warn(warns)
	for _, p := range paths {
		fmt.Fprintln(opts.IO.Out, p)
	}
	return err
}
