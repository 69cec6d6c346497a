package bpf

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
)

// manySites writes a program with sites call sites spread over
// tracepoints tracepoints, each printing its values as operands.c does.
func manySites(t *testing.T, sites, tracepoints int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("#include <sys/sdt.h>\n#include <stdio.h>\n#include <stdlib.h>\n")
	for i := 0; i < sites; i++ {
		fmt.Fprintf(&b, "__attribute__((noinline)) void f%d(long x) { DTRACE_PROBE3(many, tp%d, x, %d, x * %d); printf(\"tp%d\\t%%ld\\t%d\\t%%ld\\n\", x, x * %d); }\n",
			i, i%tracepoints, i, i+1, i%tracepoints, i, i+1)
	}
	b.WriteString("int main(int argc, char **argv) {\n\tlong n = argc > 1 ? atol(argv[1]) : 1;\n\tfor (long i = 0; i < n; i++) {\n")
	for i := 0; i < sites; i++ {
		fmt.Fprintf(&b, "\t\tf%d(i - %d);\n", i, i)
	}
	b.WriteString("\t}\n\tfflush(stdout);\n\treturn 0;\n}\n")
	name := fmt.Sprintf("many-%d-%d", sites, tracepoints)
	src := filepath.Join(buildDir, name+".c")
	if err := os.WriteFile(src, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return gcc(t, name, []string{src}, []string{"-O2"}, "")
}

// TestManySites attaches files with as many call sites as the largest
// SDT users (libjvm has 531), in every mode.
func TestManySites(t *testing.T) {
	for _, tc := range []struct {
		sites, tracepoints int
		modes              []Mode
	}{
		{16, 16, []Mode{ModeUprobeMulti, ModeUprobe, ModeProgramPerSite}},
		// Detaching a perf-event uprobe takes about 0.1 s: ModeUprobe is
		// tested with 16 call sites only.
		{600, 150, []Mode{ModeUprobeMulti}},
	} {
		bin := manySites(t, tc.sites, tc.tracepoints)
		f := openELF(t, bin)
		for _, mode := range tc.modes {
			t.Run(fmt.Sprintf("%d/%v", tc.sites, mode), func(t *testing.T) {
				r := trace(t, bin, []string{"2"}, Options{File: f, Mode: mode})
				compare(t, f, r)
				if len(r.events) != 2*tc.sites {
					t.Errorf("%d events, want %d", len(r.events), 2*tc.sites)
				}
				t.Logf("%d call sites of %d tracepoints, %v: attached in %v", tc.sites, tc.tracepoints, mode, r.attach)
			})
		}
	}
}

// TestLostEvents runs many hits through a one-page ring buffer: every hit
// is either delivered or counted as lost.
func TestLostEvents(t *testing.T) {
	bin := build(t, "operands-O2-pie")
	f := openELF(t, bin)
	r := trace(t, bin, []string{"3000"}, Options{File: f, RingSize: 1, Reads: operandReads})
	var hits uint64
	for _, tp := range r.stats.Tracepoints {
		hits += tp.Hits
	}
	if hits != 3000*15 || hits != uint64(len(r.events))+r.stats.Lost {
		t.Errorf("%d hits, %d events, %d lost", hits, len(r.events), r.stats.Lost)
	}
	t.Logf("%d hits, %d events, %d lost", hits, len(r.events), r.stats.Lost)
}

// linkFDs counts this process's open BPF links and perf events: the
// uprobes it holds (other processes' tests may attach at the same time).
func linkFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && (target == "anon_inode:bpf_link" || target == "anon_inode:[perf_event]") {
			n++
		}
	}
	return n
}

// TestWarmLeavesNothing attaches more call sites than one program holds,
// which makes attach register a throwaway uprobe first (warmUprobes), and
// checks that once the session is closed no uprobe of it, the throwaway
// one included, is left.
func TestWarmLeavesNothing(t *testing.T) {
	bpftest.Require(t)
	// No collection, so no finalizer closes a link that was left open.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	bin := manySites(t, 600, 150)
	f := openELF(t, bin)
	before := linkFDs(t)
	sess, err := Attach(context.Background(), Options{File: f, Mode: ModeUprobeMulti})
	if err != nil {
		t.Fatal(err)
	}
	if n := linkFDs(t); n <= before {
		t.Fatalf("%d links attached, %d before", n, before)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); linkFDs(t) != before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d links open 10 s after Close, %d before", linkFDs(t), before)
		}
	}
}
