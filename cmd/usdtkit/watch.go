package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/follow"
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
	"github.com/usdtkit/usdtkit/bpf/trace/text"
	"github.com/usdtkit/usdtkit/docs/audit"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
)

type watchOptions struct {
	IO       *IOStreams
	Binary   string
	Docs     string
	Src      string
	Patterns []string // --attach
	Command  []string // after --
	JSON     bool
	readFlags
}

func newWatchCmd(io *IOStreams) *cobra.Command {
	opts := &watchOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "watch BINARY [--docs FILE] [--src DIR] [--attach PATTERN...] [-- CMD ARGS...]",
		Short: "Diff, re-audit and re-attach on every rebuild",
		Long: `Watch BINARY and, each time a build replaces it (a linker or install
writing a new file and renaming it into place, or cp writing over it), print
how its tracepoints changed: tracepoints added and removed, call sites
added and removed, argument specs changed per call site, semaphores added
and removed. A build is read once it is a complete ELF file whose size
stays the same between two reads 20 ms apart.

With --docs and/or --src, the audit is run again on every build and on
every change to the doc or the source tree, and only the findings that
changed are printed (new or fixed). With --attach, the tracepoints matching
the patterns are attached to each new build without restarting usdtkit:
the new build is attached first, then the previous one is detached, and
events from both are printed as they come. After --, CMD is started on
each build, traced from its first instruction (the previous one is ended
with SIGTERM); without --attach, all its tracepoints are attached.

A deleted BINARY is waited for. Ctrl-C or SIGTERM detaches everything and
ends CMD. Attaching needs root or CAP_BPF+CAP_PERFMON.`,
		Example: `  usdtkit watch build/bin/bitcoind --docs doc/tracing.md --src src
  usdtkit watch build/bin/bitcoind --attach 'net:*' --docs doc/tracing.md
  usdtkit watch build/bin/bitcoind --attach 'validation:*' -- build/bin/bitcoind -regtest`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if at := cmd.ArgsLenAtDash(); at >= 0 {
				opts.Command = args[at:]
				args = args[:at]
			}
			if len(args) != 1 {
				return usagef("watch needs one BINARY (got %d arguments before --)", len(args))
			}
			opts.Binary = args[0]
			for _, p := range opts.Patterns {
				if err := elf.CheckPattern(p); err != nil {
					return &usageError{err}
				}
			}
			if err := opts.readFlags.check(); err != nil {
				return err
			}
			return runWatch(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Docs, "docs", "", "the tracing doc: audit it and decode arguments by its types")
	f.StringVar(&opts.Src, "src", "", "the source tree to audit for TRACEPOINT calls")
	f.StringArrayVar(&opts.Patterns, "attach", nil, "attach the tracepoints matching this glob to every build ('*' for all; repeatable)")
	f.BoolVar(&opts.JSON, "json", false, "print events as one JSON object per line (schema in docs/attach.md)")
	opts.readFlags.add(cmd)
	return cmd
}

// watcher prints what changed with every build, and the audit's changes.
type watcher struct {
	opts     *watchOptions
	report   io.Writer // builds, diffs and audit changes: stdout, or stderr with --json
	log      io.Writer
	sides    contract.Input // the doc and the sources, read again when they change
	scanErr  error
	cur      *elf.Build
	findings []audit.Finding
	audited  bool
}

func runWatch(ctx context.Context, opts *watchOptions) error {
	var mu sync.Mutex
	out, errOut := text.Locked(&mu, opts.IO.Out), text.Locked(&mu, opts.IO.ErrOut)
	w := &watcher{opts: opts, report: out, log: errOut}
	if opts.JSON {
		w.report = errOut
	}
	if err := w.reread(); err != nil {
		return err
	}
	var sink interface {
		Event(*trace.Event) error
		Flush() error
	} = text.NewWriter(out)
	if opts.JSON {
		sink = jsonl.NewWriter(out)
	}
	to := opts.options()
	to.Patterns, to.Command, to.Stdin, to.Stdout, to.Stderr = opts.Patterns, opts.Command, opts.IO.In, errOut, errOut
	fo := follow.Options{
		Binary: opts.Binary,
		Attach: len(opts.Patterns) > 0 || len(opts.Command) > 0,
		Trace:  to,
		Join:   func(b *elf.Build) (*contract.Contract, error) { return w.join(b), nil },
		Build:  w.build,
		Event:  func(ev *trace.Event) { sink.Event(ev) },
		Idle:   func() { sink.Flush() },
		Log:    errOut,
	}
	if opts.Docs != "" {
		fo.Files = []string{opts.Docs}
	}
	if opts.Src != "" {
		fo.Trees = []string{opts.Src}
	}
	if opts.Docs != "" || opts.Src != "" {
		fo.Changed = func() {
			if err := w.reread(); err != nil {
				fmt.Fprintf(w.log, "usdtkit: %v\n", err)
				return
			}
			w.audit()
		}
	}
	return follow.Run(ctx, fo)
}

// reread reads the doc and the sources: at the start, and when they
// changed.
func (w *watcher) reread() error {
	c, scanErr, err := contract.Load(contract.Paths{Docs: w.opts.Docs, Src: w.opts.Src})
	if err != nil {
		return err
	}
	w.sides, w.scanErr = c.Input, scanErr
	return nil
}

// join is the contract of build b with the doc and the sources.
func (w *watcher) join(b *elf.Build) *contract.Contract {
	in := w.sides
	in.Binaries = []contract.Binary{{Path: w.opts.Binary, File: b.File}}
	return contract.Join(in)
}

// build prints the new build, how its tracepoints changed, and re-audits.
func (w *watcher) build(n int, b, prev *elf.Build) {
	io.WriteString(w.report, b.Describe(n, w.opts.Binary, prev))
	w.cur = b
	if w.opts.Docs != "" || w.opts.Src != "" {
		w.audit()
	}
}

// audit runs the audit and prints the findings that are new or fixed since
// the last one.
func (w *watcher) audit() {
	if w.cur == nil {
		return
	}
	now := audit.Run(w.join(w.cur), w.scanErr)
	lines := audit.ChangeLines(w.findings, now)
	if !w.audited && len(lines) == 0 {
		lines = append(lines, "no findings")
	}
	w.findings, w.audited = now, true
	for _, l := range lines {
		io.WriteString(w.report, "audit: "+l+"\n")
	}
}
