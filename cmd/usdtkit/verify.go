package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/text"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
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
}

func newVerifyCmd(io *IOStreams) *cobra.Command {
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
			opts.Target, opts.Patterns = args[0], args[1:]
			for _, p := range opts.Patterns {
				if err := elf.CheckPattern(p); err != nil {
					return &usageError{err}
				}
			}
			if err := opts.readFlags.check(); err != nil {
				return err
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
	o, err := traceOptions(opts.IO, opts.Target, opts.Docs, &opts.readFlags)
	if err != nil {
		return err
	}
	// Every documented tracepoint that matches; the ones the binary has
	// are attached.
	reports := map[string]*tpReport{}
	for _, tp := range o.Contract.Tracepoints {
		if tp.Doc != nil && contract.Match(tp.ID(), opts.Patterns...) {
			reports[tp.ID()] = &tpReport{Tracepoint: tp.ID(), InBinary: tp.Probe() != nil, Failures: []string{}, failCount: map[string]int{}}
			if tp.Probe() != nil {
				o.Patterns = append(o.Patterns, tp.ID())
			}
		}
	}
	if len(reports) == 0 {
		return fmt.Errorf("no documented tracepoint in %s matches %s", opts.Docs, strings.Join(opts.Patterns, " "))
	}
	if len(o.Patterns) == 0 {
		return fmt.Errorf("%s has none of the documented tracepoints of %s", opts.Target, opts.Docs)
	}
	o.Command = opts.Command
	s, err := trace.Start(ctx, o)
	if err != nil {
		return err
	}
	s.Run(ctx, nil, func(ev *trace.Event) bool {
		if r := reports[ev.Probe]; r != nil {
			for _, msg := range ev.Tracepoint.Check(ev) {
				r.failCount[msg]++
			}
		}
		return false
	}, nil)
	closeErr := s.Close()
	for _, tp := range s.Stats().Tracepoints {
		r := reports[tp.Probe]
		r.Hits = tp.Hits
		if tp.Lost > 0 {
			r.failCount[fmt.Sprintf("%d events lost (ring buffer full): their values were not checked", tp.Lost)]++
		}
	}
	failed := 0
	var list []*tpReport
	for _, r := range reports {
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
		case !r.InBinary:
			r.Status = "not-in-binary"
		case r.Hits == 0:
			r.Status = "never-fired"
		default:
			r.Status = "ok"
		}
		if r.Status == "failed" || r.Status != "ok" && opts.RequireAll {
			failed++
		}
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Tracepoint < list[j].Tracepoint })
	if opts.JSON {
		exit := "0"
		if err := s.CommandErr(); err != nil {
			exit = err.Error()
		}
		data, _ := json.MarshalIndent(map[string]any{"tracepoints": list, "command_exit": exit}, "", "  ")
		opts.IO.Out.Write(append(data, '\n'))
	} else {
		t := text.NewTable(opts.IO.Out, opts.IO.IsTerminal, "tracepoint", "hits", "result", "details")
		for _, r := range list {
			t.Add(r.Tracepoint, strconv.FormatUint(r.Hits, 10), r.Status, strings.Join(r.Failures, "; "))
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	switch {
	case closeErr != nil:
		return closeErr
	case s.CommandErr() != nil:
		return &exitError{code: exitFailure, msg: fmt.Sprintf("verify: %s failed: %v", opts.Command[0], s.CommandErr())}
	case failed > 0:
		return &exitError{code: exitFailure, msg: fmt.Sprintf("verify: %d of %d documented tracepoints failed", failed, len(list))}
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: verify: %d documented tracepoints checked\n", len(list))
	return nil
}
