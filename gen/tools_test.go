package gen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// The tests in this file run the generated scripts in the real tools,
// bpftrace and bcc, against the demo's minid, and check that they print
// the values minid prints itself with --print. They need root, the tools
// and kernel headers: without them they skip, or fail when CI=true.

// TestBPFtraceOnDemo runs the bpftrace script for every demo tracepoint on
// a minid that waits for it, and compares every hit: all of them arrive,
// since bpftrace enables the semaphores when it attaches.
func TestBPFtraceOnDemo(t *testing.T) {
	requireRoot(t)
	bpftrace, err := exec.LookPath("bpftrace")
	if err != nil {
		elftest.Unavailable(t, "bpftrace is not installed (Debian: apt-get install bpftrace)")
	}
	minid := demoMinid(t)
	m := demoModel(t, minid)
	out, err := Generate(BPFtrace, m, Options{Path: minid})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "demo.bt")
	if err := os.WriteFile(script, []byte(out.Text), 0o644); err != nil {
		t.Fatal(err)
	}
	strlen := BPFtraceStrlen
	if mm := regexp.MustCompile(`BPFTRACE_STRLEN=(\d+) bpftrace`).FindStringSubmatch(out.Text); mm != nil {
		strlen, _ = strconv.Atoi(mm[1])
	}
	if strlen <= BPFtraceStrlen {
		t.Fatalf("the demo documents 68-character strings, but the script does not ask for a larger BPFTRACE_STRLEN:\n%s", out.Text)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node := startMinid(t, ctx, minid, "--iterations", "3", "--interval-ms", "0")
	tracer := exec.CommandContext(ctx, bpftrace, "-p", strconv.Itoa(node.cmd.Process.Pid), script)
	tracer.Env = append(os.Environ(), append(kernelHeaderEnv(t), "BPFTRACE_STRLEN="+strconv.Itoa(strlen))...)
	var stdout, stderr bytes.Buffer
	tracer.Stdout, tracer.Stderr = &stdout, &stderr
	if err := tracer.Start(); err != nil {
		t.Fatal(err)
	}
	node.wait(t, &stderr)
	if err := tracer.Wait(); err != nil {
		t.Fatalf("bpftrace: %v\n%s", err, stderr.String())
	}

	want, got := node.hits(t), parseHits(t, stdout.String())
	for _, tp := range m.Tracepoints {
		w, g := want[tp.ID()], got[tp.ID()]
		if len(w) == 0 {
			t.Fatalf("minid did not pass %s", tp.ID())
		}
		// bpftrace 0.23 and older read arg0 to arg5; strings are cut at
		// BPFTRACE_STRLEN-1 characters and buffers at BPFTRACE_STRLEN bytes.
		var expect []string
		for _, h := range w {
			expect = append(expect, bpftraceView(t, tp, h, strlen))
		}
		var seen []string
		for _, h := range g {
			seen = append(seen, normalizeHit(t, tp, h, min(len(tp.Args), BPFtraceMaxArgs)))
		}
		if !sameMultiset(expect, seen) {
			t.Errorf("%s: bpftrace printed\n  %s\nminid passed\n  %s\nstderr:\n%s", tp.ID(), strings.Join(seen, "\n  "), strings.Join(expect, "\n  "), stderr.String())
		}
	}
}

// TestBCCOnDemo runs the bcc script for every demo tracepoint with -p on a
// minid held at its first instruction until the script has attached:
// every hit arrives, in order.
func TestBCCOnDemo(t *testing.T) {
	requireRoot(t)
	python := bccPython(t)
	requireKernelHeaders(t)
	minid := demoMinid(t)
	m := demoModel(t, minid)
	script := writeScript(t, BCC, m, minid)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, resume := startMinidStopped(t, ctx, minid, "--iterations", "3", "--interval-ms", "0")
	tracer := startTracer(t, ctx, python, script, "-p", strconv.Itoa(node.cmd.Process.Pid))
	tracer.waitFor(t, ctx, "Ctrl-C to end")
	resume()
	node.wait(t, &tracer.stderr)
	if err := tracer.wait(); err != nil { // with -p, the script ends with the process
		t.Fatalf("the bcc script: %v\n%s", err, tracer.stderr.String())
	}
	compareAllHits(t, m, node.hits(t), parseHits(t, tracer.stdout.String()), true, true, tracer.stderr.String())
}

