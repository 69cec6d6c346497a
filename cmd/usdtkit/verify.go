package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/docs"
)

type verifyOptions struct {
	IO         *IOStreams
	Target     string
	Patterns   []string
	Command    []string
	Docs       string
	RequireAll bool
	JSON       bool
	readFlags
	pid int
}

func newVerifyCmd(io *IOStreams, runF func(context.Context, *verifyOptions) error) *cobra.Command {
	opts := &verifyOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "verify TARGET --docs FILE [PATTERN...] -- CMD ARGS...",
		Short: "Run a command with every documented tracepoint attached and check the values",
		Long: `Run CMD with every documented tracepoint of TARGET attached, then report for
each whether it fired, how often, and whether every argument's values fit
its documented type: strings readable and NUL-terminated within their
documented maximum, bools 0 or 1, byte buffers as long as their size
argument says, hashes and pointers readable, integers within the range of
their documented size and sign.

Exit status 1 when a check failed, when CMD failed, or (with
--require-all) when a documented tracepoint never fired or is not in
TARGET. This is the generic form of Bitcoin Core's interface_usdt_*.py
tests. Needs root or CAP_BPF+CAP_PERFMON.`,
		Example: `  usdtkit verify build/bin/bitcoind --docs doc/tracing.md -- build/test/functional/feature_block.py
  usdtkit verify docs/demo/build/minid --docs docs/demo/doc/tracing.md --require-all -- docs/demo/build/minid --iterations 3 --interval-ms 0`,
		RunE: func(cmd *cobra.Command, args []string) error {
			at := cmd.ArgsLenAtDash()
			if at < 0 || at == len(args) {
				return usagef("verify needs a command to run after --")
			}
			opts.Command = args[at:]
			args = args[:at]
			if len(args) == 0 {
				return usagef("verify needs a TARGET binary")
			}
			if opts.Docs == "" {
				return usagef("verify needs --docs FILE: it checks values against the documented types")
			}
			if err := opts.readFlags.check(); err != nil {
				return err
			}
			opts.Target, opts.Patterns = args[0], args[1:]
			for _, p := range opts.Patterns {
				if err := checkPattern(p); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runVerify(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Docs, "docs", "", "the tracing doc whose tracepoints and types are checked")
	f.BoolVar(&opts.RequireAll, "require-all", false, "fail when a documented tracepoint never fired or is not in TARGET")
	f.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	opts.readFlags.add(cmd)
	return cmd
}

// tpReport is the verdict for one documented tracepoint.
type tpReport struct {
	Tracepoint string   `json:"tracepoint"`
	InBinary   bool     `json:"in_binary"`
	Hits       uint64   `json:"hits"`
	Failures   []string `json:"failures"`
	Status     string   `json:"status"` // ok, failed, never-fired, not-in-binary
	failCount  map[string]int
}

func runVerify(ctx context.Context, opts *verifyOptions) error {
	doc, err := docs.ParseFile(opts.Docs)
	if doc == nil {
		return fmt.Errorf("read %s: %w", opts.Docs, err)
	}
	// Every documented tracepoint that matches; the ones the binary has
	// are attached.
	var patterns []string
	reports := map[string]*tpReport{}
	for _, tp := range doc.Tracepoints {
		probe := matchID(tp.ID(), opts.Patterns)
		if !probe {
			continue
		}
		if _, dup := reports[tp.ID()]; !dup {
			reports[tp.ID()] = &tpReport{Tracepoint: tp.ID(), Failures: []string{}, failCount: map[string]int{}}
			patterns = append(patterns, tp.ID())
		}
	}
	if len(reports) == 0 {
		return fmt.Errorf("no documented tracepoint in %s matches %s", opts.Docs, strings.Join(opts.Patterns, " "))
	}
	s, err := setupTrace(opts.Target, opts.Docs, patterns, opts.Strlen, opts.BytesCap, opts.Args)
	if err != nil {
		return err
	}
	for _, p := range s.probes {
		reports[p.ID()].InBinary = true
	}
	ss, err := startSession(ctx, opts.IO, s, 0, opts.Command)
	if err != nil {
		return err
	}
	ss.consume(ctx, nil, func(ev bpf.Event) bool {
		if r := reports[ev.Probe]; r != nil {
			checkEvent(r, s.types[ev.Probe], ev)
		}
		return false
	})
	closeErr := ss.sess.Close()
	if ss.cmd.ProcessState == nil {
		ss.cmd.Process.Kill()
		ss.cmd.Wait()
	}
	st := ss.sess.Stats()
	for _, tp := range st.Tracepoints {
		reports[tp.Probe].Hits = tp.Hits
		if tp.Lost > 0 {
			addFailure(reports[tp.Probe], fmt.Sprintf("%d events lost (ring buffer full): their values were not checked", tp.Lost))
		}
	}
	failed := 0
	var ids []string
	for id := range reports {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var list []*tpReport
	for _, id := range ids {
		r := reports[id]
		for msg, n := range r.failCount {
			if n > 1 {
				msg = fmt.Sprintf("%s (%d times)", msg, n)
			}
			r.Failures = append(r.Failures, msg)
		}
		sort.Strings(r.Failures)
		switch {
		case len(r.Failures) > 0:
			r.Status = "failed"
			failed++
		case !r.InBinary:
			r.Status = "not-in-binary"
			if opts.RequireAll {
				failed++
			}
		case r.Hits == 0:
			r.Status = "never-fired"
			if opts.RequireAll {
				failed++
			}
		default:
			r.Status = "ok"
		}
		list = append(list, r)
	}
	if opts.JSON {
		data, _ := json.MarshalIndent(map[string]any{"tracepoints": list, "command_exit": exitText(ss.cmdErr)}, "", "  ")
		opts.IO.Out.Write(append(data, '\n'))
	} else {
		t := newTablePrinter(opts.IO, "tracepoint", "hits", "result", "details")
		for _, r := range list {
			t.Add(r.Tracepoint, strconv.FormatUint(r.Hits, 10), r.Status, strings.Join(r.Failures, "; "))
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if closeErr != nil {
		return closeErr
	}
	if ss.cmdErr != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("verify: %s failed: %v", opts.Command[0], ss.cmdErr)}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("verify: %d of %d documented tracepoints failed", failed, len(list))}
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: verify: %d documented tracepoints checked\n", len(list))
	return nil
}

func exitText(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

func addFailure(r *tpReport, msg string) { r.failCount[msg]++ }

// checkEvent checks one event's values against the documented types.
func checkEvent(r *tpReport, types []argType, ev bpf.Event) {
	for i, v := range ev.Args {
		if i >= len(types) || types[i].Doc == nil {
			continue
		}
		t := types[i]
		what := fmt.Sprintf("arg%d (%s)", i, t.Name)
		if v.Err != nil {
			addFailure(r, fmt.Sprintf("%s: %v", what, v.Err))
			continue
		}
		switch t.Doc.Kind {
		case docs.CString:
			if v.Truncated {
				addFailure(r, fmt.Sprintf("%s: string not NUL-terminated within %d bytes", what, t.Read.MaxLen))
			}
		case docs.Bool:
			if b := v.Raw & 0xff; b > 1 {
				addFailure(r, fmt.Sprintf("%s: bool is %d, not 0 or 1", what, b))
			}
		case docs.Bytes:
			if t.Read.LenArg > 0 && t.Read.LenArg-1 < len(ev.Args) {
				want := ev.Args[t.Read.LenArg-1].Raw
				if want > uint64(t.Read.MaxLen) {
					want = uint64(t.Read.MaxLen)
				}
				if uint64(len(v.Bytes)) != want {
					addFailure(r, fmt.Sprintf("%s: %d bytes read, the size argument arg%d says %d", what, len(v.Bytes), t.Read.LenArg-1, ev.Args[t.Read.LenArg-1].Raw))
				}
			}
		case docs.Int, docs.Uint:
			size := t.Doc.Size
			if size == 0 || size >= v.Size {
				continue
			}
			// The spec is wider than the documented type: the value must fit.
			if t.Doc.Kind == docs.Int {
				if x := int64(v.Raw); x != signExtend(v.Raw, size) {
					addFailure(r, fmt.Sprintf("%s: %d does not fit the documented int%d", what, x, size*8))
				}
			} else if v.Raw != truncate(v.Raw, size) {
				addFailure(r, fmt.Sprintf("%s: %d does not fit the documented uint%d", what, v.Raw, size*8))
			}
		}
	}
}
