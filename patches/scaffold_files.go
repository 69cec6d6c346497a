package patches

import (
	"fmt"
	"strings"
)

// ExamplePath is where Bitcoin Core keeps example scripts: the bpftrace
// example for tp, relative to the root of the tree.
func ExamplePath(tp NewTracepoint) string {
	return "contrib/tracing/" + tp.Context + "_" + tp.Event + ".bt"
}

// TestPath is where Bitcoin Core keeps its functional tests: the test
// skeleton for tp, relative to the root of the tree.
func TestPath(tp NewTracepoint) string {
	return "test/functional/interface_usdt_" + tp.Context + "_" + tp.Event + ".py"
}

// bpftraceConv is the printf conversion and the expression bpftrace prints
// argument i with.
func bpftraceConv(a NewArg, i int) (conv, expr string) {
	arg := fmt.Sprintf("arg%d", i)
	switch a.Class {
	case ArgInt:
		return "%ld", arg
	case ArgString:
		return "%s", "str(" + arg + ")"
	case ArgBytes, ArgPointer:
		return "0x%lx", arg
	}
	return "%lu", arg // unsigned, bool, and a float's raw bits
}

// Example returns a bpftrace script that prints every firing of tp in
// binary with all its arguments.
func Example(tp NewTracepoint, binary string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `#!/usr/bin/env bpftrace

/*
  Prints every %[1]s tracepoint with its arguments.

  USAGE:

  bpftrace %[2]s

  The path of the binary is in the probe below; it is relative to the
  directory bpftrace is started in.
*/

BEGIN
{
  printf("Tracing %[1]s... Hit Ctrl-C to end.\n");
}

usdt:%[3]s:%[4]s:%[5]s
{
`, tp.ID(), ExamplePath(tp), binary, tp.Context, tp.Event)
	format := tp.ID()
	var exprs []string
	for i, a := range tp.Args {
		conv, expr := bpftraceConv(a, i)
		format += " " + a.Name + "=" + conv
		exprs = append(exprs, expr)
		if a.Class == ArgFloat {
			fmt.Fprintf(&b, "  // %s is a floating-point number; bpftrace prints its bits.\n", a.Name)
		}
	}
	fmt.Fprintf(&b, "  printf(\"%s\\n\"", format)
	for _, e := range exprs {
		b.WriteString(", " + e)
	}
	b.WriteString(");\n}\n")
	return b.String()
}

// MaxStringLen is the length of the buffer the test skeleton reads a
// string argument into.
const MaxStringLen = 64

// bccField is the C declaration of a's field in the test's event struct
// and the statement that reads it, for argument number n (1-based).
func bccField(a NewArg, n int) (decl, read string) {
	size := a.Size
	if size == 0 {
		size = 8
	}
	typ := fmt.Sprintf("u%d", size*8)
	switch a.Class {
	case ArgInt:
		typ = fmt.Sprintf("s%d", size*8)
	case ArgBool:
		typ = "u8"
	case ArgFloat, ArgBytes, ArgPointer:
		typ = "u64"
	case ArgString:
		return fmt.Sprintf("char %s[MAX_STRING_LENGTH];", a.Name),
			fmt.Sprintf("bpf_usdt_readarg_p(%d, ctx, &event.%s, MAX_STRING_LENGTH);", n, a.Name)
	}
	return fmt.Sprintf("%s %s;", typ, a.Name), fmt.Sprintf("bpf_usdt_readarg(%d, ctx, &event.%s);", n, a.Name)
}

// pyName is tp's event in the CamelCase of a Python class name.
func pyName(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(s, "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// Test returns a functional test skeleton for tp in the form of Bitcoin
// Core's interface_usdt_*.py tests: it attaches a bcc program to the
// tracepoint of the node it starts, collects the events and leaves to a
// person what makes the node fire it and what the values must be. year
// goes in the copyright line.
func Test(tp NewTracepoint, year int) string {
	var decls, reads, checks strings.Builder
	for i, a := range tp.Args {
		d, r := bccField(a, i+1)
		fmt.Fprintf(&decls, "    %s\n", d)
		fmt.Fprintf(&reads, "    %s\n", r)
		if i == 0 {
			checks.WriteString("        for event in events:\n")
		}
		fmt.Fprintf(&checks, "            self.log.info(f\"%s={event.%s}\")  # TODO: assert the expected value\n", a.Name, a.Name)
	}
	class := "USDT" + pyName(tp.Context) + pyName(tp.Event) + "Test"
	var b strings.Builder
	fmt.Fprintf(&b, `#!/usr/bin/env python3
# Copyright (c) %[1]d-present The Bitcoin Core developers
# Distributed under the MIT software license, see the accompanying
# file COPYING or http://www.opensource.org/licenses/mit-license.php.

"""Test the %[2]s tracepoint.

TODO: say what the node does to fire it and what the arguments must be.
"""

# bcc is only needed, and only imported, on Linux with tracing permissions.
try:
    from bcc import BPF, USDT  # type: ignore[import]
except ImportError:
    pass

from test_framework.test_framework import BitcoinTestFramework
from test_framework.util import (
    assert_equal,
    bpf_cflags,
)

BPF_PROGRAM = """
#include <uapi/linux/ptrace.h>

#define MAX_STRING_LENGTH %[3]d

struct %[4]s_event
{
%[5]s};

BPF_PERF_OUTPUT(%[4]s_events);

int trace_%[4]s(struct pt_regs *ctx)
{
    struct %[4]s_event event = {};
%[6]s    %[4]s_events.perf_submit(ctx, &event, sizeof(event));
    return 0;
}
"""


class %[7]s(BitcoinTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def skip_test_if_missing_module(self):
        self.skip_if_platform_not_linux()
        self.skip_if_no_bitcoind_tracepoints()
        self.skip_if_no_python_bcc()
        self.skip_if_no_bpf_permissions()

    def run_test(self):
        node = self.nodes[0]
        self.log.info("attach to %[2]s")
        ctx = USDT(pid=node.process.pid)
        ctx.enable_probe(probe="%[2]s", fn_name="trace_%[4]s")
        bpf = BPF(text=BPF_PROGRAM, usdt_contexts=[ctx], debug=0, cflags=bpf_cflags())

        events = []

        def handle_event(_, data, __):
            events.append(bpf["%[4]s_events"].event(data))

        bpf["%[4]s_events"].open_perf_buffer(handle_event)

        self.log.info("make the node fire %[2]s")
        # TODO: do what fires the tracepoint.
        bpf.perf_buffer_poll(timeout=200)
        bpf.cleanup()

        self.log.info("check the events")
        assert_equal(len(events), 1)  # TODO: the number of firings expected
%[8]s

if __name__ == '__main__':
    %[7]s(__file__).main()
`, year, tp.ID(), MaxStringLen, tp.Context+"_"+tp.Event, decls.String(), reads.String(), class, checks.String())
	return b.String()
}