// TestTestSkeletonOnDemo imports the generated functional test with
// stand-ins for Bitcoin Core's test framework, loads each tracepoint's
// bcc program the way the test does, on a minid held at its first
// instruction until the programs are attached, and compares what values()
// returns for every hit with what minid passed.
func TestTestSkeletonOnDemo(t *testing.T) {
	requireRoot(t)
	python := bccPython(t)
	requireKernelHeaders(t)
	minid := demoMinid(t)
	// A test loads one program per tracepoint, each compiled on its own:
	// three of them cover every type the demo passes.
	all := demoModel(t, minid)
	m := all.Filter(func(tp *Tracepoint) bool {
		switch tp.ID() {
		case "net:inbound_message", "mempool:replaced", "utxocache:flush":
			return true
		}
		return false
	})
	out, err := Generate(Test, m, Options{Path: minid})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	skeleton, driver := filepath.Join(dir, "interface_usdt_demo.py"), filepath.Join(dir, "driver.py")
	if err := os.WriteFile(skeleton, []byte(out.Text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(driver, []byte(skeletonDriver), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, resume := startMinidStopped(t, ctx, minid, "--iterations", "3", "--interval-ms", "0")
	args := []string{driver, skeleton, strconv.Itoa(node.cmd.Process.Pid)}
	for _, tp := range m.Tracepoints {
		base := m.base(tp)
		args = append(args, tp.ID()+","+base+","+camel(base))
	}
	tracer := startTracer(t, ctx, python, args...)
	tracer.waitFor(t, ctx, "attached")
	resume()
	node.wait(t, &tracer.stderr)
	if err := tracer.wait(); err != nil {
		t.Fatalf("driver: %v\n%s", err, tracer.stderr.String())
	}
	// The test's perf buffers are per CPU: hits arrive in order per CPU only.
	compareAllHits(t, m, node.hits(t), parseHits(t, tracer.stdout.String()), false, false, tracer.stderr.String())
}

// skeletonDriver imports a generated test (argv[1]) without Bitcoin Core's
// test framework, loads the program of each tracepoint given as
// "context:event,STRUCT,Class" the way the test does, attached to process
// argv[2], and prints each hit's values() as "context:event a0=v ...".
const skeletonDriver = `
import ctypes
import importlib.util
import sys
import types

framework = types.ModuleType("test_framework.test_framework")
framework.BitcoinTestFramework = object
util = types.ModuleType("test_framework.util")
util.assert_equal = lambda a, b: None
util.bpf_cflags = lambda: ["-Wno-error=implicit-function-declaration", "-Wno-duplicate-decl-specifier"]
sys.modules["test_framework"] = types.ModuleType("test_framework")
sys.modules["test_framework.test_framework"] = framework
sys.modules["test_framework.util"] = util

spec = importlib.util.spec_from_file_location("skeleton", sys.argv[1])
test = importlib.util.module_from_spec(spec)
spec.loader.exec_module(test)

from bcc import BPF, USDT

pid = int(sys.argv[2])
tracepoints = [arg.split(",") for arg in sys.argv[3:]]
contexts = []
for probe, struct, _ in tracepoints:
    ctx = USDT(pid=pid)
    ctx.enable_probe(probe=probe, fn_name="trace_" + struct)
    contexts.append(ctx)


def printer(probe, structure):
    def handle(_, data, __):
        event = structure.from_buffer_copy(ctypes.string_at(data, ctypes.sizeof(structure)))
        fields = []
        for i, v in enumerate(event.values()):
            if isinstance(v, bool):
                v = int(v)
            elif isinstance(v, bytes):
                v = v.hex()
            elif isinstance(v, str):
                v = '"' + v + '"'
            fields.append(f"a{i}={v}")
        print(probe, *fields, flush=True)
    return handle


bpfs = []
for (probe, struct, cls), ctx in zip(tracepoints, contexts):
    bpf = BPF(text=getattr(test, struct.upper() + "_PROGRAM"), usdt_contexts=[ctx], debug=0, cflags=util.bpf_cflags())
    bpf[struct + "_events"].open_perf_buffer(printer(probe, getattr(test, cls)))
    bpfs.append(bpf)
print("attached", file=sys.stderr, flush=True)


def running():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


while running():
    for bpf in bpfs:
        bpf.perf_buffer_poll(timeout=20)
for bpf in bpfs:
    bpf.perf_buffer_poll(timeout=0)
`

// requireRoot is the project's one gate for tests that need root and BPF:
// it skips with the reason, or fails when CI=true.
func requireRoot(t *testing.T) {
	t.Helper()
	bpftest.Require(t)
}

// bccPython finds a Python 3 that can import bcc: the one in PATH, or
// the system's, where Debian installs python3-bpfcc.
func bccPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import bcc").Run() == nil {
			return path
		}
	}
	elftest.Unavailable(t, "no python3 can import bcc (Debian: apt-get install python3-bpfcc)")
	return ""
}

