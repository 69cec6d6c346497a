package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/usdtkit/usdtkit/elf"
)

// hotProgram has 16 semaphore-guarded tracepoints in Bitcoin Core's style.
// "hot N INTERVAL_NS WAIT" fires bench:hot N times (every INTERVAL_NS, 0
// for a tight loop; after a tracer enabled it when WAIT is 1, and then a
// line on stdin too when 2, for bcc, which enables semaphores before it
// attaches its uprobes) and prints
// the loop's duration in ns. "idle" fires every tracepoint every 100 ms
// until killed.
const hotProgram = `#define SDT_USE_VARIADIC
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define TRACEPOINT_SEMAPHORE(c, e) unsigned short c##_##e##_semaphore __attribute__((section(".probes")))
#define TRACEPOINT(c, e, ...) do { if (c##_##e##_semaphore > 0) STAP_PROBEV(c, e, __VA_ARGS__); } while (0)
TRACEPOINT_SEMAPHORE(bench, hot);
%[1]s
static long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000L + t.tv_nsec; }
__attribute__((noinline)) void others(long i) {
%[2]s}
int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "idle") == 0) {
		for (long i = 0;; i++) { others(i); TRACEPOINT(bench, hot, i, i, i); usleep(100000); }
	}
	long n = atol(argv[2]), interval = atol(argv[3]);
	if (atoi(argv[4])) while (!bench_hot_semaphore) usleep(100);
	if (atoi(argv[4]) == 2) getchar();
	long t0 = now();
	for (long i = 0; i < n; i++) {
		TRACEPOINT(bench, hot, i, i * 2, i * 3);
		if (interval) while (now() < t0 + (i + 1) * interval) {}
	}
	printf("%%ld\n", now() - t0);
	return 0;
}
`

func buildHot(dir string) (string, error) {
	var sems, calls strings.Builder
	for i := 1; i < 16; i++ {
		fmt.Fprintf(&sems, "TRACEPOINT_SEMAPHORE(bench, tp%d);\n", i)
		fmt.Fprintf(&calls, "\tTRACEPOINT(bench, tp%d, i, i + %d);\n", i, i)
	}
	src := filepath.Join(dir, "hot.c")
	if err := os.WriteFile(src, []byte(fmt.Sprintf(hotProgram, sems.String(), calls.String())), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hot")
	if out, err := exec.Command("gcc", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc: %v: %s", err, firstLine(out))
	}
	return bin, nil
}

// buildMany writes and compiles a program with n semaphore-guarded
// tracepoints, one call site each, all fired every 100 ms by "idle".
func buildMany(dir string, n int) (string, error) {
	var src strings.Builder
	src.WriteString("#define _SDT_HAS_SEMAPHORES 1\n#include <sys/sdt.h>\n#include <unistd.h>\n")
	src.WriteString("#define TRACEPOINT_SEMAPHORE(c, e) unsigned short c##_##e##_semaphore __attribute__((section(\".probes\")))\n")
	src.WriteString("#define TRACEPOINT(c, e, a) do { if (c##_##e##_semaphore > 0) STAP_PROBE1(c, e, a); } while (0)\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&src, "TRACEPOINT_SEMAPHORE(many, tp%d);\n", i)
	}
	src.WriteString("__attribute__((noinline)) void fire(long i) {\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&src, "\tTRACEPOINT(many, tp%d, i);\n", i)
	}
	src.WriteString("}\nint main(void) { for (long i = 0;; i++) { fire(i); usleep(100000); } }\n")
	c := filepath.Join(dir, "many.c")
	if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "many")
	if out, err := exec.Command("gcc", "-O1", "-o", bin, c).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc: %v: %s", err, firstLine(out))
	}
	return bin, nil
}

