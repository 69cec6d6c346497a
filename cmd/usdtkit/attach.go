package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/export"
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
	"github.com/usdtkit/usdtkit/bpf/trace/text"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
)

type attachOptions struct {
	IO       *IOStreams
	Target   string
	Patterns []string
	Command  []string // after --
	PID      int
	Docs     string
	JSON     bool
	Count    int
	Duration time.Duration
	readFlags
	aggFlags
	exportFlags
}

func newAttachCmd(io *IOStreams) *cobra.Command {
	opts := &attachOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "attach TARGET [PATTERN...] [-- CMD ARGS...]",
		Short: "Trace tracepoints live and print their decoded arguments",
		Long: `Attach to the tracepoints of TARGET (a binary or shared library) with eBPF
and print every hit with its decoded arguments. No clang, LLVM or kernel
headers are needed: the argument specs are compiled to BPF in the tool.

Every call site of every tracepoint matching a PATTERN (all by default) is
attached; semaphores are enabled through the kernel, so semaphore-guarded
tracepoints (Bitcoin Core's) fire. With --docs, each argument is decoded by
its documented type: C strings, byte buffers paired with their size
argument, 32-byte hashes (shown reversed, as Bitcoin Core shows them),
integers by size and sign. -p limits tracing to one process, and attach
ends when it does; after --, CMD is started and traced from its first
instruction.

On exit (--count, --duration, the command's or process's end, Ctrl-C or
SIGTERM) a summary goes to stderr: hits per tracepoint and call site, lost
events, read failures and the tracepoints that never fired. Needs root or
CAP_BPF+CAP_PERFMON.`,
		Example: `  usdtkit attach build/bin/bitcoind 'validation:*' --docs doc/tracing.md
  usdtkit attach -p $(pidof bitcoind) 'net:*' --docs doc/tracing.md --json
  usdtkit attach docs/demo/build/minid --count 5 -- docs/demo/build/minid --iterations 3`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if at := cmd.ArgsLenAtDash(); at >= 0 {
				opts.Command = args[at:]
				args = args[:at]
			}
			if err := opts.resolve(args); err != nil {
				return err
			}
			return runAttach(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&opts.PID, "pid", "p", 0, "trace only this process, until it ends (TARGET defaults to its executable)")
	f.StringVar(&opts.Docs, "docs", "", "decode arguments by the types documented in this tracing doc")
	opts.readFlags.add(cmd)
	f.BoolVar(&opts.JSON, "json", false, "print one JSON event per line (schema in docs/attach.md)")
	f.IntVar(&opts.Count, "count", 0, "stop after N events")
	f.DurationVar(&opts.Duration, "duration", 0, "stop after this long (e.g. 10s)")
	opts.aggFlags.add(cmd)
	opts.exportFlags.add(cmd)
	return cmd
}

// readFlags say how events are read: arguments beyond their integer
// value, and the ring buffer they come through; attach, verify and watch
// share them.
type readFlags struct {
	Strlen, BytesCap, RingMiB int
	Args                      []string // --arg N=...
	overrides                 map[int]contract.Plan
}

func (r *readFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&r.Strlen, "strlen", contract.DefaultStrlen, "characters read of a string whose doc gives no maximum length")
	f.IntVar(&r.BytesCap, "bytes-cap", contract.DefaultBytesCap, "most bytes read of a byte buffer")
	f.StringArrayVar(&r.Args, "arg", nil, "read argument N as str[:LEN], bytes:LEN or hex (N from 0; repeatable)")
	f.IntVar(&r.RingMiB, "ring-size", bpf.DefaultRingSize>>20, "MiB of ring buffer that events wait in to be read, 1 to 1024 (rounded up to a power of two)")
}

// check checks the flags and parses every --arg.
func (r *readFlags) check() error {
	if r.Strlen <= 0 || r.Strlen > contract.MaxRead || r.BytesCap <= 0 || r.BytesCap > contract.MaxRead {
		return usagef("--strlen and --bytes-cap must be 1 to %d", contract.MaxRead)
	} else if r.RingMiB < 1 || r.RingMiB > 1024 {
		return usagef("--ring-size must be 1 to 1024 (MiB)")
	}
	r.overrides = map[int]contract.Plan{}
	for _, s := range r.Args {
		n, p, err := contract.ParseOverride(s, r.Strlen)
		if err != nil {
			return &usageError{err}
		}
		r.overrides[n] = p
	}
	return nil
}

// options are the trace options the flags set.
func (r *readFlags) options() trace.Options {
	return trace.Options{Limits: contract.Limits{Strlen: r.Strlen, BytesCap: r.BytesCap}, Overrides: r.overrides, RingSize: r.RingMiB << 20}
}

