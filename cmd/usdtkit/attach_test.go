package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

var (
	demoOnce sync.Once
	demoBin  string
	demoErr  string
)

// demo builds the bundled demo target once per test process.
func demo(t *testing.T) (bin, doc string) {
	t.Helper()
	root, _ := filepath.Abs("../..")
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "usdtkit-demo-")
		if err != nil {
			demoErr = err.Error()
			return
		}
		out, err := exec.Command("make", "-s", "-C", filepath.Join(root, "docs/demo"), "BUILD="+dir).CombinedOutput()
		if err != nil {
			demoErr = "build the demo: " + err.Error() + ": " + string(out)
			return
		}
		demoBin = filepath.Join(dir, "minid")
	})
	if demoErr != "" {
		elftest.Unavailable(t, demoErr)
	}
	return demoBin, filepath.Join(root, "docs/demo/doc/tracing.md")
}

func runCmdCtx(ctx context.Context, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(ctx, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return out.String(), errOut.String(), code
}

// The values attach decodes by the documented types equal the ones the
// demo prints itself, for every hit of every tracepoint.
func TestAttachMatchesDemo(t *testing.T) {
	bpftest.Require(t)
	bin, doc := demo(t)
	stdout, stderr, code := runCmdCtx(context.Background(), "attach", bin, "--docs", doc, "--json", "--", bin, "--iterations", "4", "--interval-ms", "0", "--print")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The demo's own --print lines go to stderr with the command's output.
	var printed []string
	for _, l := range strings.Split(stderr, "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.Count(f[0], ":") == 1 && strings.Contains(l, " arg0=") {
			printed = append(printed, l)
		}
	}
	d, _ := docs.ParseFile(doc)
	var got []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev jsonl.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad event %q: %v", sc.Text(), err)
		}
		line := ev.Tracepoint
		tp := d.Tracepoint(ev.Tracepoint)
		for i, a := range ev.Args {
			if a.Error != nil {
				t.Errorf("%s arg%d: %s", ev.Tracepoint, i, *a.Error)
			}
			var s string
			switch v := a.Value.(type) {
			case string:
				if a.Type == "string" {
					s = strconv.Quote(v)
				} else if tp != nil && tp.Args[i].Type.Size == 32 {
					s = reverseHex(v) // hashes are shown reversed, printed in memory order
				} else {
					s = v
				}
			case float64:
				s = strconv.FormatFloat(v, 'f', -1, 64)
			}
			line += " arg" + strconv.Itoa(i) + "=" + s
		}
		got = append(got, line)
		if ev.PID == 0 || ev.Comm != "minid" || ev.Time == "" || ev.CallSite == 0 {
			t.Errorf("event header %+v", ev)
		}
	}
	if len(printed) != 13*4 {
		t.Fatalf("the demo printed %d lines, want %d", len(printed), 13*4)
	}
	if strings.Join(got, "\n") != strings.Join(printed, "\n") {
		t.Errorf("attach decoded:\n%s\n\nthe demo printed:\n%s", strings.Join(got, "\n"), strings.Join(printed, "\n"))
	}
	if !strings.Contains(stderr, "0 events lost, 0 read failures") {
		t.Errorf("summary: %s", stderr)
	}
}

// usdtkitCmd runs usdtkit as its own process: this test binary, which
// testscript.Main turns into usdtkit when its argv[0] is "usdtkit".
func usdtkitCmd(args ...string) *exec.Cmd {
	self, _ := os.Executable()
	cmd := exec.Command(self, args...)
	cmd.Args[0] = "usdtkit"
	return cmd
}

func reverseHex(s string) string {
	var b strings.Builder
	for i := len(s); i >= 2; i -= 2 {
		b.WriteString(s[i-2 : i])
	}
	return b.String()
}

func TestVerify(t *testing.T) {
	bpftest.Require(t)
	bin, doc := demo(t)
	_, stderr, code := runCmdCtx(context.Background(), "verify", bin, "--docs", doc, "--require-all", "--", bin, "--iterations", "2", "--interval-ms", "0")
	if code != 0 {
		t.Fatalf("verify on the demo: exit %d: %s", code, stderr)
	}
	// A wrong doc: the peer address documented as at most 10 characters,
	// the message size as a bool.
	data, _ := os.ReadFile(doc)
	wrong := strings.Replace(string(data), "max. length 68 characters", "max. length 10 characters", 1)
	wrong = strings.Replace(wrong, "Message Size in bytes as `uint64`", "Message Size in bytes as `bool`", 1)
	if wrong == string(data) {
		t.Fatal("the seeded changes did not apply to the demo doc")
	}
	bad := filepath.Join(t.TempDir(), "tracing.md")
	os.WriteFile(bad, []byte(wrong), 0o644)
	stdout, stderr, code := runCmdCtx(context.Background(), "verify", bin, "--docs", bad, "--", bin, "--iterations", "2", "--interval-ms", "0")
	if code != 1 {
		t.Fatalf("verify with a wrong doc: exit %d, want 1: %s", code, stderr)
	}
	for _, want := range []string{"longer than the documented 10 characters", "bool is ", "failed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "documented tracepoints failed") {
		t.Errorf("stderr: %s", stderr)
	}
}

