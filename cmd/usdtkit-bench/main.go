// Command usdtkit-bench measures usdtkit side by side with readelf, bpftrace
// and bcc on the same inputs in one run, and prints the ratios. It is what
// `make bench` runs; timings come from here, never from tests.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

var (
	usdtkit     = flag.String("usdtkit", ".build/usdtkit", "the usdtkit binary to measure")
	runs        = flag.Int("runs", 21, "runs per fast command (median reported)")
	slow        = flag.Int("slow-runs", 5, "runs per command that takes over 50 ms")
	startupRuns = flag.Int("startup-runs", 200, "runs per command in the startup section (minimum and median reported)")
	only        = flag.String("only", "", "run one section: startup, list, audit, attach, many, aggregate, export or watch")
	bitcoind    = flag.String("bitcoind", "", "a bitcoind built with -DWITH_USDT=ON: also time attaching to all its tracepoints")
)

func main() {
	flag.Parse()
	if _, err := os.Stat(*usdtkit); err != nil {
		fatalf("no usdtkit binary at %s: run make build", *usdtkit)
	}
	abs, err := filepath.Abs(*usdtkit)
	if err != nil {
		fatalf("%v", err)
	}
	*usdtkit = abs
	work, err := os.MkdirTemp("", "usdtkit-bench")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(work)
	for _, s := range []struct {
		name string
		run  func(string)
	}{{"startup", benchStartup}, {"list", benchList}, {"audit", benchAudit}, {"attach", benchAttach}, {"many", benchMany}, {"attach", benchBitcoind}, {"aggregate", benchAggregate}, {"export", benchExport}, {"watch", benchWatch}} {
		if *only == "" || *only == s.name {
			s.run(work)
		}
	}
	fmt.Println("\n== goals, as measured above")
	for _, g := range goals {
		fmt.Println(g)
	}
}

// A command to time; skipped with a reason when its tool is missing.
type contender struct {
	name string
	argv []string
}

type result struct {
	name   string
	median time.Duration // wall time
	cpu    time.Duration // user+system time of the process, median
	err    error
}

// run times argv repeatedly, output discarded, and returns the medians of
// wall and CPU time. CPU time (user+system) is steadier than wall time on a
// shared machine; both are printed.
func run(name string, argv []string) result {
	r := result{name: name}
	if _, err := exec.LookPath(argv[0]); err != nil {
		r.err = fmt.Errorf("%s not installed", argv[0])
		return r
	}
	once := func() (time.Duration, time.Duration, error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		el := time.Since(start)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, firstLine(out))
		}
		return el, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
	}
	first, _, err := once() // warm the page cache
	if err != nil {
		r.err = err
		return r
	}
	n := *runs
	if first > 50*time.Millisecond {
		n = *slow
	}
	var walls, cpus []time.Duration
	for i := 0; i < n; i++ {
		w, c, err := once()
		if err != nil {
			r.err = err
			return r
		}
		walls, cpus = append(walls, w), append(cpus, c)
	}
	r.median, r.cpu = median(walls), median(cpus)
	return r
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func printResults(title string, rs []result) {
	fmt.Printf("\n%s\n", title)
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	base := rs[0].median
	fmt.Fprintln(w, "  command\twall (median)\tvs usdtkit\tcpu (median)")
	for _, r := range rs {
		if r.err != nil {
			fmt.Fprintf(w, "  %s\t-\t\t(%v)\n", r.name, r.err)
			continue
		}
		fmt.Fprintf(w, "  %s\t%s\t%.2fx\t%s\n", r.name, ms(r.median), float64(r.median)/float64(base), ms(r.cpu))
	}
	w.Flush()
}

// goal prints one measured ratio against its goal.
func goal(what string, ratio float64, ok bool, want string) {
	goalValue(what, fmt.Sprintf("%6.2fx", ratio), ok, want)
}

// goalValue prints one measured value against its goal.
func goalValue(what, value string, ok bool, want string) {
	verdict := "met"
	if !ok {
		verdict = "NOT met"
	}
	if want == "report" {
		verdict = "measured"
	}
	line := fmt.Sprintf("  %-50s %9s  (goal %s: %s)", what, value, want, verdict)
	fmt.Println(line)
	goals = append(goals, line)
}

// goals are the goal lines printed, repeated together at the end.
var goals []string

func fatalf(format string, v ...any) {
	fmt.Fprintf(os.Stderr, "usdtkit-bench: "+format+"\n", v...)
	os.Exit(1)
}
