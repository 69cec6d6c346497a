package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/docs"
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
}

func newAttachCmd(io *IOStreams, runF func(context.Context, *attachOptions) error) *cobra.Command {
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
integers by size and sign. -p limits tracing to one process; after --, CMD
is started and traced from its first instruction.

On exit (--count, --duration, the command's end, Ctrl-C or SIGTERM) a
summary goes to stderr: hits per tracepoint and call site, lost events,
read failures and the tracepoints that never fired. Needs root or
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
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runAttach(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVarP(&opts.PID, "pid", "p", 0, "trace only this process (TARGET defaults to its executable)")
	cmd.Flags().StringVar(&opts.Docs, "docs", "", "decode arguments by the types documented in this tracing doc")
	opts.readFlags.add(cmd)
	f := cmd.Flags()
	f.BoolVar(&opts.JSON, "json", false, "print one JSON event per line (schema in docs/attach.md)")
	f.IntVar(&opts.Count, "count", 0, "stop after N events")
	f.DurationVar(&opts.Duration, "duration", 0, "stop after this long (e.g. 10s)")
	return cmd
}

// readFlags say how arguments are read beyond their integer value; attach,
// verify and watch share them.
type readFlags struct {
	Strlen   int
	BytesCap int
	Args     []string // --arg N=...
}

func (r *readFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&r.Strlen, "strlen", bpf.DefaultStringLen, "bytes read of a string whose doc gives no maximum length")
	f.IntVar(&r.BytesCap, "bytes-cap", bpf.DefaultBytesCap, "most bytes read of a byte buffer")
	f.StringArrayVar(&r.Args, "arg", nil, "read argument N as str[:LEN], bytes:LEN or hex (N from 0; repeatable)")
}

func (r *readFlags) check() error {
	if r.Strlen <= 0 || r.Strlen > bpf.MaxReadLen || r.BytesCap <= 0 || r.BytesCap > bpf.MaxReadLen {
		return usagef("--strlen and --bytes-cap must be 1 to %d", bpf.MaxReadLen)
	}
	return nil
}

// resolve checks the arguments: TARGET first (or the -p process's
// executable), then patterns.
func (o *attachOptions) resolve(args []string) error {
	if o.PID < 0 {
		return usagef("bad pid %d", o.PID)
	}
	if len(args) > 0 && !strings.Contains(args[0], ":") {
		o.Target, args = args[0], args[1:]
	} else if len(args) > 0 && isFile(args[0]) {
		o.Target, args = args[0], args[1:]
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
		if err := checkPattern(p); err != nil {
			return err
		}
	}
	o.Patterns = args
	if o.PID != 0 && len(o.Command) > 0 {
		return usagef("-p and -- CMD do not go together: the command's process is traced")
	}
	if o.Count < 0 || o.Duration < 0 {
		return usagef("--count and --duration must not be negative")
	}
	return o.readFlags.check()
}

// traceSetup is what attach and verify share: the file, its selected
// probes, how to read their arguments.
type traceSetup struct {
	file   *elf.File
	path   string
	probes []elf.Probe
	types  map[string][]argType
	doc    *docs.Doc
}

func setupTrace(target, docsPath string, patterns []string, strlen, bytesCap int, argSpecs []string) (*traceSetup, error) {
	overrides, err := parseArgOverrides(argSpecs)
	if err != nil {
		return nil, err
	}
	f, err := elf.Open(target)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", target, err)
	}
	s := &traceSetup{file: f, path: target, types: map[string][]argType{}}
	if docsPath != "" {
		s.doc, _ = docs.ParseFile(docsPath)
		if s.doc == nil {
			_, err := docs.ParseFile(docsPath)
			return nil, fmt.Errorf("read %s: %w", docsPath, err)
		}
	}
	for _, p := range f.Probes {
		if !p.Match(patterns...) {
			continue
		}
		s.probes = append(s.probes, p)
		s.types[p.ID()] = typesFor(&p, s.doc, strlen, bytesCap, overrides)
	}
	if len(s.probes) == 0 {
		if f.Notes == 0 {
			return nil, fmt.Errorf("%s has no USDT tracepoints", target)
		}
		return nil, fmt.Errorf("no tracepoint of %s matches %s", target, strings.Join(patterns, " "))
	}
	return s, nil
}

