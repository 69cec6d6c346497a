package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/usdtkit/usdtkit/elf"
)

// aggProgram fires bench:agg with (i % 64, i) N times in a tight loop,
// once START exists, and prints the loop's duration in ns: "agg N START".
// The probe has no semaphore, so every tracer can attach to it by path.
const aggProgram = `#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000L + t.tv_nsec; }
int main(int argc, char **argv) {
	long n = atol(argv[2]);
	while (access(argv[3], F_OK) != 0) usleep(1000);
	long t0 = now();
	for (long i = 0; i < n; i++) DTRACE_PROBE2(bench, agg, i & 63, i);
	printf("%ld\n", now() - t0);
	return 0;
}
`

// benchAggregate times counting in the kernel: the cost per hit of
// usdtkit attach --by arg0 over 64 keys beside bpftrace's
// @[arg0] = count(), bcc's argdist -C and the empty uprobe, on one loop.
func benchAggregate(work string) {
	fmt.Println("\n== aggregate: counting 1,000,000 hits over 64 keys in the kernel")
	if os.Geteuid() != 0 {
		fmt.Println("  (needs root: skipped)")
		return
	}
	src := filepath.Join(work, "agg.c")
	bin := filepath.Join(work, "agg")
	if err := os.WriteFile(src, []byte(aggProgram), 0o644); err != nil {
		fmt.Printf("  (%v)\n", err)
		return
	}
	if out, err := exec.Command("gcc", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		fmt.Printf("  (gcc: %v: %s)\n", err, firstLine(out))
		return
	}
	f, err := elf.Open(bin)
	if err != nil || len(f.Probes) != 1 {
		fmt.Printf("  (%v)\n", err)
		return
	}
	site := f.Probes[0].CallSites[0].Address
	const n = 1000000
	tracers := []contender{
		{"not attached", nil},
		{"uprobe, empty program (floor)", []string{"bpftrace", "-e", "usdt:" + bin + ":bench:agg { }"}},
		{"usdtkit attach --by arg0", []string{*usdtkit, "attach", bin, "bench:agg", "--by", "arg0", "--json"}},
		{"bpftrace @[arg0] = count()", []string{"bpftrace", "-e", "usdt:" + bin + ":bench:agg { @[arg0] = count(); }"}},
		{"bcc argdist -C", []string{"argdist-bpfcc", "-C", "u:" + bin + ":agg():u64:arg1", "-i", "60"}},
	}
	per := map[string]float64{}
	for _, c := range tracers {
		var best time.Duration
		var out string
		for r := 0; r < max(*slow, 3); r++ {
			d, o, err := aggRun(work, bin, site, n, c.argv)
			if err != nil {
				fmt.Printf("  %-34s (%v)\n", c.name, err)
				best = 0
				break
			}
			if best == 0 || d < best {
				best = d
			}
			out = o
		}
		if best == 0 {
			continue
		}
		per[c.name] = float64(best) / n
		fmt.Printf("  %-34s %8.1f ns/hit", c.name, per[c.name])
		if c.name == "usdtkit attach --by arg0" {
			counted := countedHits(out)
			fmt.Printf("   (%d hits counted, %.0f hits/s)", counted, float64(n)/best.Seconds())
			if counted != n {
				fmt.Printf("  MISSING %d", n-counted)
			}
		}
		fmt.Println()
	}
	base := per["not attached"]
	u, b, fl := per["usdtkit attach --by arg0"]-base, per["bpftrace @[arg0] = count()"]-base, per["uprobe, empty program (floor)"]-base
	if u > 0 && b > 0 {
		goal("usdtkit / bpftrace, added cost per hit", u/b, u <= b, "<= 1x")
	}
	if u > 0 && fl > 0 {
		goal("usdtkit / empty uprobe, added cost per hit", u/fl, u/fl <= 1.3, "<= 1.3x")
	}
}

// aggRun starts the loop, then the tracer (none for a nil argv), waits
// until the call site holds a breakpoint (the uprobe is in), lets the
// loop run and returns its duration and what the tracer printed.
func aggRun(work, bin string, site uint64, n int, argv []string) (time.Duration, string, error) {
	start := filepath.Join(work, "agg.start")
	os.Remove(start)
	prog := exec.Command(bin, "agg", strconv.Itoa(n), start)
	var progOut bytes.Buffer
	prog.Stdout = &progOut
	if err := prog.Start(); err != nil {
		return 0, "", err
	}
	defer prog.Process.Kill()
	var tool *exec.Cmd
	var toolOut bytes.Buffer
	if argv != nil {
		if _, err := exec.LookPath(argv[0]); err != nil {
			return 0, "", fmt.Errorf("%s not installed", argv[0])
		}
		tool = exec.Command(argv[0], argv[1:]...)
		tool.Stdout = &toolOut
		if err := tool.Start(); err != nil {
			return 0, "", err
		}
		defer tool.Process.Kill()
		if err := waitBreakpoint(prog.Process.Pid, bin, site, 60*time.Second); err != nil {
			return 0, "", err
		}
	}
	if err := os.WriteFile(start, nil, 0o644); err != nil {
		return 0, "", err
	}
	if err := prog.Wait(); err != nil {
		return 0, "", err
	}
	if tool != nil {
		stopTool(tool)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(progOut.String()), 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("the loop printed %q", progOut.String())
	}
	return time.Duration(ns), toolOut.String(), nil
}

// waitBreakpoint waits until the instruction at a call site of the
// process reads int3: a uprobe is installed there.
func waitBreakpoint(pid int, bin string, site uint64, timeout time.Duration) error {
	objs, err := elf.ProcessObjects(pid)
	if err != nil || len(objs) == 0 {
		return fmt.Errorf("read the loop's maps: %v", err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return err
	}
	defer mem.Close()
	var load uint64
	for _, m := range objs[0].Mappings {
		if m.Offset == 0 {
			load = m.Start
			break
		}
	}
	addr := int64(load + site)
	if f, err := elf.Open(bin); err == nil && f.Type == 2 { // ET_EXEC: absolute addresses
		addr = int64(site)
	}
	deadline := time.Now().Add(timeout)
	var b [1]byte
	for time.Now().Before(deadline) {
		if _, err := mem.ReadAt(b[:], addr); err == nil && b[0] == 0xcc {
			return nil
		}
		time.Sleep(200 * time.Microsecond)
	}
	return fmt.Errorf("no uprobe at the call site after %s", timeout)
}

// countedHits sums the counts of usdtkit's final JSON snapshot.
func countedHits(out string) int {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var snap struct {
		Rows []struct{ Count int }
	}
	if json.Unmarshal([]byte(lines[len(lines)-1]), &snap) != nil {
		return -1
	}
	total := 0
	for _, r := range snap.Rows {
		total += r.Count
	}
	return total
}
