package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/text"
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

func runVerify(ctx context.Context, opts *verifyOptions) error {
	o, err := traceOptions(opts.IO, opts.Target, opts.Docs, &opts.readFlags)
	if err != nil {
		return err
	}
	v, err := trace.NewVerifier(o.Contract, opts.Patterns)
	if err != nil {
		return err
	}
	o.Patterns, o.Command = v.Patterns, opts.Command
	s, err := trace.Start(ctx, o)
	if err != nil {
		return err
	}
	s.Run(ctx, nil, func(ev *trace.Event) bool { v.Event(ev); return false }, nil)
	closeErr := s.Close()
	list, failed := v.Verdicts(s.Stats(), opts.RequireAll)
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
