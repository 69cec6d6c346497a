package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchList compares usdtkit list with readelf -n, tplist-bpfcc -l and
// bpftrace -l on the largest binary with notes on the machine, on the
// -bitcoind binary and on a generated program with 2,000 call sites.
func benchList(work string) {
	fmt.Println("== list: the same binaries, read by each tool")
	var inputs []string
	if jvm, _ := filepath.Glob("/usr/lib/jvm/*/lib/server/libjvm.so"); len(jvm) > 0 {
		inputs = append(inputs, jvm[0])
	} else {
		fmt.Println("  (no libjvm.so: install openjdk-17-jre-headless)")
	}
	if *bitcoind != "" {
		inputs = append(inputs, *bitcoind)
	}
	if p, err := generateSites(work, 2000); err == nil {
		inputs = append(inputs, p)
	} else {
		fmt.Printf("  (no generated fixture: %v)\n", err)
	}
	for _, in := range inputs {
		notes := countNotes(in)
		rs := []result{}
		for _, c := range []contender{
			{"usdtkit list", []string{*usdtkit, "list", in}},
			{"usdtkit list --json", []string{*usdtkit, "list", "--json", in}},
			{"readelf -n", []string{"readelf", "-n", in}},
			{"tplist-bpfcc -l", []string{"tplist-bpfcc", "-l", in}},
			{"bpftrace -l", []string{"bpftrace", "-l", "usdt:" + in + ":*"}},
		} {
			rs = append(rs, run(c.name, c.argv))
		}
		printResults(fmt.Sprintf("%s (%d notes)", in, notes), rs)
		if rs[0].err != nil {
			continue
		}
		if rs[2].err == nil {
			r := float64(rs[0].median) / float64(rs[2].median)
			goal("usdtkit list / readelf -n", r, r <= 1.5, "<= 1.5x")
		}
		if rs[4].err == nil {
			r := float64(rs[4].median) / float64(rs[0].median)
			goal("bpftrace -l / usdtkit list (speed-up)", r, r >= 10, ">= 10x")
		}
		if rs[3].err == nil {
			r := float64(rs[3].median) / float64(rs[0].median)
			goal("tplist-bpfcc -l / usdtkit list (speed-up)", r, true, "report")
		}
	}
}

// generateSites compiles a C program with n call sites: n/10 tracepoints,
// each inlined at 10 places with two arguments.
func generateSites(dir string, n int) (string, error) {
	var b strings.Builder
	b.WriteString("#include <sys/sdt.h>\nvolatile long sink;\n")
	tps := n / 10
	for i := 0; i < tps; i++ {
		fmt.Fprintf(&b, "static inline __attribute__((always_inline)) void tp%d(long a, long b) { DTRACE_PROBE2(bench, tp%d, a, b); }\n", i, i)
	}
	for s := 0; s < 10; s++ {
		fmt.Fprintf(&b, "__attribute__((noinline)) void site%d(long x) {\n", s)
		for i := 0; i < tps; i++ {
			fmt.Fprintf(&b, "  tp%d(x + %d, sink);\n", i, s)
		}
		b.WriteString("}\n")
	}
	b.WriteString("int main(void) {\n")
	for s := 0; s < 10; s++ {
		fmt.Fprintf(&b, "  site%d(%d);\n", s, s)
	}
	b.WriteString("  return 0;\n}\n")
	src := filepath.Join(dir, "sites.c")
	if err := os.WriteFile(src, []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, fmt.Sprintf("sites%d", n))
	if msg, err := exec.Command("gcc", "-O2", "-o", out, src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc: %v: %s", err, firstLine(msg))
	}
	return out, nil
}

func countNotes(path string) int {
	out, err := exec.Command("readelf", "-n", path).Output()
	if err != nil {
		return 0
	}
	return strings.Count(string(out), "NT_STAPSDT")
}