func (s *traceSetup) reads() map[string][]bpf.ArgRead {
	out := map[string][]bpf.ArgRead{}
	for id, ts := range s.types {
		rs := make([]bpf.ArgRead, len(ts))
		for i, t := range ts {
			rs[i] = t.Read
		}
		out[id] = rs
	}
	return out
}

// session attaches and, for a command, starts it stopped and resumes it
// once attached. done is closed when the command has exited (never
// without one); cmdErr holds its exit error.
type session struct {
	sess    *bpf.Session
	cmd     *exec.Cmd
	done    chan struct{}
	cmdErr  error
	started time.Time
}

func startSession(ctx context.Context, io *IOStreams, s *traceSetup, pid int, command []string) (*session, error) {
	out := &session{done: make(chan struct{}), started: time.Now()}
	var stopped *bpf.Stopped
	if len(command) > 0 {
		c := exec.Command(command[0], command[1:]...)
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, io.ErrOut, io.ErrOut
		st, err := bpf.StartStopped(c)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", command[0], err)
		}
		stopped, out.cmd, pid = st, c, st.PID()
	}
	sess, err := bpf.Attach(context.Background(), bpf.Options{File: s.file, Path: s.path, Probes: s.probes, PID: pid, Reads: s.reads()})
	if err != nil {
		if stopped != nil {
			stopped.Kill()
		}
		return nil, attachError(err)
	}
	out.sess = sess
	if stopped != nil {
		if err := stopped.Resume(); err != nil {
			sess.Close()
			return nil, fmt.Errorf("resume %s: %w", command[0], err)
		}
		go func() {
			out.cmdErr = out.cmd.Wait()
			close(out.done)
		}()
	}
	return out, nil
}

// consume hands every event to handle until handle returns true, ctx is
// done, timeout fires or the command exits; then it detaches, hands on
// what is still in the ring buffer, and returns when the events end.
func (ss *session) consume(ctx context.Context, timeout <-chan time.Time, handle func(bpf.Event) (stop bool)) {
	events := ss.sess.Events()
	stopping := false
	stop := func() {
		if !stopping {
			stopping = true
			ss.sess.Detach()
		}
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if handle(ev) {
				stop()
			}
		case <-ctx.Done():
			stop()
		case <-timeout:
			timeout = nil
			stop()
		case <-ss.done:
			ss.done = nil
			stop()
		}
	}
}

func attachError(err error) error {
	switch {
	case errors.Is(err, bpf.ErrPermission):
		return fmt.Errorf("attach: %w", bpf.ErrPermission)
	case errors.Is(err, syscall.EINVAL):
		// The kernel refuses a uprobe whose semaphore offset differs from
		// that of another uprobe at the same place in the same file.
		return fmt.Errorf("%w (is another tracer, e.g. bcc, attached to this binary without its semaphore? detach it and retry)", err)
	}
	return err
}

func runAttach(ctx context.Context, opts *attachOptions) error {
	s, err := setupTrace(opts.Target, opts.Docs, opts.Patterns, opts.Strlen, opts.BytesCap, opts.Args)
	if err != nil {
		return err
	}
	ss, err := startSession(ctx, opts.IO, s, opts.PID, opts.Command)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: attached %d tracepoints (%d call sites) of %s in %s\n",
		len(s.probes), countSites(s.probes), opts.Target, time.Since(ss.started).Round(time.Microsecond))
	var timeout <-chan time.Time
	if opts.Duration > 0 {
		timeout = time.After(opts.Duration)
	}
	seen := 0
	printer := newEventPrinter(opts.IO, s, opts.JSON)
	ss.consume(ctx, timeout, func(ev bpf.Event) bool {
		if opts.Count > 0 && seen >= opts.Count {
			return true
		}
		printer.print(ev)
		seen++
		return opts.Count > 0 && seen >= opts.Count
	})
	if err := printer.flush(); err != nil {
		return err
	}
	closeErr := ss.sess.Close()
	printSummary(opts.IO, s, ss.sess.Stats())
	if ss.cmd != nil && ss.cmd.ProcessState == nil {
		ss.cmd.Process.Kill()
		ss.cmd.Wait()
	}
	return closeErr
}

func countSites(ps []elf.Probe) int {
	n := 0
	for _, p := range ps {
		n += len(p.CallSites)
	}
	return n
}

// eventPrinter writes events as lines for people or as NDJSON.
type eventPrinter struct {
	io    *IOStreams
	setup *traceSetup
	json  bool
	buf   []byte
}