// requireKernelHeaders skips without the kernel headers bcc compiles with.
func requireKernelHeaders(t *testing.T) {
	t.Helper()
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	if st, err := os.Stat("/lib/modules/" + strings.TrimSpace(string(rel)) + "/build/include/generated"); err == nil && st.IsDir() {
		return
	}
	if isFile("/sys/kernel/kheaders.tar.xz") {
		return
	}
	elftest.Unavailable(t, "bcc needs the kernel headers in /lib/modules/$(uname -r)/build (Debian: apt-get install linux-headers-amd64, then make deps)")
}

var demo struct {
	once sync.Once
	path string
	err  error
}

// demoMinid builds minid from docs/demo once per test process, into a
// directory of the test cache for this checkout (make rebuilds it only when
// its sources change), and returns a copy of it of the test's own. A
// tracer by path enables the semaphores of every process that runs the
// file it attached to, and the kernel refuses a uprobe where one with
// another semaphore offset is (bcc's own attach, which the test skeleton's
// programs use, passes none): tests, of this package, of others or of
// another run, must not trace the same file.
func demoMinid(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"make", "g++"} {
		if _, err := exec.LookPath(tool); err != nil {
			elftest.Unavailable(t, "building the demo needs "+tool)
		}
	}
	if _, err := elftest.SDTInclude(); err != nil {
		elftest.Unavailable(t, err.Error())
	}
	demo.once.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		src, err := filepath.Abs("../docs/demo")
		if err != nil {
			demo.err = err
			return
		}
		dir := filepath.Join(cache, "usdtkit-test", fmt.Sprintf("gen-minid-%x", sha256.Sum256([]byte(src)))[:len("gen-minid-")+16])
		out, err := exec.Command("make", "-C", src, "BUILD="+dir).CombinedOutput()
		if err != nil {
			demo.err = fmt.Errorf("make -C %s BUILD=%s: %v\n%s", src, dir, err, out)
			return
		}
		demo.path = filepath.Join(dir, "minid")
	})
	if demo.err != nil {
		t.Fatal(demo.err)
	}
	return copyOf(t, demo.path)
}

func demoModel(t *testing.T, minid string) *Model {
	t.Helper()
	doc, err := docs.ParseFile("../docs/demo/doc/tracing.md")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := elf.Open(minid)
	if err != nil {
		t.Fatal(err)
	}
	m := join(doc, bin, nil)
	if len(m.Tracepoints) != 10 {
		t.Fatalf("the demo has %d tracepoints, want 10", len(m.Tracepoints))
	}
	for _, tp := range m.Tracepoints {
		if tp.Doc == nil || tp.Probe() == nil {
			t.Fatalf("%s: the demo's doc and binary do not both have it", tp.ID())
		}
	}
	return m
}

type minidRun struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
}

// startMinid starts minid with --print, holding its first iteration back
// until a tracer has enabled its semaphores.
func startMinid(t *testing.T, ctx context.Context, minid string, args ...string) *minidRun {
	t.Helper()
	r := &minidRun{}
	r.cmd = exec.CommandContext(ctx, minid, append(args, "--print", "--wait-for-semaphore", "30000")...)
	r.cmd.Stdout = &r.stdout
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	return r
}

// wait waits for minid to end; exit status 3 means no tracer attached.
func (r *minidRun) wait(t *testing.T, tracerErr fmt.Stringer) {
	t.Helper()
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("minid: %v (status 3: no tracer enabled a semaphore)\ntracer's stderr:\n%s", err, tracerErr.String())
	}
}

