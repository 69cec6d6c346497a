package bpf

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// fixture is a test program built from testdata/ with gcc.
type fixture struct {
	name  string
	srcs  []string // in testdata/
	flags []string
	lib   string // a fixture to link against, by name
}

var fixtures = map[string]fixture{
	"operands-O2-pie":   {srcs: []string{"operands.c"}, flags: []string{"-O2", "-fPIE", "-pie"}},
	"operands-O2-nopie": {srcs: []string{"operands.c"}, flags: []string{"-O2", "-fno-pie", "-no-pie"}},
	"operands-O0-pie":   {srcs: []string{"operands.c"}, flags: []string{"-O0", "-fPIE", "-pie"}},
	"operands-O0-nopie": {srcs: []string{"operands.c"}, flags: []string{"-O0", "-fno-pie", "-no-pie"}},
	"operands-i386":     {srcs: []string{"operands.c"}, flags: []string{"-m32", "-O2", "-fPIE", "-pie"}},
	"handwritten":       {srcs: []string{"handwritten.c"}, flags: []string{"-O1", "-fPIE", "-pie"}},
	"semaphores":        {srcs: []string{"semaphores.c"}, flags: []string{"-O2", "-fPIE", "-pie"}},
	"libtp.so":          {srcs: []string{"lib.c", "libguard.c"}, flags: []string{"-O2", "-fPIC", "-shared"}},
	"libmain":           {srcs: []string{"libmain.c"}, flags: []string{"-O2"}, lib: "libtp.so"},
}

var (
	buildDir  string
	buildMu   sync.Mutex
	buildDone = map[string]string{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "usdtkit-bpf-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles the named fixture once per test process and returns its
// path. A missing compiler or sys/sdt.h skips the test, or fails it when
// CI=true.
func build(t testing.TB, name string) string {
	t.Helper()
	fx, ok := fixtures[name]
	if !ok {
		t.Fatalf("no fixture %q", name)
	}
	var libPath string
	if fx.lib != "" {
		libPath = build(t, fx.lib)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildDone[name]; ok {
		return p
	}
	var srcs []string
	for _, s := range fx.srcs {
		srcs = append(srcs, filepath.Join("testdata", s))
	}
	out := gcc(t, name, srcs, fx.flags, libPath)
	buildDone[name] = out
	return out
}

// gcc compiles srcs into buildDir/name.
func gcc(t testing.TB, name string, srcs, flags []string, libPath string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		elftest.Unavailable(t, "fixtures need gcc")
	}
	inc, err := elftest.SDTInclude()
	if err != nil {
		elftest.Unavailable(t, err.Error())
	}
	out := filepath.Join(buildDir, name)
	args := []string{"-g", "-I", inc}
	args = append(args, flags...)
	args = append(args, "-o", out)
	args = append(args, srcs...)
	if libPath != "" {
		args = append(args, libPath, "-Wl,-rpath,"+filepath.Dir(libPath))
	}
	if msg, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		if bytes.Contains(msg, []byte("-m32")) || bytes.Contains(msg, []byte("gnu/stubs-32.h")) {
			elftest.Unavailable(t, "no 32-bit toolchain: "+string(msg))
		}
		t.Fatalf("build %s: %v\n%s", name, err, msg)
	}
	return out
}

func openELF(t testing.TB, path string) *elf.File {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// run is one traced run of a fixture.
type run struct {
	events []Event
	stdout string
	stderr string
	stats  Stats
	mode   Mode
	faults bool
	attach time.Duration // how long Attach took
}

// trace starts bin stopped, attaches opts (with PID set to the child's)
// to it, lets it run to its end and collects every event.
func trace(t *testing.T, bin string, args []string, opts Options) run {
	t.Helper()
	bpftest.Require(t)
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	st, err := StartStopped(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	opts.PID = st.PID()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	sess, err := Attach(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var r run
	r.attach = time.Since(start)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sess.Events() {
			r.events = append(r.events, ev)
		}
	}()
	if err := st.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, stderr.Bytes())
	}
	if err := sess.Detach(); err != nil {
		t.Fatal(err)
	}
	<-done
	r.stats = sess.Stats()
	r.mode, r.faults = sess.Mode(), sess.FaultsIn()
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	return r
}

// token formats a value as the fixtures print it.
func token(v Value) string {
	var errno syscall.Errno
	switch {
	case errors.As(v.Err, &errno):
		return "ERR:" + errnoName(errno)
	case v.Err != nil:
		return "ERR"
	case v.Read == ReadString:
		s := v.Str
		if v.Truncated {
			s += "..."
		}
		return s
	case v.Read == ReadBytes:
		s := hex.EncodeToString(v.Bytes)
		if v.Truncated {
			s += "..."
		}
		return s
	case v.Float:
		if v.Size == 4 {
			return strconv.FormatUint(v.Raw&0xffffffff, 10)
		}
		return strconv.FormatUint(v.Raw, 10)
	case v.Signed:
		return strconv.FormatInt(v.Int(), 10)
	}
	return strconv.FormatUint(v.Raw, 10)
}

// unreadableByDesign reports whether no uprobe can read a's operand.
func unreadableByDesign(a elf.Arg) bool {
	r := a.Loc.Reg
	return a.Loc.Kind == elf.LocTLS || r.Vector || a.Err != nil || (a.Loc.Kind == elf.LocRegister && r.Size < a.Size)
}

// compare checks that the events are, in order, the hits the fixture
// printed, value for value. Arguments no uprobe can read must carry an
// ErrUnreadable error instead.
func compare(t *testing.T, f *elf.File, r run) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.stdout == "" {
		lines = nil
	}
	if len(r.events) != len(lines) {
		t.Errorf("%d events, the program printed %d hits", len(r.events), len(lines))
	}
	specs := map[string]*elf.Probe{}
	for i := range f.Probes {
		specs[f.Probes[i].ID()] = &f.Probes[i]
	}
	bad := 0
	for i := 0; i < min(len(lines), len(r.events)); i++ {
		want := strings.Split(lines[i], "\t")
		ev := r.events[i]
		if !strings.HasSuffix(ev.Probe, ":"+want[0]) {
			t.Errorf("event %d is %s, the program printed %s", i, ev.Probe, want[0])
			bad++
			continue
		}
		cs := specs[ev.Probe].CallSites[ev.CallSite]
		if len(ev.Args) != len(want)-1 {
			t.Errorf("event %d %s: %d args, printed %d", i, ev.Probe, len(ev.Args), len(want)-1)
			bad++
			continue
		}
		for j, v := range ev.Args {
			a := cs.Args[j]
			if unreadableByDesign(a) {
				if !errors.Is(v.Err, ErrUnreadable) {
					t.Errorf("event %d %s arg%d %s: got %v, want an ErrUnreadable error", i, ev.Probe, j, a.Raw, v)
					bad++
				}
				continue
			}
			if got := token(v); got != want[j+1] {
				t.Errorf("event %d %s site %d arg%d %s: got %s (%v), printed %s", i, ev.Probe, ev.CallSite, j, a.Raw, got, v.Err, want[j+1])
				bad++
			}
		}
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
}