func newEventPrinter(io *IOStreams, s *traceSetup, asJSON bool) *eventPrinter {
	return &eventPrinter{io: io, setup: s, json: asJSON}
}

type jsonEvent struct {
	Time       string         `json:"time"`
	PID        int            `json:"pid"`
	TID        int            `json:"tid"`
	Comm       string         `json:"comm"`
	Tracepoint string         `json:"tracepoint"`
	CallSite   uint64         `json:"call_site"`
	SiteIndex  int            `json:"site_index"`
	Args       []jsonEventArg `json:"args"`
}

type jsonEventArg struct {
	Name      *string `json:"name"`
	Type      string  `json:"type"`
	Value     any     `json:"value"`
	Truncated bool    `json:"truncated"`
	Error     *string `json:"error"`
}

func (p *eventPrinter) probe(id string) *elf.Probe {
	for i := range p.setup.probes {
		if p.setup.probes[i].ID() == id {
			return &p.setup.probes[i]
		}
	}
	return nil
}

func (p *eventPrinter) print(ev bpf.Event) {
	types := p.setup.types[ev.Probe]
	pr := p.probe(ev.Probe)
	if p.json {
		je := jsonEvent{Time: ev.Time.Format(time.RFC3339Nano), PID: ev.PID, TID: ev.TID, Comm: ev.Comm, Tracepoint: ev.Probe,
			SiteIndex: ev.CallSite, Args: []jsonEventArg{}}
		if pr != nil && ev.CallSite < len(pr.CallSites) {
			je.CallSite = pr.CallSites[ev.CallSite].Address
		}
		for i, v := range ev.Args {
			var t argType
			if i < len(types) {
				t = types[i]
			}
			var spec elf.Arg
			if pr != nil && ev.CallSite < len(pr.CallSites) && i < len(pr.CallSites[ev.CallSite].Args) {
				spec = pr.CallSites[ev.CallSite].Args[i]
			}
			ja := jsonEventArg{Type: t.typeName(spec), Value: t.jsonValue(v), Truncated: v.Truncated, Error: errText(v.Err)}
			if t.Name != "" {
				name := t.Name
				ja.Name = &name
			}
			je.Args = append(je.Args, ja)
		}
		data, _ := json.Marshal(je)
		p.buf = append(append(p.buf, data...), '\n')
	} else {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %d/%d %s %s", ev.Time.Format("15:04:05.000000"), ev.PID, ev.TID, ev.Comm, ev.Probe)
		if pr != nil && len(pr.CallSites) > 1 {
			fmt.Fprintf(&b, "#%d", ev.CallSite)
		}
		for i, v := range ev.Args {
			var t argType
			if i < len(types) {
				t = types[i]
			}
			fmt.Fprintf(&b, " arg%d=%s", i, t.format(v))
		}
		b.WriteByte('\n')
		p.buf = append(p.buf, b.String()...)
	}
	if len(p.buf) > 32<<10 || !p.json {
		p.flush()
	}
}

func (p *eventPrinter) flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	_, err := p.io.Out.Write(p.buf)
	p.buf = p.buf[:0]
	return err
}

// printSummary writes hits per tracepoint and call site, lost events, read
// failures and the tracepoints that never fired, to stderr.
func printSummary(io *IOStreams, s *traceSetup, st bpf.Stats) {
	t := newTablePrinter(&IOStreams{Out: io.ErrOut, IsTerminal: true}, "tracepoint", "hits", "per call site", "lost", "read failures")
	var never []string
	for _, tp := range st.Tracepoints {
		per := make([]string, len(tp.CallSites))
		for i, h := range tp.CallSites {
			per[i] = strconv.FormatUint(h, 10)
		}
		t.Add(tp.Probe, strconv.FormatUint(tp.Hits, 10), strings.Join(per, " "), strconv.FormatUint(tp.Lost, 10), strconv.FormatUint(tp.ReadFailures, 10))
		if tp.Hits == 0 {
			never = append(never, tp.Probe)
		}
	}
	t.Render()
	fmt.Fprintf(io.ErrOut, "usdtkit: %d events lost, %d read failures", st.Lost, st.ReadFailures)
	if len(never) > 0 {
		fmt.Fprintf(io.ErrOut, "; never fired: %s", strings.Join(never, ", "))
	}
	fmt.Fprintln(io.ErrOut)
}
