package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// initBudget is the most a package of the module may allocate at init, in
// every run of every command. A sync.OnceValue costs 2 or 3 allocations
// and under 100 bytes there; compiling the smallest regular expression
// costs about 20 allocations and 2 KB, parsing a template hundreds. So a
// budget over what the package's sentinel errors and OnceValues need shows
// any table, regexp or template built at init: build such things on first
// use instead, and raise a budget only for a value that every command needs
// at start.
type initBudget struct{ allocs, bytes int }

var initBudgets = map[string]initBudget{
	"main":                    {16, 1024},
	module + "/docs":          {40, 1536},
	module + "/elf":           {12, 512},
	module + "/bpf":           {16, 768},
	module + "/patches":       {8, 512},
	module + "/docs/audit":    {8, 512},
	module + "/docs/contract": {16, 768}, // its OnceValues
}

// defaultInitBudget is for a package of the module without an entry.
var defaultInitBudget = initBudget{8, 512}

// notLinked are packages the usdtkit binary must not contain because
// their init does work that most commands do not need.
var notLinked = map[string]string{
	// probes the kernel with RLIMIT_MEMLOCK lowered and a BPF map at init;
	// bpf/memlock.go does that on the first Attach instead
	"github.com/cilium/ebpf/rlimit": "its init creates a BPF map",
}

var initLine = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, (\d+) bytes, (\d+) allocs$`)

type initCost struct {
	clock         float64 // ms
	bytes, allocs int
}

// parseInittrace reads the lines GODEBUG=inittrace=1 prints, one per
// package with init work.
func parseInittrace(out string) map[string]initCost {
	costs := map[string]initCost{}
	for _, l := range strings.Split(out, "\n") {
		m := initLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		clock, _ := strconv.ParseFloat(m[2], 64)
		bytes, _ := strconv.Atoi(m[3])
		allocs, _ := strconv.Atoi(m[4])
		costs[m[1]] = initCost{clock, bytes, allocs}
	}
	return costs
}

// TestInitAllocations builds usdtkit as make build does and checks, from
// GODEBUG=inittrace=1, that no package of the module allocates more at
// init than its budget. Allocation counts do not depend on the machine's
// speed; times are never asserted (cmd/usdtkit-bench prints them).
func TestInitAllocations(t *testing.T) {
	cmd := exec.Command(buildUsdtkit(t), "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("usdtkit --version: %v\n%s", err, out)
	}
	costs := parseInittrace(string(out))
	if _, ok := costs["runtime"]; !ok {
		t.Fatalf("no inittrace line for the runtime in:\n%s", out)
	}
	for pkg, c := range costs {
		if pkg != "main" && pkg != module && !strings.HasPrefix(pkg, module+"/") {
			continue
		}
		b, ok := initBudgets[pkg]
		if !ok {
			b = defaultInitBudget
		}
		if c.allocs > b.allocs || c.bytes > b.bytes {
			t.Errorf("%s allocates %d times, %d bytes at init; its budget is %d, %d bytes: build what it makes there on first use",
				pkg, c.allocs, c.bytes, b.allocs, b.bytes)
		}
	}
}

// TestNotLinked checks that the binary leaves out packages whose init
// does work that most commands do not need.
func TestNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	for _, d := range deps {
		if why, ok := notLinked[d]; ok {
			t.Errorf("usdtkit links %s: %s at every start", d, why)
		}
	}
}

func TestParseInittrace(t *testing.T) {
	costs := parseInittrace(`init internal/bytealg @0.003 ms, 0 ms clock, 0 bytes, 0 allocs
init github.com/usdtkit/usdtkit/gen @5.0 ms, 0.32 ms clock, 133048 bytes, 1496 allocs
usdtkit version dev
init main @5.3 ms, 0.025 ms clock, 15920 bytes, 140 allocs
`)
	want := map[string]initCost{
		"internal/bytealg": {0, 0, 0},
		module + "/gen":    {0.32, 133048, 1496},
		"main":             {0.025, 15920, 140},
	}
	if fmt.Sprint(costs) != fmt.Sprint(want) {
		t.Errorf("parseInittrace = %v, want %v", costs, want)
	}
}

// buildUsdtkit builds the binary as make build does, into a temporary
// directory.
func buildUsdtkit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "usdtkit")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