// benchMany times attaching to a program with 600 tracepoints, beside
// bpftrace and the kernel alone.
func benchMany(work string) {
	const n = 600
	fmt.Printf("\n== attach: a binary with %d semaphore-guarded tracepoints\n", n)
	if os.Geteuid() != 0 {
		fmt.Println("  (needs root: skipped)")
		return
	}
	bin, err := buildMany(work, n)
	if err != nil {
		fmt.Printf("  (no benchmark program: %v)\n", err)
		return
	}
	target := []string{bin}
	fmt.Println("  tool                         attached   attached, detached on SIGINT and exited")
	var att, whole []time.Duration
	// bpftrace refuses more than 512 probes unless told, and takes about a
	// minute for 600: it runs once.
	for i, c := range []contender{
		{"usdtkit attach", []string{*usdtkit, "attach", bin, "-p", "PID"}},
		{"bpftrace", []string{"env", "BPFTRACE_MAX_PROBES=1000", "BPFTRACE_MAX_BPF_PROGS=1000", "bpftrace", "-p", "PID", "-e", "usdt:" + bin + ":many:* { @[probe] = count(); }"}},
	} {
		a, w, err := timeToAttachTarget(bin, target, c.argv, max(*slow*(1-i), 1))
		if err != nil {
			fmt.Printf("  %-28s (%v)\n", c.name, err)
			return
		}
		fmt.Printf("  %-28s %-10s %s\n", c.name, ms(a), ms(w))
		att, whole = append(att, a), append(whole, w)
	}
	floorOf(bin, target)
	goal(fmt.Sprintf("bpftrace / usdtkit, %d sites, until attached", n), float64(att[1])/float64(att[0]), true, "report")
	goal(fmt.Sprintf("bpftrace / usdtkit, %d sites, attach+detach", n), float64(whole[1])/float64(whole[0]), true, "report")
}

// settle is how long a target gets to start before a tracer attaches.
var settle = 50 * time.Millisecond

// benchBitcoind times attaching to every tracepoint of a real bitcoind,
// started with -regtest in a scratch data directory, loopback only.
func benchBitcoind(work string) {
	if *bitcoind == "" {
		return
	}
	fmt.Printf("\n== attach: every tracepoint of %s (-regtest)\n", *bitcoind)
	if os.Geteuid() != 0 {
		fmt.Println("  (needs root: skipped)")
		return
	}
	f, err := elf.Open(*bitcoind)
	if err != nil {
		fmt.Printf("  (%v)\n", err)
		return
	}
	data := filepath.Join(work, "regtest")
	os.MkdirAll(data, 0o755)
	target := []string{*bitcoind, "-regtest", "-datadir=" + data, "-listen=0", "-server=0", "-disablewallet", "-connect=0"}
	settle = 3 * time.Second
	defer func() { settle = 50 * time.Millisecond }()
	fmt.Printf("  %d tracepoints, %d call sites\n", len(f.Probes), f.Notes)
	var att, whole []time.Duration
	fmt.Println("  tool                         attached   attached, detached on SIGINT and exited")
	for _, c := range []contender{
		{"usdtkit attach", []string{*usdtkit, "attach", *bitcoind, "-p", "PID"}},
		{"bpftrace", []string{"bpftrace", "-p", "PID", "-e", "usdt:" + *bitcoind + ":*:* { @[probe] = count(); }"}},
	} {
		a, w, err := timeToAttachTarget(*bitcoind, target, c.argv, 3)
		if err != nil {
			fmt.Printf("  %-28s (%v)\n", c.name, err)
			return
		}
		fmt.Printf("  %-28s %-10s %s\n", c.name, ms(a), ms(w))
		att, whole = append(att, a), append(whole, w)
	}
	floorOf(*bitcoind, target)
	r := float64(att[1]) / float64(att[0])
	goal("bpftrace / usdtkit on bitcoind, until attached", r, true, "report")
	r = float64(whole[1]) / float64(whole[0])
	goal("bpftrace / usdtkit on bitcoind, attach+detach", r, r >= 80, ">= 80x")
}

