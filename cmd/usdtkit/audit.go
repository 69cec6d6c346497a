package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/audit"
	"github.com/usdtkit/usdtkit/elf"
)

type auditOptions struct {
	IO       *IOStreams
	Docs     string
	Src      string
	Binaries []string
	JSON     bool
	Format   string
	FailOn   string
	Fix      bool
}

func newAuditCmd(io *IOStreams, runF func(context.Context, *auditOptions) error) *cobra.Command {
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
			if runF != nil {
				return runF(cmd.Context(), opts)
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

// discover fills in the views of a Bitcoin Core checkout when none is given.
func (o *auditOptions) discover() {
	if o.Docs != "" || o.Src != "" || len(o.Binaries) > 0 {
		return
	}
	if isFile("doc/tracing.md") {
		o.Docs = "doc/tracing.md"
	}
	if st, err := os.Stat("src"); err == nil && st.IsDir() {
		o.Src = "src"
	}
	for _, b := range []string{"build/bin/bitcoind", "build/src/bitcoind", "src/bitcoind"} {
		if isFile(b) {
			o.Binaries = []string{b}
			break
		}
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func runAudit(ctx context.Context, opts *auditOptions) error {
	opts.discover()
	views := 0
	in := audit.Input{}
	if opts.Docs != "" {
		views++
		doc, err := docs.ParseFile(opts.Docs)
		if doc == nil {
			return fmt.Errorf("read %s: %w", opts.Docs, err)
		}
		in.Doc, in.DocPath = doc, opts.Docs
	}
	if opts.Src != "" {
		views++
		srcs, problems, err := scanSources(opts.Src)
		if err != nil {
			return err
		}
		in.Sources, in.SourceProblems, in.SourceGiven = srcs, problems, true
	}
	if len(opts.Binaries) > 0 {
		views++
		for _, p := range opts.Binaries {
			f, err := elf.Open(p)
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			in.Binaries = append(in.Binaries, audit.Binary{Path: p, File: f})
		}
	}
	if views < 2 {
		return usagef("audit needs two of --docs FILE, --src DIR and BINARY (or run it in a Bitcoin Core checkout)")
	}
	findings := audit.Run(in)
	if opts.Fix {
		return printFix(opts, in, findings)
	}
	switch opts.Format {
	case "json":
		if err := printAuditJSON(opts, in, findings); err != nil {
			return err
		}
	case "github":
		printAuditGitHub(opts.IO, findings)
	case "sarif":
		if err := printSARIF(opts.IO, findings); err != nil {
			return err
		}
	default:
		if err := printAuditTable(opts.IO, findings); err != nil {
			return err
		}
	}
	failOn, _ := audit.ParseSeverity(opts.FailOn)
	counts := map[audit.Severity]int{}
	failing := 0
	for _, f := range findings {
		counts[f.Severity]++
		if f.Severity >= failOn {
			failing++
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: audit: %d error%s, %d warning%s, %d info\n",
		counts[audit.Error], plural(counts[audit.Error]), counts[audit.Warning], plural(counts[audit.Warning]), counts[audit.Info])
	if failing > 0 {
		return &exitError{code: 1}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func where(f audit.Finding) string {
	w := f.File
	if f.Line > 0 {
		w += ":" + strconv.Itoa(f.Line)
	}
	if f.CallSite != "" {
		w += "@" + f.CallSite
	}
	return w
}

func printAuditTable(io *IOStreams, findings []audit.Finding) error {
	t := newTablePrinter(io, "tracepoint", "severity", "kind", "where", "finding")
	prev := "\x00"
	for _, f := range findings {
		tp := f.Tracepoint
		if tp == "" {
			tp = "-"
		}
		if !io.IsTerminal {
			t.Add(tp, f.Severity.String(), string(f.Kind), where(f), f.Message, f.Fix)
			continue
		}
		shown := tp
		if tp == prev {
			shown = "" // grouped by tracepoint
		}
		prev = tp
		t.Add(shown, f.Severity.String(), string(f.Kind), where(f), f.Message)
		t.Add("", "", "", "", "fix: "+f.Fix)
	}
	return t.Render()
}

type auditJSON struct {
	Findings []audit.Finding `json:"findings"`
	Summary  struct {
		Errors   int `json:"errors"`
		Warnings int `json:"warnings"`
		Info     int `json:"info"`
	} `json:"summary"`
	Docs     *string  `json:"docs"`
	Src      *string  `json:"src"`
	Binaries []string `json:"binaries"`
}

func printAuditJSON(opts *auditOptions, in audit.Input, findings []audit.Finding) error {
	out := auditJSON{Findings: findings, Binaries: []string{}}
	if out.Findings == nil {
		out.Findings = []audit.Finding{}
	}
	for _, f := range findings {
		switch f.Severity {
		case audit.Error:
			out.Summary.Errors++
		case audit.Warning:
			out.Summary.Warnings++
		default:
			out.Summary.Info++
		}
	}
	if opts.Docs != "" {
		out.Docs = &opts.Docs
	}
	if opts.Src != "" {
		out.Src = &opts.Src
	}
	out.Binaries = append(out.Binaries, opts.Binaries...)
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(append(data, '\n'))
	return err
}

// printAuditGitHub writes GitHub Actions workflow commands, which the
// runner shows as annotations on the pull request.
func printAuditGitHub(io *IOStreams, findings []audit.Finding) {
	var b strings.Builder
	for _, f := range findings {
		level := map[audit.Severity]string{audit.Error: "error", audit.Warning: "warning", audit.Info: "notice"}[f.Severity]
		props := "file=" + ghProp(f.File)
		if f.Line > 0 {
			props += ",line=" + strconv.Itoa(f.Line)
		}
		props += ",title=" + ghProp("usdtkit audit: "+string(f.Kind))
		fmt.Fprintf(&b, "::%s %s::%s\n", level, props, ghData(f.Message+"\nFix: "+f.Fix))
	}
	io.Out.Write([]byte(b.String()))
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// printFix prints the unified diff of the doc that --fix proposes.
func printFix(opts *auditOptions, in audit.Input, findings []audit.Finding) error {
	if in.Doc == nil {
		return usagef("--fix needs --docs FILE: it writes doc entries")
	}
	old, err := os.ReadFile(opts.Docs)
	if err != nil {
		return err
	}
	fixed, added, flagged := audit.FixDoc(string(old), in, findings)
	name := filepath.ToSlash(filepath.Clean(opts.Docs))
	if filepath.IsAbs(name) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, opts.Docs); err == nil && !strings.HasPrefix(rel, "..") {
				name = filepath.ToSlash(rel)
			}
		}
	}
	if fixed != string(old) {
		diff := udiff.Unified("a/"+name, "b/"+name, string(old), fixed)
		if _, err := opts.IO.Out.Write([]byte(diff)); err != nil {
			return err
		}
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: audit --fix: %d entr%s added (marked TODO), %d stale entr%s flagged\n",
		added, map[bool]string{true: "y", false: "ies"}[added == 1], flagged, map[bool]string{true: "y", false: "ies"}[flagged == 1])
	return nil
}