func (r *minidRun) hits(t *testing.T) map[string][]hit { return parseHits(t, r.stdout.String()) }

// hit is one line of output: the values after "name=", in order.
type hit []string

// parseHits reads "context:event name=value ..." lines, values quoted or
// not, into the values of each tracepoint's hits. Other lines are skipped.
func parseHits(t *testing.T, out string) map[string][]hit {
	t.Helper()
	hits := map[string][]hit{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	idRe := regexp.MustCompile(`^[a-z_]+:[a-z_]+$`)
	for sc.Scan() {
		line := sc.Text()
		id, rest, _ := strings.Cut(line, " ")
		if !idRe.MatchString(id) {
			continue
		}
		var h hit
		for rest != "" {
			_, v, ok := strings.Cut(rest, "=")
			if !ok {
				t.Fatalf("bad line %q", line)
			}
			if strings.HasPrefix(v, `"`) {
				end := 1
				for end < len(v) && v[end] != '"' {
					if v[end] == '\\' {
						end++
					}
					end++
				}
				if end >= len(v) {
					t.Fatalf("unterminated string in %q", line)
				}
				h = append(h, v[:end+1])
				rest = strings.TrimPrefix(v[end+1:], " ")
				continue
			}
			val, after, _ := strings.Cut(v, " ")
			h = append(h, val)
			rest = after
		}
		hits[id] = append(hits[id], h)
	}
	return hits
}

// minidView is a --print hit's first n values, strings unquoted and bytes
// as lowercase hex.
func minidView(t *testing.T, tp *Tracepoint, h hit, n int) string {
	t.Helper()
	if len(h) != len(tp.Args) {
		t.Fatalf("%s: minid printed %d values, the tracepoint has %d arguments", tp.ID(), len(h), len(tp.Args))
	}
	var parts []string
	for i := range h[:n] {
		v := h[i]
		if tp.Args[i].Type.Kind == docs.CString {
			s, err := strconv.Unquote(v)
			if err != nil {
				t.Fatalf("%s: minid's string %s: %v", tp.ID(), v, err)
			}
			v = s
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, " ")
}

// bpftraceView is what bpftrace prints of a --print hit: strings up to
// BPFTRACE_STRLEN-1 characters, buffers up to BPFTRACE_STRLEN bytes.
func bpftraceView(t *testing.T, tp *Tracepoint, h hit, strlen int) string {
	t.Helper()
	n := min(len(tp.Args), BPFtraceMaxArgs)
	parts := strings.Split(minidView(t, tp, h, n), " ")
	for i := range parts {
		switch tp.Args[i].Type.Kind {
		case docs.CString:
			parts[i] = parts[i][:min(len(parts[i]), strlen-1)]
		case docs.Bytes:
			parts[i] = parts[i][:min(len(parts[i]), 2*strlen)]
		}
	}
	return strings.Join(parts, " ")
}

// normalizeHit is a tool's hit in minidView's form: its quotes dropped
// and bpftrace's \xNN bytes as plain hex.
func normalizeHit(t *testing.T, tp *Tracepoint, h hit, n int) string {
	t.Helper()
	if len(h) != n {
		t.Fatalf("%s: %d values printed, want %d: %q", tp.ID(), len(h), n, h)
	}
	var parts []string
	for i, v := range h {
		switch tp.Args[i].Type.Kind {
		case docs.CString:
			v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		case docs.Bytes:
			v = strings.ReplaceAll(v, `\x`, "")
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, " ")
}

// tail is the last lines of a tool's stderr.
func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

func sameMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		if count[s]--; count[s] < 0 {
			return false
		}
	}
	return true
}

// kernelHeaderEnv points bpftrace and bcc at the kernel headers when
// /lib/modules/$(uname -r)/source does not hold them: Debian splits them
// into linux-headers-*-common (the sources) and linux-headers-*-ARCH (the
// build), and source must link to the first. bpftrace takes the two
// directories in BPFTRACE_KERNEL_SOURCE and BPFTRACE_KERNEL_BUILD; bcc
// takes one, BCC_KERNEL_SOURCE, so it gets a directory of links to both.
func kernelHeaderEnv(t *testing.T) []string {
	t.Helper()
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return nil
	}
	mod := "/lib/modules/" + strings.TrimSpace(string(rel))
	if isFile(mod + "/source/include/linux/kconfig.h") {
		return nil
	}
	build, err := filepath.EvalSymlinks(mod + "/build")
	if err != nil || !isFile(build+"/Makefile") {
		return nil
	}
	mk, _ := os.ReadFile(build + "/Makefile")
	m := regexp.MustCompile(`(?m)^include\s+(\S+)/Makefile\s*$`).FindSubmatch(mk)
	if m == nil || !isFile(string(m[1])+"/include/linux/kconfig.h") {
		return nil
	}
	src := string(m[1])
	t.Logf("%s/source has no include/linux/kconfig.h; using the headers in %s and %s", mod, src, build)
	merged := t.TempDir()
	dirs := []string{"include"}
	arches, _ := filepath.Glob(build + "/arch/*/include")
	for _, a := range arches {
		rel, _ := filepath.Rel(build, a)
		dirs = append(dirs, rel)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(merged, d), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, root := range []string{src, build} {
			entries, _ := os.ReadDir(filepath.Join(root, d))
			for _, e := range entries {
				os.Symlink(filepath.Join(root, d, e.Name()), filepath.Join(merged, d, e.Name()))
			}
		}
	}
	os.Symlink(build+"/Makefile", merged+"/Makefile")
	return []string{"BPFTRACE_KERNEL_SOURCE=" + src, "BPFTRACE_KERNEL_BUILD=" + build, "BCC_KERNEL_SOURCE=" + merged}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// TestScriptsByPath runs the scripts on binaries without semaphores,
// which both tools trace by path, in every process that runs them:
// bpftrace starting the program itself (-c), the bcc script without -p.
// Negative values of every size, constants and a tracepoint with two call
// sites that read different registers are checked; the bcc script also
// reads global variables, in a position-independent executable and in one
// that is not (whose call sites it tells apart by their address).
func TestScriptsByPath(t *testing.T) {
	requireRoot(t)
	// What operands.c passes in iterations 0, 1 and 2.
	want := map[string][]string{}
	for i := 0; i < 3; i++ {
		want["test:regs"] = append(want["test:regs"], fmt.Sprintf("%d -2 -3 -4", -1-i))
		want["test:consts"] = append(want["test:consts"], "7 -9 -1")
		want["test:inl"] = append(want["test:inl"], fmt.Sprintf("%d %d", 3*i, 2*i), fmt.Sprintf("%d %d", 3*i, (i^3*i)+1))
		want["test:globals"] = append(want["test:globals"], fmt.Sprintf("%d -42 -7", 0x1122334455667788))
	}
	model := func(t *testing.T, fixture string, ids ...string) *Model {
		t.Helper()
		bin, err := elf.Open(fixture)
		if err != nil {
			t.Fatal(err)
		}
		return join(nil, bin, nil, ids...)
	}
	check := func(t *testing.T, m *Model, tool, out, stderr string) {
		t.Helper()
		got := parseHits(t, out)
		for _, tp := range m.Tracepoints {
			var seen []string
			for _, h := range got[tp.ID()] {
				seen = append(seen, normalizeHit(t, tp, h, len(tp.Args)))
			}
			if !sameMultiset(want[tp.ID()], seen) {
				t.Errorf("%s: %s printed\n  %s\nwant\n  %s\nstderr:\n%s", tp.ID(), tool, strings.Join(seen, "\n  "), strings.Join(want[tp.ID()], "\n  "), tail(stderr))
			}
		}
	}

	t.Run("bpftrace", func(t *testing.T) {
		bpftrace, err := exec.LookPath("bpftrace")
		if err != nil {
			elftest.Unavailable(t, "bpftrace is not installed (Debian: apt-get install bpftrace)")
		}
		fixture := elftest.Path(t, "x86_64-O2-pie")
		m := model(t, fixture, "test:regs", "test:consts", "test:inl")
		out, err := Generate(BPFtrace, m, Options{Path: fixture})
		if err != nil {
			t.Fatal(err)
		}
		script := filepath.Join(t.TempDir(), "fixture.bt")
		if err := os.WriteFile(script, []byte(out.Text), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bpftrace, "-c", fixture+" 3", script)
		cmd.Env = append(os.Environ(), kernelHeaderEnv(t)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("bpftrace: %v\n%s", err, stderr.String())
		}
		check(t, m, "bpftrace", stdout.String(), stderr.String())
	})

	for _, name := range []string{"x86_64-O2-pie", "x86_64-O2-nopie"} {
		t.Run("bcc/"+name, func(t *testing.T) {
			python := bccPython(t)
			requireKernelHeaders(t)
			// By path, the script sees the hits of every process that runs
			// the file: other packages' tests run these fixtures too.
			fixture := copyOf(t, elftest.Path(t, name))
			m := model(t, fixture, "test:regs", "test:consts", "test:inl", "test:globals")
			script := writeScript(t, BCC, m, fixture)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tracer := startTracer(t, ctx, python, script)
			tracer.waitFor(t, ctx, "Ctrl-C to end")
			if msg, err := exec.CommandContext(ctx, fixture, "3").CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", fixture, err, msg)
			}
			tracer.interrupt(t) // the script prints what is left in the ring buffer
			check(t, m, "the bcc script", tracer.stdout.String(), tracer.stderr.String())
		})
	}
}

