package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return out.String(), errOut.String(), code
}

func TestExitCodes(t *testing.T) {
	sema := elftest.Path(t, "semaphores")
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"list", sema}, 0},
		{[]string{"list", "/bin/true"}, 0},
		{[]string{"list", sema, "nomatch:*"}, 0},
		{[]string{"list"}, 2},
		{[]string{"list", "--bogus", sema}, 2},
		{[]string{"list", sema, "[x"}, 2},
		{[]string{"list", "-p", "-3"}, 2},
		{[]string{"bogus"}, 2},
		{[]string{"list", "/etc/passwd"}, 1},
		{[]string{"list", "/nonexistent"}, 1},
		{[]string{"list", "/tmp"}, 1},
		{[]string{"list", "-p", "999999999"}, 1},
		{[]string{"--version"}, 0},
	}
	for _, tt := range tests {
		_, stderr, code := runCmd(t, tt.args...)
		if code != tt.code {
			t.Errorf("usdtkit %s: exit %d, want %d (stderr %q)", strings.Join(tt.args, " "), code, tt.code, stderr)
		}
		if code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("usdtkit %s: error is not one line: %q", strings.Join(tt.args, " "), stderr)
		}
	}
}

// The JSON schema: every documented field present, [] never null.
func TestListJSONSchema(t *testing.T) {
	out, _, code := runCmd(t, "list", "--json", elftest.Path(t, "semaphores"), elftest.Path(t, "x86_64-O2-pie"))
	if code != 0 {
		t.Fatal(code)
	}
	var tps []map[string]any
	if err := json.Unmarshal([]byte(out), &tps); err != nil {
		t.Fatal(err)
	}
	if len(tps) != 15 {
		t.Fatalf("%d tracepoints, want 15", len(tps))
	}
	for _, tp := range tps {
		for _, k := range []string{"file", "provider", "name", "semaphore", "call_sites", "warnings"} {
			if _, ok := tp[k]; !ok {
				t.Errorf("%v: no %q", tp["name"], k)
			}
		}
		if tp["warnings"] == nil || tp["call_sites"] == nil {
			t.Errorf("%v: null list", tp["name"])
		}
		if s, ok := tp["semaphore"].(map[string]any); ok {
			if s["address"] == nil || s["file_offset"] == nil {
				t.Errorf("%v: semaphore %v", tp["name"], s)
			}
		}
		for _, c := range tp["call_sites"].([]any) {
			cs := c.(map[string]any)
			for _, k := range []string{"location", "base", "address", "file_offset", "args_raw", "args", "error"} {
				if _, ok := cs[k]; !ok {
					t.Errorf("%v: call site without %q", tp["name"], k)
				}
			}
			if cs["args"] == nil {
				t.Errorf("%v: null args", tp["name"])
			}
			for _, a := range cs["args"].([]any) {
				arg := a.(map[string]any)
				for _, k := range []string{"index", "raw", "type", "size", "signed", "float", "location", "error"} {
					if _, ok := arg[k]; !ok {
						t.Errorf("%v: arg without %q", tp["name"], k)
					}
				}
			}
		}
	}
	// One decoded argument in full.
	var typed []elf.ProbeJSON
	json.Unmarshal([]byte(out), &typed)
	for _, tp := range typed {
		if tp.Name != "globals" {
			continue
		}
		a := tp.CallSites[0].Args[0]
		if a.Type != "int64" || a.Location.Kind != "memory" || a.Location.Symbol == nil || *a.Location.Symbol != "glob64" || a.Location.SymbolAddress == nil || !a.Location.Absolute {
			t.Errorf("test:globals arg0 = %+v %+v", a, a.Location)
		}
		nm, err := exec.Command("nm", elftest.Path(t, "x86_64-O2-pie")).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(nm), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[2] == "glob64" {
				if want, _ := strconv.ParseUint(f[0], 16, 64); want != *a.Location.SymbolAddress {
					t.Errorf("glob64 resolved to %#x, nm says %s", *a.Location.SymbolAddress, f[0])
				}
			}
		}
	}
}

