package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/gen"
)

type scaffoldOptions struct {
	IO *IOStreams
	gen.Scaffold
}

func newScaffoldCmd(io *IOStreams) *cobra.Command {
	opts := &scaffoldOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "scaffold CONTEXT:EVENT --at FILE:LINE [--arg 'TYPE NAME = EXPR']...",
		Short: "Print the patch that adds a new tracepoint to a source tree",
		Long: `Print a unified diff, for git apply, that adds the tracepoint CONTEXT:EVENT
to a source tree in Bitcoin Core's layout, in the style of the tree's own
src/util/trace.h (TRACEPOINT with semaphores, TRACEPOINT, or TRACEn):

  FILE                 TRACEPOINT_SEMAPHORE(context, event) next to the file's
                       other semaphores (or after its includes) when the tree
                       has semaphores, #include <util/trace.h> when missing,
                       and the TRACEPOINT(context, event, EXPR...) call (or
                       TRACEn for n arguments) before LINE
  doc/tracing.md       an entry in the context's section (a new section if
                       needed), descriptions marked TODO
  contrib/tracing/     CONTEXT_EVENT.bt, a bpftrace script that prints every
                       argument (what usdtkit gen --lang bpftrace writes),
                       attached to the binary where the tree builds it
  test/functional/     interface_usdt_CONTEXT_EVENT.py, a test skeleton that
                       uses only what the tree's test framework has
                       (what usdtkit gen --lang test writes)

Each --arg is one argument, in order: its type (int8...int64, uint8...uint64,
bool, or a C spelling such as size_t, const char* or unsigned char*), a name
for it in the doc, script and test, and the C++ expression passed.
Paths in the patch are relative to --root; FILE is too, and must be in it.

Exit status: 0 when the patch is printed, 2 on bad input (unknown type, line
out of range, missing file, bad CONTEXT:EVENT).`,
		Example: `  usdtkit scaffold net:closed_connection --at src/net.cpp:120 \
      --arg 'int64 peer_id = node.GetId()' \
      --arg 'const char* addr = node.m_addr_name.c_str()' | git apply`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.DocsGiven = cmd.Flags().Changed("docs")
			if opts.At == "" {
				return usagef("scaffold needs --at FILE:LINE, the line the call goes before")
			}
			return runScaffold(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.At, "at", "", "FILE:LINE: the call is inserted before this line, with its indentation")
	f.StringArrayVar(&opts.Args, "arg", nil, "an argument as 'TYPE NAME = EXPR' (repeat, in order)")
	f.StringVar(&opts.Root, "root", ".", "the root of the source tree; paths in the patch are relative to it")
	f.StringVar(&opts.Docs, "docs", "doc/tracing.md", "the tracing doc, relative to --root; \"\" leaves it alone")
	f.StringVar(&opts.Binary, "binary", "", "the binary the bpftrace example attaches to (default: where the tree's configure.ac or CMakeLists.txt builds bitcoind)")
	f.BoolVar(&opts.NoFiles, "no-files", false, "leave out the bpftrace example and the test skeleton")
	return cmd
}

func runScaffold(ctx context.Context, opts *scaffoldOptions) error {
	patch, notes, err := opts.Patch()
	if err != nil {
		return &usageError{err}
	}
	for _, n := range notes {
		fmt.Fprintf(opts.IO.ErrOut, "usdtkit: scaffold: %s\n", n)
	}
	if _, err := opts.IO.Out.Write([]byte(patch.String())); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "usdtkit: scaffold: %s in %d file%s; fill in the TODOs\n", opts.ID, len(patch), plural(len(patch)))
	return nil
}
