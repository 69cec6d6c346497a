package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd(io *IOStreams) *cobra.Command {
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
	root.AddCommand(
		newListCmd(io),
		newAuditCmd(io),
		newGenCmd(io, nil),
		newAttachCmd(io),
		newVerifyCmd(io),
		newWatchCmd(io),
		newScaffoldCmd(io),
	)
	return root
}