// resolve checks the arguments: TARGET first (or the -p process's
// executable), then patterns.
func (o *attachOptions) resolve(args []string) error {
	if o.PID < 0 {
		return usagef("bad pid %d", o.PID)
	}
	if len(args) > 0 {
		// A pattern has a ':'; a file's name may too.
		if st, err := os.Stat(args[0]); !strings.Contains(args[0], ":") || err == nil && st.Mode().IsRegular() {
			o.Target, args = args[0], args[1:]
		}
	}
	if o.Target == "" {
		if o.PID == 0 {
			return usagef("attach needs a TARGET binary or -p PID")
		}
		if _, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", o.PID)); err != nil {
			return fmt.Errorf("find the executable of process %d: %w", o.PID, err)
		}
		o.Target = fmt.Sprintf("/proc/%d/exe", o.PID)
	}
	for _, p := range args {
		if err := elf.CheckPattern(p); err != nil {
			return &usageError{err}
		}
	}
	o.Patterns = args
	if o.PID != 0 && len(o.Command) > 0 {
		return usagef("-p and -- CMD do not go together: the command's process is traced")
	}
	if o.Count < 0 || o.Duration < 0 {
		return usagef("--count and --duration must not be negative")
	}
	if err := o.aggFlags.check(); err != nil {
		return err
	}
	if o.agg != nil && o.Count > 0 {
		return usagef("--count goes with streaming; an aggregation ends with --duration, the command, or Ctrl-C")
	}
	if err := o.exportFlags.check(o.agg, o.Reset); err != nil {
		return err
	}
	return o.readFlags.check()
}

// traceOptions reads the target and the doc, once each, and joins them.
func traceOptions(io *IOStreams, target, docsPath string, r *readFlags) (trace.Options, error) {
	c, _, err := contract.Load(contract.Paths{Docs: docsPath, Binaries: []string{target}})
	if err != nil {
		return trace.Options{}, err
	}
	if c.Doc != nil && len(c.Doc.Problems) > 0 { // the doc's problems come first
		fmt.Fprintf(io.ErrOut, "usdtkit: warning: %s\n", c.Warnings(nil)[0])
	}
	o := r.options()
	o.Contract, o.Stdin, o.Stdout, o.Stderr = c, io.In, io.ErrOut, io.ErrOut
	return o, nil
}

func runAttach(ctx context.Context, opts *attachOptions) error {
	o, err := traceOptions(opts.IO, opts.Target, opts.Docs, &opts.readFlags)
	if err != nil {
		return err
	}
	o.Patterns, o.PID, o.Command, o.Aggregate, o.Where = opts.Patterns, opts.PID, opts.Command, opts.agg, opts.where
	tps, err := trace.Plan(o)
	if err != nil {
		return err
	}
	if err := trace.Check(tps, o.Aggregate, o.Where); err != nil {
		return &usageError{err}
	}
	ex, err := opts.exportFlags.open(opts.IO.ErrOut)
	if err != nil {
		return err
	}
	o.Credential = opts.cred
	s, err := trace.Start(ctx, o)
	if err != nil {
		ex.Close()
		return err
	}
	sites := 0
	for _, tp := range s.Tracepoints {
		sites += len(tp.Probe.CallSites)
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: attached %d tracepoint%s (%d call site%s) of %s in %s\n",
		len(s.Tracepoints), plural(len(s.Tracepoints)), sites, plural(sites), opts.Target, s.Attached.Round(time.Microsecond))
	if err := ex.Serve(s); err != nil {
		s.Close()
		ex.Close()
		return err
	}
	var runErr error
	if opts.agg != nil {
		runErr = runAggregate(ctx, opts, s, ex)
	} else {
		runErr = stream(ctx, opts, s, ex)
	}
	exErr := ex.Close() // no scrape of a session being closed
	closeErr := s.Close()
	text.Summary(opts.IO.ErrOut, s.Stats(), opts.agg != nil)
	return errors.Join(runErr, closeErr, exErr)
}

// stream hands every event to its sink until the session ends.
func stream(ctx context.Context, opts *attachOptions, s *trace.Session, ex *export.Exporter) error {
	var until <-chan time.Time
	if opts.Duration > 0 {
		until = time.After(opts.Duration)
	}
	var sink trace.Sink = text.NewWriter(opts.IO.Out)
	if opts.JSON {
		sink = jsonl.NewWriter(opts.IO.Out)
	}
	sink = ex.Sink(sink)
	seen := 0
	var writeErr error
	s.Run(ctx, until, func(ev *trace.Event) bool {
		if opts.Count > 0 && seen >= opts.Count {
			return true
		}
		if err := sink.Event(ev); err != nil && writeErr == nil {
			writeErr = err
		}
		seen++
		return writeErr != nil || opts.Count > 0 && seen >= opts.Count
	}, func() { sink.Flush() })
	if err := sink.Flush(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		return fmt.Errorf("write events: %w", writeErr)
	}
	return nil
}
