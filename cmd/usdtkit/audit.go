package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf/trace/text"
	"github.com/usdtkit/usdtkit/docs/audit"
	"github.com/usdtkit/usdtkit/docs/contract"
)

type auditOptions struct {
	IO *IOStreams
	contract.Paths
	JSON   bool
	Format string
	FailOn string
	Fix    bool
}

func newAuditCmd(io *IOStreams) *cobra.Command {
	opts := &auditOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "audit [--docs FILE] [--src DIR] [BINARY...]",
		Short: "Check that the tracing docs, the source and the binary agree",
		Long: `Check the three-way contract of a program's tracepoints: the tracing docs
(Bitcoin Core's doc/tracing.md format), the TRACEPOINT(...) calls in the
source, and the USDT notes in the built binary. Any two views are enough.
Each finding says what disagrees, where (doc or source file:line, or the
binary's call site), and how to fix it.

Run from a Bitcoin Core checkout with no arguments, audit finds
doc/tracing.md, src/ and build/bin/bitcoind itself.

Exit status: 0 when there is no finding at or above --fail-on, 1 when
there is, 2 on usage errors. Finding kinds: docs/audit.md.`,
		Example: `  usdtkit audit
  usdtkit audit --docs doc/tracing.md --src src build/bin/bitcoind
  usdtkit audit --format github --fail-on warning
  usdtkit audit --fix | git apply`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Binaries = args
			if opts.JSON {
				if cmd.Flags().Changed("format") && opts.Format != "json" {
					return usagef("--json and --format %s disagree", opts.Format)
				}
				opts.Format = "json"
			}
			switch opts.Format {
			case "table", "json", "github", "sarif":
			default:
				return usagef("unknown --format %q (want table, json, github or sarif)", opts.Format)
			}
			if _, err := audit.ParseSeverity(opts.FailOn); err != nil {
				return &usageError{err}
			}
			return runAudit(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Docs, "docs", "", "the tracing doc (Bitcoin Core's doc/tracing.md format)")
	f.StringVar(&opts.Src, "src", "", "the source tree to scan for TRACEPOINT calls")
	f.BoolVar(&opts.JSON, "json", false, "print JSON (same as --format json)")
	f.StringVar(&opts.Format, "format", "table", "output: table, json, github (workflow annotations) or sarif (SARIF 2.1.0)")
	f.StringVar(&opts.FailOn, "fail-on", "error", "exit 1 when a finding is at least this severe: info, warning or error")
	f.BoolVar(&opts.Fix, "fix", false, "print a unified diff that documents undocumented tracepoints and flags stale entries")
	return cmd
}

func runAudit(ctx context.Context, opts *auditOptions) error {
	if opts.Given() == 0 {
		opts.Paths = contract.Discover(".")
	}
	if opts.Given() < 2 {
		return usagef("audit needs two of --docs FILE, --src DIR and BINARY (or run it in a Bitcoin Core checkout)")
	}
	c, scanErr, err := contract.Load(opts.Paths)
	if err != nil {
		return err
	}
	findings := audit.Run(c, scanErr)
	if opts.Fix {
		if c.Doc == nil {
			return usagef("--fix needs --docs FILE: it writes doc entries")
		}
		return printFix(opts, findings, c)
	}
	out := opts.IO.Out
	switch opts.Format {
	case "json":
		data, _ := json.MarshalIndent(audit.NewReport(c, findings), "", "  ")
		_, err = out.Write(append(data, '\n'))
	case "github":
		err = audit.WriteGitHub(out, findings)
	case "sarif":
		err = audit.WriteSARIF(out, findings, version)
	default:
		err = printAuditTable(opts.IO, findings)
	}
	if err != nil {
		return err
	}
	sum := audit.Count(findings)
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: audit: %d error%s, %d warning%s, %d info\n",
		sum.Errors, plural(sum.Errors), sum.Warnings, plural(sum.Warnings), sum.Info)
	failOn, _ := audit.ParseSeverity(opts.FailOn)
	for _, f := range findings {
		if f.Severity >= failOn {
			return &exitError{code: exitFailure}
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func printAuditTable(streams *IOStreams, findings []audit.Finding) error {
	t := text.NewTable(streams.Out, streams.IsTerminal, "tracepoint", "severity", "kind", "where", "finding")
	prev := "\x00"
	for _, f := range findings {
		tp := f.Tracepoint
		if tp == "" {
			tp = "-"
		}
		if !streams.IsTerminal {
			t.Add(tp, f.Severity.String(), string(f.Kind), f.Where(), f.Message, f.Fix)
			continue
		}
		shown := tp
		if tp == prev {
			shown = "" // grouped by tracepoint
		}
		prev = tp
		t.Add(shown, f.Severity.String(), string(f.Kind), f.Where(), f.Message)
		t.Add("", "", "", "", "fix: "+f.Fix)
	}
	return t.Render()
}

// printFix prints the unified diff of the doc that --fix proposes.
func printFix(opts *auditOptions, findings []audit.Finding, c *contract.Contract) error {
	diff, notes := audit.FixPatch(c, findings, opts.Docs)
	if _, err := io.WriteString(opts.IO.Out, diff); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(opts.IO.ErrOut, "usdtkit: audit --fix: %s\n", n)
	}
	return nil
}
