package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// benchStartup shows what a run of usdtkit costs before it does its job:
// the init time of each package, from GODEBUG=inittrace=1, and usdtkit
// --version and usdtkit list --json beside readelf -n on the same files,
// with a Go program that does nothing as the floor of any Go binary.
func benchStartup(work string) {
	fmt.Println("\n== startup: package init, usdtkit --version, usdtkit list --json beside readelf -n")
	printInitTimes()
	version := []string{*usdtkit, "--version"}
	if empty, err := buildEmpty(work); err == nil {
		printStartup("start-up alone", timeStartup([]contender{{"empty Go program (floor)", []string{empty}}, {"usdtkit --version", version}}))
	} else {
		fmt.Printf("  (no empty Go program: %v)\n", err)
	}
	for _, f := range startupFiles() {
		rs := timeStartup([]contender{
			{"readelf -n", []string{"readelf", "-n", f}},
			{"usdtkit list --json", []string{*usdtkit, "list", "--json", f}},
			{"usdtkit --version", version},
		})
		printStartup(f, rs)
		if rs[0].err == nil && rs[1].err == nil {
			goal("usdtkit list --json / readelf -n (median)", rs[1].ratio, rs[1].ratio <= 1.5, "<= 1.5x")
		}
	}
}

// startupFiles are the inputs: the demo target, libstdc++, libjvm and the
// -bitcoind binary, those that exist.
func startupFiles() []string {
	var files []string
	if _, err := os.Stat("docs/demo/build/minid"); err == nil {
		files = append(files, "docs/demo/build/minid")
	} else {
		fmt.Println("  (no docs/demo/build/minid: run make -C docs/demo)")
	}
	for _, pattern := range []string{"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/jvm/*/lib/server/libjvm.so"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			files = append(files, m[0])
		}
	}
	if *bitcoind != "" {
		files = append(files, *bitcoind)
	}
	return files
}

type startupResult struct {
	name        string
	min, median time.Duration // wall time
	ratio       float64       // median of the ratios to the first command's run beside it
	cpu         time.Duration // user+system time, median
	faults      int64         // page faults (minor and major), median: the pages start-up touches
	err         error
}

// timeStartup runs the commands in turn, -startup-runs times each, output
// discarded, after one round that warms the page cache. Each result has
// the minimum and the median wall time and the median of its ratios to
// the first command run just before it: run side by side, a ratio stays
// meaningful when a shared machine's speed drifts, and the minimum is the
// steadier of the two times.
func timeStartup(cs []contender) []startupResult {
	rs := make([]startupResult, len(cs))
	walls := make([][]time.Duration, len(cs))
	cpus := make([][]time.Duration, len(cs))
	faults := make([][]int64, len(cs))
	for i, c := range cs {
		rs[i].name = c.name
		if _, err := exec.LookPath(c.argv[0]); err != nil {
			rs[i].err = fmt.Errorf("%s not installed", c.argv[0])
		}
	}
	for round := 0; round <= *startupRuns; round++ {
		for i, c := range cs {
			if rs[i].err != nil {
				continue
			}
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			el := time.Since(start)
			if err != nil {
				rs[i].err = fmt.Errorf("%s: %v: %s", strings.Join(c.argv, " "), err, firstLine(out))
				continue
			}
			if round > 0 {
				walls[i] = append(walls[i], el)
				cpus[i] = append(cpus[i], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					faults[i] = append(faults[i], ru.Minflt+ru.Majflt)
				}
			}
		}
	}
	for i := range rs {
		if rs[i].err != nil || len(walls[i]) == 0 {
			continue
		}
		if rs[0].err == nil && len(walls[0]) == len(walls[i]) {
			ratios := make([]float64, len(walls[i]))
			for k := range ratios {
				ratios[k] = float64(walls[i][k]) / float64(walls[0][k])
			}
			sort.Float64s(ratios)
			rs[i].ratio = ratios[len(ratios)/2]
		}
		w := slices.Clone(walls[i])
		slices.Sort(w)
		rs[i].min, rs[i].median = w[0], w[len(w)/2]
		rs[i].cpu = median(cpus[i])
		if f := faults[i]; len(f) > 0 {
			slices.Sort(f)
			rs[i].faults = f[len(f)/2]
		}
	}
	return rs
}

// printStartup prints the results with each one's ratios to the first.
func printStartup(title string, rs []startupResult) {
	fmt.Printf("\n%s\n", title)
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	base := rs[0]
	fmt.Fprintf(w, "  command\tmin\tmedian\tcpu\tpage faults\tvs %s: of the minima, median of the pairs\n", base.name)
	for _, r := range rs {
		switch {
		case r.err != nil:
			fmt.Fprintf(w, "  %s\t-\t-\t-\t-\t(%v)\n", r.name, r.err)
		case base.err != nil:
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%d\t\n", r.name, ms(r.min), ms(r.median), ms(r.cpu), r.faults)
		default:
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%d\t%.2fx, %.2fx\n", r.name, ms(r.min), ms(r.median), ms(r.cpu), r.faults, float64(r.min)/float64(base.min), r.ratio)
		}
	}
	w.Flush()
}

var initLine = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, (\d+) bytes, (\d+) allocs$`)

type initTime struct {
	pkg           string
	clock         []float64 // ms, one per run
	bytes, allocs int
}

// printInitTimes runs usdtkit --version with GODEBUG=inittrace=1 and
// prints, per package, the fastest of the runs' init clocks, with the
// allocations: every package of the module, and the others that take
// 0.005 ms or more.
func printInitTimes() {
	pkgs := map[string]*initTime{}
	n := max(*startupRuns/4, 10)
	for i := 0; i < n; i++ {
		cmd := exec.Command(*usdtkit, "--version")
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			fmt.Printf("  (inittrace: %v: %s)\n", err, firstLine(out))
			return
		}
		for _, l := range strings.Split(string(out), "\n") {
			m := initLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			p := pkgs[m[1]]
			if p == nil {
				p = &initTime{pkg: m[1]}
				pkgs[m[1]] = p
			}
			c, _ := strconv.ParseFloat(m[2], 64)
			p.clock = append(p.clock, c)
			p.bytes, _ = strconv.Atoi(m[3])
			p.allocs, _ = strconv.Atoi(m[4])
		}
	}
	var list []*initTime
	total := 0.0
	for _, p := range pkgs {
		sort.Float64s(p.clock)
		total += p.clock[0]
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].clock[0] != list[j].clock[0] {
			return list[i].clock[0] > list[j].clock[0]
		}
		return list[i].pkg < list[j].pkg
	})
	fmt.Printf("\npackage init of usdtkit --version (GODEBUG=inittrace=1, fastest of %d runs)\n", n)
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  package\tinit (min)\tmedian\tbytes\tallocs")
	for _, p := range list {
		ours := p.pkg == "main" || strings.HasPrefix(p.pkg, "github.com/usdtkit/usdtkit")
		if !ours && p.clock[0] < 0.005 {
			continue
		}
		fmt.Fprintf(w, "  %s\t%.3f ms\t%.3f ms\t%d\t%d\n", p.pkg, p.clock[0], p.clock[len(p.clock)/2], p.bytes, p.allocs)
	}
	fmt.Fprintf(w, "  all %d packages with init work\t%.3f ms\t\t\t\n", len(list), total)
	w.Flush()
}

// buildEmpty builds a Go program whose main does nothing, statically like
// usdtkit: the start-up floor of any Go binary on this machine.
func buildEmpty(work string) (string, error) {
	dir := filepath.Join(work, "empty")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module empty\n"), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "empty")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, firstLine(msg))
	}
	return bin, nil
}
