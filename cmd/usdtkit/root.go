package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree for the command line args.
func newRootCmd(io *IOStreams, args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "usdtkit",
		Short: "List, audit, generate and trace USDT tracepoints",
		Long: `usdtkit works with USDT tracepoints (SystemTap SDT notes) in C/C++ programs,
with Bitcoin Core's bitcoind as the first-class target:

  list     which tracepoints a binary, library or process carries, with decoded arguments
  audit    whether the tracing docs, the TRACEPOINT calls and the binary agree
  attach   trace live with eBPF, arguments decoded by their documented types
  verify   run a command and check every documented tracepoint fires with sane values
  gen      bpftrace, bcc and Go programs, doc entries and test skeletons for tracepoints
  scaffold the patch that adds a tracepoint to a source tree
  watch    keep all of the above true while the binary is rebuilt`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Without Args, cobra would report an unknown command as a plain
		// error; this makes it a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				cmd.SuggestionsMinimumDistance = 2
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					return usagef("unknown command %q for usdtkit; did you mean %s?", args[0], strings.Join(s, " or "))
				}
				return usagef("unknown command %q for usdtkit (usdtkit --help lists them)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetIn(io.In)
	root.SetFlagErrorFunc(flagError)
	// A command line that starts with a subcommand's name runs that
	// subcommand: only it is built, as the flag sets of the others cost
	// more than reading a binary's notes, and so is not cobra's completion
	// command, which cannot be the one that runs. Anything else (help,
	// completion, a flag, a misspelt name) gets them all.
	var name string
	if len(args) > 0 {
		name = args[0]
	}
	for _, c := range subcommands {
		if c.name == name {
			root.AddCommand(c.new(io))
			root.CompletionOptions.DisableDefaultCmd = true
			return root
		}
	}
	for _, c := range subcommands {
		root.AddCommand(c.new(io))
	}
	return root
}

// subcommands are the root's commands, in the order help lists them; name
// is each one's cobra Use name.
var subcommands = []struct {
	name string
	new  func(*IOStreams) *cobra.Command
}{
	{"list", func(io *IOStreams) *cobra.Command { return newListCmd(io) }},
	{"audit", func(io *IOStreams) *cobra.Command { return newAuditCmd(io) }},
	{"gen", func(io *IOStreams) *cobra.Command { return newGenCmd(io, nil) }},
	{"attach", func(io *IOStreams) *cobra.Command { return newAttachCmd(io) }},
	{"verify", func(io *IOStreams) *cobra.Command { return newVerifyCmd(io) }},
	{"watch", func(io *IOStreams) *cobra.Command { return newWatchCmd(io) }},
	{"scaffold", func(io *IOStreams) *cobra.Command { return newScaffoldCmd(io) }},
}