func benchAttach(work string) {
	fmt.Println("\n== attach: a binary with 16 semaphore-guarded tracepoints")
	if os.Geteuid() != 0 {
		fmt.Println("  (needs root: skipped)")
		return
	}
	bin, err := buildHot(work)
	if err != nil {
		fmt.Printf("  (no benchmark program: %v)\n", err)
		return
	}
	// (a) From the tool's start until every semaphore is enabled.
	tools := []contender{
		{"usdtkit attach", []string{*usdtkit, "attach", bin, "-p", "PID"}},
		{"bpftrace", []string{"bpftrace", "-p", "PID", "-e", "usdt:" + bin + ":bench:* { @[probe] = count(); }"}},
	}
	fmt.Println("\n(a) time from start until all 16 tracepoints are attached (semaphores enabled), and until the tool,")
	fmt.Println("    interrupted then, has detached and exited")
	var att, whole []time.Duration
	for _, c := range tools {
		a, w, err := timeToAttach(bin, c.argv, *slow)
		if err != nil {
			fmt.Printf("  %-28s (%v)\n", c.name, err)
			att, whole = append(att, 0), append(whole, 0)
			continue
		}
		fmt.Printf("  %-28s %-10s %s\n", c.name, ms(a), ms(w))
		att, whole = append(att, a), append(whole, w)
	}
	floorOf(bin, []string{bin, "idle"})
	if att[0] > 0 && att[1] > 0 {
		goal("bpftrace / usdtkit, until attached", float64(att[1])/float64(att[0]), true, "report")
		goal("bpftrace / usdtkit, attach+detach", float64(whole[1])/float64(whole[0]), true, "report")
	}

	// (b) Cost per hit of 1,000,000 hits.
	const n = 1000000
	fmt.Printf("\n(b) cost per hit of a loop hitting bench:hot %d times (3 arguments)\n", n)
	type variant struct {
		name string
		argv []string
		out  string // "stdout" or "stderr": where the program's ns line is
	}
	hot := []string{bin, "hot", strconv.Itoa(n), "0"}
	variants := []variant{
		{"not attached", append(append([]string{}, hot...), "0"), "stdout"},
		{"uprobe, empty program (floor)", []string{"bpftrace", "-e", "usdt:" + bin + ":bench:hot { }", "-c", strings.Join(append(hot, "1"), " ")}, "stdout"},
		{"usdtkit attach", append([]string{*usdtkit, "attach", bin, "bench:hot", "--"}, append(hot, "1")...), "stderr"},
		{"usdtkit attach --by tracepoint", append([]string{*usdtkit, "attach", bin, "bench:hot", "--by", "tracepoint", "--"}, append(hot, "1")...), "stderr"},
		{"bpftrace, printf of the 3 args", []string{"bpftrace", "-e", "usdt:" + bin + ":bench:hot { printf(\"%d %d %d\\n\", arg0, arg1, arg2); }", "-c", strings.Join(append(hot, "1"), " ")}, "stdout"},
	}
	per := map[string]float64{}
	for _, v := range variants {
		ns, err := loopNs(v.argv, v.out)
		if err != nil {
			fmt.Printf("  %-34s (%v)\n", v.name, err)
			continue
		}
		per[v.name] = float64(ns) / n
		fmt.Printf("  %-34s %8.1f ns/hit\n", v.name, per[v.name])
	}
	base := per["not attached"]
	u, b, f := per["usdtkit attach"]-base, per["bpftrace, printf of the 3 args"]-base, per["uprobe, empty program (floor)"]-base
	if u > 0 && b > 0 {
		goal("usdtkit / bpftrace, added cost per hit", u/b, u <= b, "<= 1x")
	}
	if u > 0 && f > 0 {
		goal("usdtkit / empty uprobe, added cost per hit", u/f, u/f <= 1.15, "<= 1.15x")
	}

	// (b') Where a hit's time goes: the BPF programs' own run time, from
	// the kernel's statistics (which add a little to every run); the rest
	// of the added cost is the uprobe's trap and the traffic with the
	// reader.
	fmt.Println("\n(b') time the BPF program itself runs per hit (kernel BPF statistics), same loop; --by tracepoint counts")
	fmt.Println("    in a map instead of sending a record: the difference is the ring buffer's share")
	for _, v := range variants[1:] {
		d, hits, err := programTime(v.argv)
		if err != nil {
			fmt.Printf("  %-34s (%v)\n", v.name, err)
			continue
		}
		fmt.Printf("  %-34s %8.1f ns/hit in the program (%d runs); %6.1f ns/hit outside it\n", v.name, float64(d.Nanoseconds()), hits, per[v.name]-base-float64(d.Nanoseconds()))
	}

	// (c) The highest rate delivered to user space with no event lost:
	// one second of hits, paced, each tool writing every event to a file.
	fmt.Println("\n(c) events per second written to a file with zero loss, one second of bench:hot paced at each rate")
	streamers := []streamer{
		{"usdtkit attach --json", func(count, interval int, out string) []string {
			return []string{*usdtkit, "attach", bin, "bench:hot", "--json", "--", bin, "hot", strconv.Itoa(count), strconv.Itoa(interval), "1"}
		}},
		{"bpftrace printf", func(count, interval int, out string) []string {
			return []string{"bpftrace", "-e", "usdt:" + bin + ":bench:hot { printf(\"%d %d %d\\n\", arg0, arg1, arg2); }", "-c", fmt.Sprintf("%s hot %d %d 1", bin, count, interval)}
		}},
		{"bcc perf buffer", func(count, interval int, out string) []string {
			return []string{"/usr/bin/python3", bccScript(work), bin, strconv.Itoa(count), strconv.Itoa(interval)}
		}},
	}
	best := map[string]int{}
	for _, st := range streamers {
		for _, rate := range []int{100000, 200000, 400000, 700000, 1000000, 1200000, 1400000} {
			r, err := st.at(rate, work)
			if err != nil {
				fmt.Printf("  %-22s %8d/s: (%v)\n", st.name, rate, err)
				break
			}
			fmt.Printf("  %-22s %8d/s: %8d written, %7d lost, loop ran at %d/s\n", st.name, rate, r.written, r.lost, r.achieved)
			if r.lost > 0 || r.written < rate {
				break
			}
			got := r.achieved
			if got >= rate*99/100 {
				got = rate // the loop within 1% of the rate asked: that rate
			}
			best[st.name] = max(best[st.name], min(rate, got))
			if r.achieved < rate*9/10 {
				fmt.Printf("  %-22s (the tracer slows the loop below the rate asked)\n", st.name)
				break
			}
		}
	}
	for _, st := range streamers {
		fmt.Printf("  %-22s highest rate with zero loss: %d events/s\n", st.name, best[st.name])
	}
	z := best["usdtkit attach --json"]
	goalValue("usdtkit --json to a file, zero loss", fmt.Sprintf("%d/s", z), z >= 1000000, ">= 1000000/s")
}