// TestBCCByPathOnDemo runs the bcc script without -p, by path, and then
// minid, every tracepoint of which is guarded by a semaphore: the script
// attached with the semaphores' offsets, so the kernel enabled them in the
// process from its start, and every hit arrives, in order.
func TestBCCByPathOnDemo(t *testing.T) {
	requireRoot(t)
	python := bccPython(t)
	requireKernelHeaders(t)
	minid := demoMinid(t)
	m := demoModel(t, minid)
	script := writeScript(t, BCC, m, minid)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tracer := startTracer(t, ctx, python, script)
	tracer.waitFor(t, ctx, "Ctrl-C to end")
	node := startMinid(t, ctx, minid, "--iterations", "3", "--interval-ms", "0")
	node.wait(t, &tracer.stderr)
	tracer.interrupt(t)
	compareAllHits(t, m, node.hits(t), parseHits(t, tracer.stdout.String()), true, true, tracer.stderr.String())
	if left := uprobeEvents(t, filepath.Dir(minid)); len(left) > 0 {
		t.Errorf("the script left uprobe events behind:\n%s", strings.Join(left, "\n"))
	}
}

// TestBCCBesideUsdtkit runs the bcc script with -p on a process that
// usdtkit attach traces too, at the same tracepoint. The kernel takes a
// second uprobe at a call site only with the semaphore offset of the
// first: both tracers see every hit, and the script leaves no uprobe
// event behind.
func TestBCCBesideUsdtkit(t *testing.T) {
	requireRoot(t)
	python := bccPython(t)
	requireKernelHeaders(t)
	usdtkit := buildUsdtkit(t)
	minid := demoMinid(t)
	all := demoModel(t, minid)
	m := all.Filter(func(tp *Tracepoint) bool { return tp.ID() == "validation:block_connected" })
	script := writeScript(t, BCC, m, minid)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, resume := startMinidStopped(t, ctx, minid, "--iterations", "3", "--interval-ms", "0")
	pid := strconv.Itoa(node.cmd.Process.Pid)
	holder := startTracer(t, ctx, usdtkit, "attach", minid, "validation:block_connected", "-p", pid, "--json")
	holder.waitFor(t, ctx, "usdtkit: attached")
	tracer := startTracer(t, ctx, python, script, "-p", pid)
	tracer.waitFor(t, ctx, "Ctrl-C to end")
	resume()
	node.wait(t, &tracer.stderr)
	if err := tracer.wait(); err != nil { // with -p, the script ends with the process
		t.Fatalf("the bcc script: %v\n%s", err, tracer.stderr.String())
	}
	holder.interrupt(t)

	want := node.hits(t)
	compareAllHits(t, m, want, parseHits(t, tracer.stdout.String()), true, true, tracer.stderr.String())
	// usdtkit without --docs reads the hash as its address: compare the
	// other arguments.
	var expect, seen []string
	for _, h := range want["validation:block_connected"] {
		expect = append(expect, strings.Join(h[1:], " "))
	}
	sc := bufio.NewScanner(strings.NewReader(holder.stdout.String()))
	for sc.Scan() {
		var ev struct {
			Tracepoint string
			Args       []struct{ Value json.Number }
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Tracepoint != "validation:block_connected" {
			t.Fatalf("usdtkit printed %q (%v), want events of validation:block_connected", sc.Text(), err)
		}
		var values []string
		for _, a := range ev.Args[min(1, len(ev.Args)):] {
			values = append(values, a.Value.String())
		}
		seen = append(seen, strings.Join(values, " "))
	}
	if strings.Join(expect, "\n") != strings.Join(seen, "\n") {
		t.Errorf("usdtkit printed\n  %s\nminid passed\n  %s\nstderr:\n%s", strings.Join(seen, "\n  "), strings.Join(expect, "\n  "), tail(holder.stderr.String()))
	}
	if left := uprobeEvents(t, filepath.Dir(minid)); len(left) > 0 {
		t.Errorf("the script left uprobe events behind:\n%s", strings.Join(left, "\n"))
	}
}

// TestBCCAttachFailure has the kernel refuse the bcc script's uprobe: one
// without the semaphore's offset is at the call site already, as bcc's own
// attach makes them. The script says where it could not attach and leaves
// no uprobe event behind, although libbcc makes one in uprobe_events when
// it cannot make a perf uprobe.
func TestBCCAttachFailure(t *testing.T) {
	requireRoot(t)
	python := bccPython(t)
	requireKernelHeaders(t)
	minid := demoMinid(t)
	bin, err := elf.Open(minid)
	if err != nil {
		t.Fatal(err)
	}
	m := join(nil, bin, nil, "validation:block_connected")
	site := m.Tracepoints[0].Probe().CallSites[0].FileOffset
	hold := holdUprobe(t, minid, site)
	before := uprobeEvents(t, filepath.Dir(minid))
	if len(before) == 0 {
		t.Fatalf("no uprobe event of %s before the script, want the test's %s", minid, hold)
	}
	for _, l := range before {
		if !strings.Contains(l, hold) {
			t.Fatalf("uprobe events of %s before the script: %q, want only the test's %s", minid, before, hold)
		}
	}

	script := writeScript(t, BCC, m, minid)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Env = append(os.Environ(), kernelHeaderEnv(t)...)
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	wantMsg := fmt.Sprintf("cannot attach validation:block_connected at %s:%#x: Invalid argument (is another tracer attached there without the semaphore's offset, as bcc's own tools attach?)", minid, site)
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 || lines[len(lines)-1] != wantMsg {
		t.Errorf("the script: %v, want exit status 1 and, last, %q; output:\n%s", err, wantMsg, out)
	}
	if after := uprobeEvents(t, filepath.Dir(minid)); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("uprobe events of %s after the script:\n%s\nwant only the test's:\n%s", minid, strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// writeScript generates the program of lang for m with path as its binary
// into a temporary file and returns its path.
func writeScript(t *testing.T, lang Lang, m *Model, path string) string {
	t.Helper()
	out, err := Generate(lang, m, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(script, []byte(out.Text), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// copyOf copies the file at path into a temporary directory of the test.
func copyOf(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// tracerRun is a tracer the test reads while it runs.
type tracerRun struct {
	cmd            *exec.Cmd
	stdout, stderr bpftest.Buffer
	done           chan struct{}
	err            error
}

// startTracer starts name with args, the kernel headers in its
// environment; it is killed if the test ends first.
func startTracer(t *testing.T, ctx context.Context, name string, args ...string) *tracerRun {
	t.Helper()
	r := &tracerRun{cmd: exec.CommandContext(ctx, name, args...), done: make(chan struct{})}
	r.cmd.Env = append(os.Environ(), kernelHeaderEnv(t)...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// waitFor waits until the tracer has written text to stderr, as a tracer
// does once it has attached.
func (r *tracerRun) waitFor(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	for !strings.Contains(r.stderr.String(), text) {
		select {
		case <-r.done:
			t.Fatalf("%s ended (%v) before it wrote %q:\n%s", r.cmd.Path, r.err, text, r.stderr.String())
		case <-ctx.Done():
			t.Fatalf("%s did not write %q:\n%s", r.cmd.Path, text, r.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// wait waits for the tracer to end.
func (r *tracerRun) wait() error {
	<-r.done
	return r.err
}

// interrupt ends the tracer as Ctrl-C does; it must exit with status 0.
func (r *tracerRun) interrupt(t *testing.T) {
	t.Helper()
	r.cmd.Process.Signal(os.Interrupt)
	if err := r.wait(); err != nil {
		t.Fatalf("%s after Ctrl-C: %v\n%s", r.cmd.Path, err, r.stderr.String())
	}
}

// startMinidStopped starts minid as startMinid does, but held (by ptrace)
// right after its execve, before it runs an instruction: tracers attach to
// the process by its PID, and then resume lets it run.
func startMinidStopped(t *testing.T, ctx context.Context, minid string, args ...string) (*minidRun, func()) {
	t.Helper()
	r := &minidRun{}
	r.cmd = exec.CommandContext(ctx, minid, append(args, "--print", "--wait-for-semaphore", "30000")...)
	r.cmd.Stdout = &r.stdout
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true}
	stopped, detach, detached := make(chan error), make(chan bool), make(chan error)
	// ptrace requests come from the thread that started the process.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := r.cmd.Start(); err != nil {
			stopped <- err
			return
		}
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(r.cmd.Process.Pid, &ws, syscall.WALL, nil)
		for errors.Is(err, syscall.EINTR) {
			_, err = syscall.Wait4(r.cmd.Process.Pid, &ws, syscall.WALL, nil)
		}
		if err == nil && !ws.Stopped() {
			err = fmt.Errorf("it ended before it stopped: %v", ws)
		}
		stopped <- err
		if err != nil {
			return
		}
		if <-detach {
			detached <- syscall.PtraceDetach(r.cmd.Process.Pid)
		}
	}()
	if err := <-stopped; err != nil {
		t.Fatalf("start %s: %v", minid, err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			r.cmd.Process.Kill()
			detach <- false
		}
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	return r, func() {
		t.Helper()
		resumed = true
		detach <- true
		if err := <-detached; err != nil {
			t.Fatalf("resume %s: %v", minid, err)
		}
	}
}

// buildUsdtkit builds the usdtkit command into a temporary directory of
// the test.
func buildUsdtkit(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		elftest.Unavailable(t, "no go command to build usdtkit with")
	}
	bin := filepath.Join(t.TempDir(), "usdtkit")
	if msg, err := exec.Command(goTool, "build", "-o", bin, "../cmd/usdtkit").CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/usdtkit: %v\n%s", err, msg)
	}
	return bin
}

// tracefs is where the kernel's tracing files are, "" when it is not
// mounted (then no tracer can leave an event in it either).
func tracefs() string {
	for _, d := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if isFile(d + "/uprobe_events") {
			return d
		}
	}
	return ""
}

// uprobeEvents are the lines of uprobe_events and dynamic_events that
// name a file under dir.
func uprobeEvents(t *testing.T, dir string) []string {
	t.Helper()
	d := tracefs()
	if d == "" {
		return nil
	}
	var lines []string
	for _, name := range []string{"uprobe_events", "dynamic_events"} {
		data, err := os.ReadFile(filepath.Join(d, name))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, dir+"/") {
				lines = append(lines, name+": "+l)
			}
		}
	}
	return lines
}

// holdUprobe makes and enables a uprobe event of its own at offset of the
// file at path, without a semaphore, and returns its name; it is removed
// when the test ends.
func holdUprobe(t *testing.T, path string, offset uint64) string {
	t.Helper()
	d := tracefs()
	if d == "" {
		elftest.Unavailable(t, "tracefs is not mounted (make deps mounts it)")
	}
	name := fmt.Sprintf("usdtkit_gen_test_%d", os.Getpid())
	write := func(file, text string) error {
		f, err := os.OpenFile(filepath.Join(d, file), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if err := write("uprobe_events", fmt.Sprintf("p:uprobes/%s %s:%#x\n", name, path, offset)); err != nil {
		t.Fatalf("make uprobe event %s: %v", name, err)
	}
	t.Cleanup(func() {
		write("events/uprobes/"+name+"/enable", "0\n")
		if err := write("uprobe_events", "-:uprobes/"+name+"\n"); err != nil {
			t.Errorf("remove uprobe event %s: %v", name, err)
		}
	})
	if err := write("events/uprobes/"+name+"/enable", "1\n"); err != nil {
		t.Fatalf("enable uprobe event %s: %v", name, err)
	}
	return name
}
