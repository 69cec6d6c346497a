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
	}
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetIn(io.In)
	root.AddCommand(newListCmd(io, nil))
	root.AddCommand(newAuditCmd(io, nil))
	root.AddCommand(newGenCmd(io, nil))
	root.AddCommand(newAttachCmd(io, nil))
	root.AddCommand(newVerifyCmd(io, nil))
	root.AddCommand(newWatchCmd(io, nil))
	root.AddCommand(newScaffoldCmd(io, nil))
	return root
}