// A streamer is a tool that writes every event of bench:hot.
type streamer struct {
	name string
	argv func(count, interval int, out string) []string
}

type streamRun struct{ written, lost, achieved int }

// at runs the streamer over one second of hits at rate, its standard
// output into a file, and reads how many events it wrote and lost and how
// fast the loop really ran (a loop slowed by its tracer is not at rate).
func (st streamer) at(rate int, work string) (streamRun, error) {
	var r streamRun
	argv := st.argv(rate, int(time.Second)/rate, "")
	if _, err := exec.LookPath(argv[0]); err != nil {
		return r, fmt.Errorf("%s not installed", argv[0])
	}
	out, err := os.Create(filepath.Join(work, "stream.out"))
	if err != nil {
		return r, err
	}
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Run(); err != nil {
		return r, fmt.Errorf("%v: %s", err, firstLine([]byte(stderr.String())))
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		return r, err
	}
	var ns int64
	for _, l := range strings.Split(string(data)+stderr.String(), "\n") {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "{") || len(f) == 3 && allInts(f):
			r.written++
		case len(f) == 1:
			if v, err := strconv.ParseInt(f[0], 10, 64); err == nil && v > ns {
				ns = v // the loop's duration, printed by the program
			}
		}
		if _, rest, ok := strings.Cut(l, "usdtkit: "); ok && strings.Contains(rest, "events lost") {
			fmt.Sscanf(rest, "%d events lost", &r.lost)
		}
		if rest, ok := strings.CutPrefix(l, "Lost "); ok { // bpftrace
			var n int
			fmt.Sscanf(rest, "%d events", &n)
			r.lost += n
		}
		if rest, ok := strings.CutPrefix(l, "bcc lost "); ok {
			fmt.Sscanf(rest, "%d", &r.lost)
		}
	}
	if ns == 0 {
		return r, fmt.Errorf("the program printed no duration")
	}
	r.achieved = int(int64(rate) * int64(time.Second) / ns)
	return r, nil
}