// Without root, attach says what it needs in one line.
func TestAttachNeedsPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs as root and drops to nobody")
	}
	bin, _ := demo(t)
	// nobody must be able to run the test binary and read the target.
	dir, err := os.MkdirTemp("", "usdtkit-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	self, _ := os.Executable()
	for _, c := range [][2]string{{self, "usdtkit"}, {bin, "minid"}} {
		data, err := os.ReadFile(c[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c[1]), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(dir, "usdtkit"), "attach", filepath.Join(dir, "minid"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("attach as nobody succeeded: %s", out)
	}
	if strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), "needs root or CAP_BPF+CAP_PERFMON") {
		t.Errorf("as nobody: %q", out)
	}
}

// SIGINT ends attach with its summary, and the semaphores it enabled go
// back to 0: nothing is left attached.
func TestAttachInterrupt(t *testing.T) {
	bpftest.Require(t)
	bin, _ := demo(t)
	target := exec.Command(bin, "--interval-ms", "20")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { target.Process.Kill(); target.Wait() }()
	pid := strconv.Itoa(target.Process.Pid)
	sem := func() string {
		out, _, _ := runCmd(t, "list", "-p", pid, "validation:block_connected")
		f := strings.Split(strings.TrimSpace(out), "\t")
		if len(f) < 4 {
			t.Fatalf("list -p: %q", out)
		}
		return f[3]
	}
	time.Sleep(100 * time.Millisecond)
	if s := sem(); !strings.HasSuffix(s, "= 0") {
		t.Fatalf("semaphore before attach: %s", s)
	}
	att := usdtkitCmd("attach", "-p", pid, bin, "validation:*")
	var out, errOut bytes.Buffer
	att.Stdout, att.Stderr = &out, &errOut
	if err := att.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "validation:block_connected") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := sem(); !strings.HasSuffix(s, "= 1") {
		t.Errorf("semaphore while attached: %s", s)
	}
	att.Process.Signal(os.Interrupt)
	if err := att.Wait(); err != nil {
		t.Errorf("attach after SIGINT: %v: %s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "validation:block_connected") || !strings.Contains(errOut.String(), "events lost") {
		t.Errorf("no summary after SIGINT: %s", errOut.String())
	}
	if s := sem(); !strings.HasSuffix(s, "= 0") {
		t.Errorf("semaphore after SIGINT: %s (something is left attached)", s)
	}
}

