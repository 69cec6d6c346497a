package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf/trace/text"
	"github.com/usdtkit/usdtkit/elf"
)

type listOptions struct {
	IO       *IOStreams
	PID      int
	JSON     bool
	Verbose  bool
	Targets  []string
	Patterns []string
}

func newListCmd(io *IOStreams) *cobra.Command {
	opts := &listOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "list [flags] TARGET... [PATTERN...]",
		Short: "List the tracepoints of binaries, libraries or a process",
		Long: `List the USDT tracepoints (SystemTap SDT notes) of ELF binaries and shared
libraries, or of a running process (-p PID: its executable and every mapped
library with notes, with each semaphore's current value).

Each tracepoint is shown with its call sites, its semaphore and its decoded
arguments. TARGETs are files; the arguments after the first one that is not
a file are PATTERNs: globs over provider:name ('net:*'), or over the name
alone when they have no ':'.

On a terminal the output is a table; piped, it is tab-separated without a
header; --json prints the documented JSON schema (docs/list.md).`,
		Example: `  usdtkit list build/bin/bitcoind
  usdtkit list build/bin/bitcoind 'net:*' -v
  usdtkit list -p $(pidof bitcoind) --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.classify(args); err != nil {
				return err
			}
			return runList(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVarP(&opts.PID, "pid", "p", 0, "list the tracepoints of a running process")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON (schema in docs/list.md)")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "add a row per call site with its raw spec and file offsets")
	return cmd
}

// classify splits the positional arguments into targets and patterns: the
// targets are the arguments up to the first that names no file (a
// dangling or looping symbolic link names one: opening it says what is
// wrong).
func (o *listOptions) classify(args []string) error {
	i := 0
	for ; i < len(args); i++ {
		if _, err := os.Lstat(args[i]); err != nil {
			break
		}
		o.Targets = append(o.Targets, args[i])
	}
	o.Patterns = args[i:]
	if len(o.Targets) == 0 && o.PID == 0 {
		if len(args) == 0 {
			return usagef("list needs a TARGET file or -p PID")
		}
		return fmt.Errorf("open %s: %w", args[0], fs.ErrNotExist)
	}
	for _, p := range o.Patterns {
		if strings.Contains(p, "/") {
			return fmt.Errorf("open %s: %w", p, fs.ErrNotExist)
		}
		if err := elf.CheckPattern(p); err != nil {
			return &usageError{err}
		}
	}
	if o.PID < 0 {
		return usagef("bad pid %d", o.PID)
	}
	return nil
}

func runList(ctx context.Context, opts *listOptions) error {
	var files []elf.Listed
	for _, path := range opts.Targets {
		f, err := elf.Open(path)
		if err != nil {
			return err
		}
		if f.Notes == 0 {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: %s has no USDT tracepoints (no .note.stapsdt notes)\n", path)
		}
		files = append(files, elf.Listed{File: f})
	}
	if opts.PID != 0 {
		mapped, err := elf.OpenProcess(opts.PID, func(path string, err error) {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: skipping %s: %v\n", path, err)
		})
		if err != nil {
			return err
		}
		if len(mapped) == 0 {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: process %d maps no file with USDT tracepoints\n", opts.PID)
		}
		files = append(files, mapped...)
	}
	if elf.Select(files, opts.Patterns...) == 0 && len(opts.Patterns) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "usdtkit: no tracepoint matches %s\n", strings.Join(opts.Patterns, " "))
	}
	if opts.JSON {
		return elf.WriteJSON(opts.IO.Out, files)
	}
	return printListTable(opts, files)
}

func printListTable(opts *listOptions, files []elf.Listed) error {
	multi := len(files) > 1
	header := []string{"tracepoint", "sites", "semaphore", "arguments"}
	if multi {
		header = append([]string{"file"}, header...)
	}
	t := text.NewTable(opts.IO.Out, opts.IO.IsTerminal, header...)
	undecoded := 0
	for _, l := range files {
		for _, p := range l.Probes {
			row := []string{p.ID(), strconv.Itoa(len(p.CallSites)), l.SemaphoreText(p), p.ArgsSummary()}
			if multi {
				row = append([]string{l.File.Path}, row...)
			}
			t.Add(row...)
			for i := range p.CallSites {
				cs := &p.CallSites[i]
				undecoded += len(cs.ArgErrors())
				if !opts.Verbose {
					continue
				}
				off := "-"
				if cs.Err == nil {
					off = fmt.Sprintf("off %#x", cs.FileOffset)
				}
				spec := cs.ArgsRaw
				for _, err := range cs.ArgErrors() {
					spec += " [" + err.Error() + "]"
				}
				if cs.Err != nil {
					spec += " [" + cs.Err.Error() + "]"
				}
				row := []string{fmt.Sprintf("  site %d", i), fmt.Sprintf("%#x", cs.Address), off, spec}
				if multi {
					row = append([]string{""}, row...)
				}
				t.Add(row...)
			}
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if undecoded > 0 && !opts.Verbose {
		fmt.Fprintf(opts.IO.ErrOut, "usdtkit: %d argument specs could not be decoded; -v says why\n", undecoded)
	}
	return nil
}