func allInts(f []string) bool {
	for _, s := range f {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return false
		}
	}
	return true
}

// bccScript writes the bcc program that streams bench:hot's three
// arguments through a perf buffer as large as usdtkit's ring buffer (4 MiB
// per CPU), one line per event, and prints the events it lost.
func bccScript(work string) string {
	path := filepath.Join(work, "bcc_stream.py")
	os.WriteFile(path, []byte(`import subprocess, sys
from bcc import BPF, USDT
binary, count, interval = sys.argv[1:4]
target = subprocess.Popen([binary, "hot", count, interval, "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
usdt = USDT(pid=target.pid)
usdt.enable_probe("bench:hot", "hot")
bpf = BPF(text="""
#include <uapi/linux/ptrace.h>
struct hit { u64 a, b, c; };
BPF_PERF_OUTPUT(hits);
int hot(struct pt_regs *ctx) {
	struct hit h = {};
	bpf_usdt_readarg(1, ctx, &h.a);
	bpf_usdt_readarg(2, ctx, &h.b);
	bpf_usdt_readarg(3, ctx, &h.c);
	hits.perf_submit(ctx, &h, sizeof(h));
	return 0;
}
""", usdt_contexts=[usdt])
lost = got = 0
out = sys.stdout
def hit(cpu, data, size):
	global got
	got += 1
	h = bpf["hits"].event(data)
	out.write("%d %d %d\n" % (h.a, h.b, h.c))
def dropped(n):
	global lost
	lost += n
bpf["hits"].open_perf_buffer(hit, page_cnt=1024, lost_cb=dropped)
target.stdin.write(b"go\n")  # attached: the loop may start
target.stdin.flush()
while target.poll() is None:
	bpf.perf_buffer_poll(timeout=50)
while True:  # what the buffers still hold
	before = got
	bpf.perf_buffer_poll(timeout=100)
	if got == before:
		break
out.write(target.stdout.read().decode())
sys.stderr.write("bcc lost %d\n" % lost)
`), 0o644)
	return path
}

// floorOf starts the target and prints what the kernel alone takes to
// attach and detach an empty program at every call site of bin in it.
func floorOf(bin string, targetArgv []string) {
	target := exec.Command(targetArgv[0], targetArgv[1:]...)
	if err := target.Start(); err != nil {
		fmt.Printf("  %-28s (%v)\n", "kernel alone", err)
		return
	}
	defer target.Wait()
	defer target.Process.Kill()
	time.Sleep(settle)
	a, d, err := kernelFloor(bin, target.Process.Pid, *slow)
	if err != nil {
		fmt.Printf("  %-28s (%v)\n", "kernel alone", err)
		return
	}
	fmt.Printf("  %-28s %-10s %s: an empty program's uprobe_multi link made (%s) and closed (%s)\n", "kernel alone (floor)", ms(a), ms(a+d), ms(a), ms(d))
}