// attach and bpftrace read the same values from the same fixture: every
// register width and constants (test:regs, test:consts), and a tracepoint
// inlined at two call sites with different registers (test:inl).
func TestAttachAgreesWithBpftrace(t *testing.T) {
	bpftest.Require(t)
	if _, err := exec.LookPath("bpftrace"); err != nil {
		elftest.Unavailable(t, "bpftrace not installed")
	}
	bin := elftest.Path(t, "x86_64-O2-nopie")
	const runs = "3"
	// bpftrace 0.17 prints %d as 32 bits: %ld keeps 64-bit values whole.
	script := `usdt:` + bin + `:test:regs { printf("test:regs %ld %ld %ld %ld\n", arg0, arg1, arg2, arg3); }
usdt:` + bin + `:test:consts { printf("test:consts %ld %ld %ld\n", arg0, arg1, arg2); }
usdt:` + bin + `:test:inl { printf("test:inl %ld %ld\n", arg0, arg1); }`
	bt := exec.Command("bpftrace", "-e", script, "-c", bin+" "+runs)
	out, err := bt.Output()
	if err != nil {
		t.Fatalf("bpftrace: %v: %s", err, out)
	}
	var want []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "test:") {
			want = append(want, l)
		}
	}
	stdout, stderr, code := runCmdCtx(context.Background(), "attach", bin, "test:regs", "test:consts", "test:inl", "--json", "--", bin, runs)
	if code != 0 {
		t.Fatalf("attach: exit %d: %s", code, stderr)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var ev jsonl.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("bad event %q: %v", l, err)
		}
		line := ev.Tracepoint
		for _, a := range ev.Args {
			line += " " + strconv.FormatFloat(a.Value.(float64), 'f', -1, 64)
		}
		got = append(got, line)
	}
	if len(want) != 3*4 { // 3 runs of regs, consts and two inl sites
		t.Fatalf("bpftrace printed %d lines, want 12:\n%s", len(want), out)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("usdtkit attach:\n%s\n\nbpftrace:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A refused attach is a failure, exit 1, not a usage error, though the
// kernel's EINVAL reads "invalid argument": here another uprobe sits at
// the call site of a semaphore-guarded tracepoint without its semaphore
// (as bcc 0.26 attaches), so the kernel refuses usdtkit's, which has it.
func TestRefusedAttachExitsOne(t *testing.T) {
	bpftest.Require(t)
	bin, _ := demo(t)
	tracefs := "/sys/kernel/tracing"
	if _, err := os.Stat(tracefs + "/uprobe_events"); err != nil {
		elftest.Unavailable(t, "no tracefs at "+tracefs+" (make deps mounts it)")
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	var site uint64
	for _, p := range f.Probes {
		if p.ID() == "validation:block_connected" {
			site = p.CallSites[0].FileOffset
		}
	}
	event := fmt.Sprintf("usdtkit_einval_%d", os.Getpid())
	def := fmt.Sprintf("p:usdtkit_test/%s %s:%#x\n", event, bin, site)
	write := func(file, s string) error {
		w, err := os.OpenFile(tracefs+"/"+file, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		defer w.Close()
		_, err = w.WriteString(s)
		return err
	}
	if err := write("uprobe_events", def); err != nil {
		t.Fatalf("add a uprobe event: %v", err)
	}
	t.Cleanup(func() {
		write("events/usdtkit_test/"+event+"/enable", "0")
		write("uprobe_events", "-:usdtkit_test/"+event+"\n")
	})
	if err := write("events/usdtkit_test/"+event+"/enable", "1"); err != nil {
		t.Fatalf("enable the uprobe event: %v", err)
	}
	_, stderr, code := runCmd(t, "attach", bin, "validation:block_connected", "--count", "1", "--", bin, "--iterations", "1")
	if code != 1 || !strings.Contains(stderr, "invalid argument") || !strings.Contains(stderr, "attached to this binary without its semaphore") {
		t.Errorf("attach beside a uprobe without the semaphore: exit %d, want 1 with the hint:\n%s", code, stderr)
	}
}

// attach -p ends, with its summary, when the process does: by itself or
// killed.
func TestAttachEndsWithProcess(t *testing.T) {
	bpftest.Require(t)
	bin, doc := demo(t)
	for _, kill := range []bool{false, true} {
		proc := exec.Command(bin, "--iterations", "20", "--interval-ms", "50")
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			if kill {
				time.Sleep(300 * time.Millisecond)
				proc.Process.Signal(syscall.SIGKILL)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, stderr, code := runCmdCtx(ctx, "attach", "-p", strconv.Itoa(proc.Process.Pid), "validation:*", "--docs", doc)
		timedOut := ctx.Err() != nil
		cancel()
		proc.Wait()
		if timedOut || code != 0 || !strings.Contains(stderr, "events lost") {
			t.Errorf("attach -p (process killed: %v): exit %d, timed out %v:\n%s", kill, code, timedOut, stderr)
		}
	}
	if _, stderr, code := runCmd(t, "attach", "-p", "999999999", bin); code != 1 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("attach -p of no process: exit %d: %q", code, stderr)
	}
}

// A doc with problems is used as far as it goes, and said to have them.
func TestAttachWarnsOfDocProblems(t *testing.T) {
	bpftest.Require(t)
	bin, doc := demo(t)
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), "tracing.md")
	if err := os.WriteFile(broken, []byte(strings.Replace(string(data), "3. Connection Type", "Connection Type", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"attach", bin, "validation:*", "--count", "1"}, {"verify", bin}} {
		args := append(append(cmd, "--docs", broken, "--"), bin, "--iterations", "2", "--interval-ms", "0")
		_, stderr, _ := runCmdCtx(context.Background(), args...)
		if !strings.Contains(stderr, "usdtkit: warning: "+broken+" has ") {
			t.Errorf("usdtkit %s does not warn of the doc's problems:\n%s", cmd[0], stderr)
		}
	}
}

// A second Ctrl-C ends usdtkit at once, exit 130, while the first is
// still winding down: here watch gives its command, which ignores SIGINT
// and SIGTERM, 5 s to end (and would then exit 0).
func TestSecondInterrupt(t *testing.T) {
	bpftest.Require(t)
	bin, _ := demo(t)
	w := usdtkitCmd("watch", bin, "--", "sh", "-c", `trap "" INT TERM; echo started >&2; sleep 30`)
	var errOut bpftest.Buffer
	w.Stdout, w.Stderr = io.Discard, &errOut
	w.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the command left behind is killed with it
	w.WaitDelay = time.Second
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-w.Process.Pid, syscall.SIGKILL)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(errOut.String(), "started"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the command did not start: %s", errOut.String())
		}
	}
	w.Process.Signal(os.Interrupt)
	time.Sleep(300 * time.Millisecond) // the command is given seconds; watch is still waiting
	w.Process.Signal(os.Interrupt)
	err := w.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("after a second SIGINT: %v, want exit 130: %s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "interrupted again; exiting now") {
		t.Errorf("no word of the second interrupt: %s", errOut.String())
	}
}