// list -p shows the process's files with notes and each semaphore's value,
// which goes 0, 1, 0 while an independent tracer (bpftrace) attaches.
func TestListProcess(t *testing.T) {
	// Debian's interpreter carries notes; a python3.11 elsewhere on PATH may not.
	python := "/usr/bin/python3.11"
	if _, err := os.Stat(python); err != nil {
		elftest.Unavailable(t, "python3.11 not installed")
	}
	cmd := exec.Command(python, "-c", "import time; time.sleep(60)")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	time.Sleep(200 * time.Millisecond)
	value := func() int {
		t.Helper()
		out, stderr, code := runCmd(t, "list", "--json", "-p", itoa(pid), "python:function__entry")
		if code != 0 {
			t.Fatalf("list -p: exit %d: %s", code, stderr)
		}
		var tps []elf.ProbeJSON
		if err := json.Unmarshal([]byte(out), &tps); err != nil || len(tps) != 1 {
			t.Fatalf("list -p: %v: %s", err, out)
		}
		s := tps[0].Semaphore
		if s == nil || s.Value == nil {
			t.Fatalf("no semaphore value: %+v", s)
		}
		if !strings.HasSuffix(tps[0].File, "python3.11") {
			t.Errorf("file %q", tps[0].File)
		}
		return int(*s.Value)
	}
	if v := value(); v != 0 {
		t.Fatalf("semaphore %d before tracing", v)
	}
	if os.Geteuid() != 0 {
		elftest.Unavailable(t, "needs root to attach bpftrace")
	}
	if _, err := exec.LookPath("bpftrace"); err != nil {
		elftest.Unavailable(t, "bpftrace not installed")
	}
	bt := exec.Command("bpftrace", "-p", itoa(pid), "-e", "usdt:"+python+":python:function__entry { }")
	stdout, _ := bt.StdoutPipe()
	bt.Stderr = bt.Stdout
	if err := bt.Start(); err != nil {
		t.Fatal(err)
	}
	defer bt.Process.Kill()
	sc := bufio.NewScanner(stdout)
	attached := make(chan bool)
	go func() {
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Attaching") {
				attached <- true
			}
		}
	}()
	select {
	case <-attached:
	case <-time.After(30 * time.Second):
		t.Fatal("bpftrace did not attach")
	}
	time.Sleep(300 * time.Millisecond)
	if v := value(); v != 1 {
		t.Errorf("semaphore %d while bpftrace is attached, want 1", v)
	}
	bt.Process.Signal(os.Interrupt)
	bt.Wait()
	if v := value(); v != 0 {
		t.Errorf("semaphore %d after bpftrace exited, want 0", v)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// maxWrite is an io.Writer that keeps what it is given and the largest
// single write.
type maxWrite struct {
	bytes.Buffer
	largest int
}

func (w *maxWrite) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	return w.Buffer.Write(p)
}

func (w *maxWrite) WriteString(s string) (int, error) {
	w.largest = max(w.largest, len(s))
	return w.Buffer.WriteString(s)
}

// list writes its rows and its JSON as it makes them: a tracepoint with
// many call sites, or many tracepoints, are never held as text whole.
func TestListWritesAsItGoes(t *testing.T) {
	const n = 50_000
	notes := make([]elftest.Note, 2*n)
	for i := range n {
		notes[i] = elftest.Note{Provider: "p", Name: "wide", PC: elftest.TextAddr, Args: "8@%rdi -4@%esi"}
		notes[n+i] = elftest.Note{Provider: "p", Name: "n" + itoa(i), PC: elftest.TextAddr}
	}
	img, _ := elftest.Build(elftest.Spec{Notes: notes})
	path := filepath.Join(t.TempDir(), "many")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list", "--json", path}, {"list", "-v", path}} {
		var out maxWrite
		var errOut bytes.Buffer
		if code := run(context.Background(), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args); code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		if lines := strings.Count(out.String(), "\n"); lines < n+1 {
			t.Errorf("%s: %d lines", strings.Join(args, " "), lines)
		}
		if out.largest > 64<<10 {
			t.Errorf("%s: %d bytes of output in one write", strings.Join(args, " "), out.largest)
		}
	}
}

// Control characters in a file's strings are escaped in every table cell:
// they cannot drive the terminal or break the one-row-per-tracepoint form.
func TestListEscapes(t *testing.T) {
	img, _ := elftest.Build(elftest.Spec{Notes: []elftest.Note{
		{Provider: "evil\x1b]0;owned\x07", Name: "a\nb\tc\r", PC: elftest.TextAddr, Args: "8@%rdi"},
		{Provider: "p", Name: "bad\xff\u202eutf8", PC: elftest.TextAddr, Args: "8@\x1b[2J"},
	}})
	path := filepath.Join(t.TempDir(), "evil")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{`evil\x1b]0;owned\a:a\nb\tc\r`, `p:bad\xff\u202eutf8`}
	for _, terminal := range []bool{false, true} {
		var out, errOut bytes.Buffer
		streams := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, IsTerminal: terminal}
		if code := run(context.Background(), streams, []string{"list", "-v", path}); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		text := out.String()
		for _, c := range text {
			if (c < 0x20 && c != '\n' && (terminal || c != '\t')) || c == 0x7f || c == 0x202e || c == utf8.RuneError {
				t.Errorf("terminal %v: %q reached the output:\n%s", terminal, c, text)
				break
			}
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("terminal %v: no %s in\n%s", terminal, w, text)
			}
		}
		if !strings.Contains(text, `8@\x1b[2J`) {
			t.Errorf("terminal %v: the spec is not escaped in\n%s", terminal, text)
		}
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		rows := 4 // two tracepoints, a call site each
		if terminal {
			rows++ // the header
		}
		if len(lines) != rows {
			t.Errorf("terminal %v: %d lines, want %d:\n%s", terminal, len(lines), rows, text)
		}
		if !terminal {
			for _, l := range lines {
				if n := strings.Count(l, "\t"); n != 3 {
					t.Errorf("row of %d cells: %q", n+1, l)
				}
			}
		}
	}
}

