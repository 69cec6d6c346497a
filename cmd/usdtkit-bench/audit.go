package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// benchAudit times usdtkit audit on a generated Bitcoin-Core-shaped tree:
// 1,000 C++ files (30 MB) of which 100 call a tracepoint, the tracing doc
// that documents them, and a binary carrying them. grep -rn over the same
// tree is the floor: the cost of merely reading it.
func benchAudit(work string) {
	fmt.Println("\n== audit: docs + 30 MB of source + binary")
	root := filepath.Join(work, "audit-tree")
	bin, size, err := generateTree(root, 1000, 100, 30<<20)
	if err != nil {
		fmt.Printf("  (no generated tree: %v)\n", err)
		return
	}
	fmt.Printf("  tree: 1000 files, %.1f MB, 100 tracepoints\n", float64(size)/(1<<20))
	rs := []result{
		run("usdtkit audit", []string{*usdtkit, "audit", "--docs", filepath.Join(root, "doc/tracing.md"), "--src", filepath.Join(root, "src"), bin}),
		run("usdtkit audit --docs --src", []string{*usdtkit, "audit", "--docs", filepath.Join(root, "doc/tracing.md"), "--src", filepath.Join(root, "src")}),
		run("grep -rn TRACEPOINT (floor)", []string{"grep", "-rn", "TRACEPOINT", filepath.Join(root, "src")}),
	}
	printResults("audit", rs)
	if rs[0].err == nil {
		goalValue("usdtkit audit, docs + 30 MB source + binary", ms(rs[0].median), rs[0].median < time.Second, "< 1 s")
	}
}

// generateTree writes files C++ files under root/src, the first n of which
// call one tracepoint each, root/doc/tracing.md documenting the n
// tracepoints, and a binary built from one file that carries them. It
// returns the binary's path and the source tree's size.
func generateTree(root string, files, n, total int) (string, int, error) {
	if err := os.MkdirAll(filepath.Join(root, "src", "util"), 0o755); err != nil {
		return "", 0, err
	}
	if err := os.MkdirAll(filepath.Join(root, "doc"), 0o755); err != nil {
		return "", 0, err
	}
	traceH := `#ifndef UTIL_TRACE_H
#define UTIL_TRACE_H
#define SDT_USE_VARIADIC
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#define TRACEPOINT_SEMAPHORE(context, event) \
    unsigned short context##_##event##_semaphore __attribute__((section(".probes")))
#define TRACEPOINT_ACTIVE(context, event) (context##_##event##_semaphore > 0)
#define TRACEPOINT(context, event, ...) \
    do { if (TRACEPOINT_ACTIVE(context, event)) { STAP_PROBEV(context, event __VA_OPT__(, ) __VA_ARGS__); } } while (0)
#endif
`
	if err := os.WriteFile(filepath.Join(root, "src/util/trace.h"), []byte(traceH), 0o644); err != nil {
		return "", 0, err
	}
	// Filler: ordinary C++ with comments, strings and nested calls.
	filler := `// A function that does nothing interesting, TRACEPOINT in a comment.
static int helper_%[1]d_%[2]d(const std::vector<std::pair<int, int>>& v, const char* s) {
    int sum = 0; /* a block comment with TRACEPOINT(fake, call) */
    for (const auto& [a, b] : v) { sum += a * b + (s[0] == '"' ? 1 : 0); }
    std::string text = "a string with TRACEPOINT(not, a, call) and \"escapes\"";
    return sum + static_cast<int>(text.size()) + helper_map<std::map<int, int>, int>({1, 2}, {3, 4});
}
`
	per := total / files
	size := 0
	var doc, all strings.Builder
	doc.WriteString("# Tracing\n\n## Tracepoint documentation\n\n### Context `bench`\n\n")
	all.WriteString("#include <util/trace.h>\n#include <cstdint>\n")
	for i := 0; i < files; i++ {
		var b strings.Builder
		b.WriteString("#include <util/trace.h>\n#include <map>\n#include <string>\n#include <vector>\n\n")
		if i < n {
			fmt.Fprintf(&b, "TRACEPOINT_SEMAPHORE(bench, event%d);\n\nvoid fire%d(int64_t id, const std::string& name, uint32_t height) {\n    TRACEPOINT(bench, event%d,\n        id,\n        name.c_str(),\n        height);\n}\n\n", i, i, i)
			fmt.Fprintf(&doc, "#### Tracepoint `bench:event%d`\n\nIs called in the benchmark.\n\nArguments passed:\n1. ID as `int64`\n2. Name as `pointer to C-style String`\n3. Height as `uint32`\n\n", i)
			fmt.Fprintf(&all, "TRACEPOINT_SEMAPHORE(bench, event%d);\n__attribute__((noinline)) void fire%d(int64_t id, const char* name, uint32_t height) { TRACEPOINT(bench, event%d, id, name, height); }\n", i, i, i)
		}
		for j := 0; b.Len() < per; j++ {
			fmt.Fprintf(&b, filler, i, j)
		}
		size += b.Len()
		if err := os.WriteFile(filepath.Join(root, "src", fmt.Sprintf("file%04d.cpp", i)), []byte(b.String()), 0o644); err != nil {
			return "", 0, err
		}
	}
	all.WriteString("int main() { return 0; }\n")
	if err := os.WriteFile(filepath.Join(root, "doc/tracing.md"), []byte(doc.String()), 0o644); err != nil {
		return "", 0, err
	}
	allPath := filepath.Join(root, "all.cpp")
	if err := os.WriteFile(allPath, []byte(all.String()), 0o644); err != nil {
		return "", 0, err
	}
	bin := filepath.Join(root, "benchd")
	if msg, err := exec.Command("g++", "-std=c++20", "-O1", "-I", filepath.Join(root, "src"), "-o", bin, allPath).CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("g++: %v: %s", err, firstLine(msg))
	}
	return bin, size, nil
}