// timeToAttach starts the idle program, then the tool with its PID, and
// measures until every semaphore of the program reads at least 1, and
// until the tool, interrupted then, has exited.
func timeToAttach(bin string, argv []string, runs int) (attached, whole time.Duration, err error) {
	return timeToAttachTarget(bin, []string{bin, "idle"}, argv, runs)
}

// timeToAttachTarget is timeToAttach for any target command line.
func timeToAttachTarget(bin string, targetArgv, argv []string, runs int) (attached, whole time.Duration, err error) {
	if _, err := exec.LookPath(argv[0]); err != nil {
		return 0, 0, fmt.Errorf("%s not installed", argv[0])
	}
	f, err := elf.Open(bin)
	if err != nil {
		return 0, 0, err
	}
	var atts, wholes []time.Duration
	for r := 0; r < runs; r++ {
		target := exec.Command(targetArgv[0], targetArgv[1:]...)
		if err := target.Start(); err != nil {
			return 0, 0, err
		}
		time.Sleep(settle)
		pid := strconv.Itoa(target.Process.Pid)
		objs, err := elf.ProcessObjects(target.Process.Pid)
		if err != nil || len(objs) == 0 {
			target.Process.Kill()
			target.Wait()
			return 0, 0, fmt.Errorf("read the target's maps: %v", err)
		}
		args := make([]string, len(argv))
		for i, a := range argv {
			args[i] = strings.ReplaceAll(a, "PID", pid)
		}
		tool := exec.Command(args[0], args[1:]...)
		start := time.Now()
		if err := tool.Start(); err != nil {
			target.Process.Kill()
			target.Wait()
			return 0, 0, err
		}
		ok := false
		for time.Since(start) < 5*time.Minute {
			all := true
			for i := range f.Probes {
				if v, err := objs[0].ReadSemaphore(f.Probes[i].Semaphore); err != nil || v == 0 {
					all = false
					break
				}
			}
			if all {
				ok = true
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		att := time.Since(start)
		stopTool(tool)
		w := time.Since(start)
		target.Process.Kill()
		target.Wait()
		if !ok {
			return 0, 0, fmt.Errorf("not attached after 5 minutes")
		}
		atts, wholes = append(atts, att), append(wholes, w)
	}
	return median(atts), median(wholes), nil
}

// stopTool interrupts a tracer until it exits. usdtkit gets one SIGINT,
// as a person's Ctrl-C (a second one makes it exit at once, without its
// summary); bpftrace ignores a SIGINT that comes while it is still
// attaching, so it gets one every 2 ms until it has gone.
func stopTool(tool *exec.Cmd) {
	done := make(chan struct{})
	go func() { tool.Wait(); close(done) }()
	again := 2 * time.Millisecond
	if tool.Path == *usdtkit {
		again = 30 * time.Second
	}
	for i := 0; i < 5000; i++ {
		tool.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
			return
		case <-time.After(again):
		}
	}
	tool.Process.Kill()
	<-done
}

// loopNs runs argv and returns the loop duration the program printed.
func loopNs(argv []string, where string) (int64, error) {
	if _, err := exec.LookPath(argv[0]); err != nil {
		return 0, fmt.Errorf("%s not installed", argv[0])
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v: %s", err, firstLine([]byte(stderr.String())))
	}
	text := stdout.String()
	if where == "stderr" {
		text = stderr.String()
	}
	var ns []int64
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if v, err := strconv.ParseInt(strings.TrimSpace(sc.Text()), 10, 64); err == nil {
			ns = append(ns, v)
		}
	}
	if len(ns) == 0 {
		return 0, fmt.Errorf("the program printed no duration")
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] > ns[j] })
	return ns[0], nil // the largest number printed: the loop's ns, not an argument value
}