// A semaphore counts the traced call sites: attaching to the demo's
// mempool:removed, which has two call sites, shows 2, and a second tracer
// on the same call sites leaves it at 2.
func TestListSemaphoreCountsCallSites(t *testing.T) {
	bpftest.Require(t)
	bin, _ := demo(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	var removed *elf.Probe
	for i := range f.Probes {
		if f.Probes[i].ID() == "mempool:removed" {
			removed = &f.Probes[i]
		}
	}
	if removed == nil || len(removed.CallSites) != 2 || removed.Semaphore == nil {
		t.Fatalf("the demo's mempool:removed: %+v; want two call sites and a semaphore", removed)
	}
	cmd := exec.Command(bin, "--interval-ms", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	pid := itoa(cmd.Process.Pid)
	values := func() map[string]int {
		t.Helper()
		out, stderr, code := runCmd(t, "list", "--json", "-p", pid, "mempool:*")
		if code != 0 {
			t.Fatalf("list -p: exit %d: %s", code, stderr)
		}
		var tps []elf.ProbeJSON
		if err := json.Unmarshal([]byte(out), &tps); err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, tp := range tps {
			if tp.Semaphore == nil || tp.Semaphore.Value == nil {
				t.Fatalf("%s: no semaphore value: %s", tp.Name, out)
			}
			m[tp.Name] = int(*tp.Semaphore.Value)
		}
		return m
	}
	if v := values(); v["removed"] != 0 || v["added"] != 0 {
		t.Fatalf("semaphores before attaching: %v", v)
	}
	sess, err := bpf.Attach(context.Background(), bpf.Options{File: f, Probes: []elf.Probe{*removed}, PID: cmd.Process.Pid})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if v := values(); v["removed"] != 2 || v["added"] != 0 {
		t.Errorf("semaphores with one session on mempool:removed: %v; want removed 2 (one per call site), added 0", v)
	}
	if out, _, _ := runCmd(t, "list", "-p", pid, "mempool:removed"); !strings.Contains(out, fmt.Sprintf("%#x = 2", removed.Semaphore.Address)) {
		t.Errorf("list -p: %q; want the semaphore shown as 2", out)
	}
	second, err := bpf.Attach(context.Background(), bpf.Options{File: f, Probes: []elf.Probe{*removed}, PID: cmd.Process.Pid})
	if err != nil {
		t.Fatal(err)
	}
	if v := values(); v["removed"] != 2 {
		t.Errorf("semaphores with two sessions on mempool:removed: %v; want removed 2: the tracers share the uprobes", v)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	if v := values(); v["removed"] != 0 {
		t.Errorf("semaphores after detaching: %v", v)
	}
}

// list -p run by the process's owner, without CAP_SYS_ADMIN, reads the
// files through /proc/PID/root: when a rebuild renamed another file over
// the executable, it says so and lists no tracepoint of the other file.
func TestListProcessReplaced(t *testing.T) {
	if os.Geteuid() != 0 {
		elftest.Unavailable(t, "needs root to run a process and usdtkit as nobody")
	}
	bin, _ := demo(t)
	other := elftest.Path(t, "semaphores")
	dir, err := os.MkdirTemp("", "usdtkit-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	self, _ := os.Executable()
	usdtkit, minid := filepath.Join(dir, "usdtkit"), filepath.Join(dir, "minid")
	// install copies a file into place as a build does: by a rename.
	install := func(from, to string) {
		t.Helper()
		data, err := os.ReadFile(from)
		if err == nil {
			err = os.WriteFile(to+".new", data, 0o755)
		}
		if err == nil {
			err = os.Rename(to+".new", to)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	install(self, usdtkit)
	install(bin, minid)
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	proc := exec.Command(minid, "--interval-ms", "100")
	proc.SysProcAttr = nobody
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	defer proc.Wait()
	defer proc.Process.Kill()
	list := func() (stdout, stderr string) {
		t.Helper()
		var out, errOut bytes.Buffer
		cmd := exec.Command(usdtkit, "list", "-p", itoa(proc.Process.Pid))
		cmd.SysProcAttr, cmd.Stdout, cmd.Stderr = nobody, &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("list -p as nobody: %v: %s", err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	// map_files is closed to nobody: this goes through /proc/PID/root.
	out, stderr := list()
	if !strings.Contains(out, minid+"\tmempool:removed\t2\t") || stderr != "" {
		t.Fatalf("before the rebuild: stdout\n%s\nstderr %s", out, stderr)
	}
	install(other, minid)
	out, stderr = list()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, minid) {
			t.Errorf("listed from the file renamed over the executable: %s", line)
		}
	}
	want := fmt.Sprintf("usdtkit: skipping %s: replaced since process %d started it: %s is now another file", minid, proc.Process.Pid, minid)
	if !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "CAP_SYS_ADMIN") {
		t.Errorf("after the rebuild: stderr %q, want it to start %q", stderr, want)
	}
}
