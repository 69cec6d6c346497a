package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// waitFor waits until buf holds n matches of re.
func waitFor(t *testing.T, buf *bpftest.Buffer, re string, n int) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(15 * time.Second)
	for len(rx.FindAllString(buf.String(), -1)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d× %q in:\n%s", n, re, buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const watchFixture = `#include <stdlib.h>
#include <sys/sdt.h>
#ifndef ARG0
#define ARG0 42
#endif
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 1;
	for (int i = 0; i < n; i++) {
		DTRACE_PROBE2(fixture, tick, ARG0, 7);
#ifdef ADDED
		DTRACE_PROBE1(fixture, added, 9);
#endif
	}
	return 0;
}
`

// buildWatchFixture compiles the fixture to dir/name with extra flags.
// Constant arguments give argument specs ("-4@$42") that do not depend on
// the compiler's register allocation.
func buildWatchFixture(t *testing.T, dir, name string, flags ...string) string {
	t.Helper()
	src := filepath.Join(dir, "fixture.c")
	if err := os.WriteFile(src, []byte(watchFixture), 0o644); err != nil {
		t.Fatal(err)
	}
	inc, err := elftest.SDTInclude()
	if err != nil {
		elftest.Unavailable(t, err.Error())
	}
	out := filepath.Join(dir, name)
	args := append([]string{"-O2", "-I", inc, "-o", out, src}, flags...)
	if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		elftest.Unavailable(t, "gcc: "+err.Error()+": "+string(b))
	}
	return out
}

// startWatch runs usdtkit watch in-process; stop cancels it, as Ctrl-C
// does, and checks that it ended cleanly. It is also called when the test ends.
func startWatch(t *testing.T, args ...string) (stdout, stderr *bpftest.Buffer, stop func()) {
	t.Helper()
	stdout, stderr = &bpftest.Buffer{}, &bpftest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, &IOStreams{In: strings.NewReader(""), Out: stdout, ErrOut: stderr}, append([]string{"watch"}, args...))
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("watch: exit %d: %s", code, stderr)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("watch did not end on cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stdout, stderr, stop
}

// diffLines returns the lines of out from the header of build n up to the
// next build's header or event, without the events.
func diffLines(out string, n int) []string {
	var lines []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "build "):
			in = strings.HasPrefix(l, "build "+strconv.Itoa(n)+" ")
		case in && (strings.HasPrefix(l, "+ ") || strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "~ ") || strings.HasPrefix(l, "= ")):
			lines = append(lines, l)
		}
	}
	return lines
}

func TestWatchDiff(t *testing.T) {
	work, dir := t.TempDir(), t.TempDir()
	v1 := buildWatchFixture(t, work, "v1")
	v2 := buildWatchFixture(t, work, "v2", "-DADDED", "-DARG0=(long)42")
	bin := filepath.Join(dir, "fixture")
	stdout, stderr, _ := startWatch(t, bin)
	waitFor(t, stderr, "is not there; waiting", 1)

	copyFile(t, v1, bin) // created in place
	waitFor(t, stdout, `(?m)^build 1 `, 1)
	renameOver(t, v2, bin)
	waitFor(t, stdout, `(?m)^build 2 `, 1)
	copyFile(t, v1, bin) // written over, same inode
	waitFor(t, stdout, `(?m)^build 3 `, 1)
	// make clean: the directory goes and comes back.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stderr, "is not there; waiting", 2)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	renameOver(t, v2, bin)
	waitFor(t, stdout, `(?m)^build 4 `, 1)
	time.Sleep(100 * time.Millisecond)

	out := stdout.String()
	for n, want := range map[int][]string{
		1: nil,
		2: {"+ fixture:added (1 arg)", "~ fixture:tick arg0 -4@$42 -> -8@$42"},
		3: {"- fixture:added (1 arg)", "~ fixture:tick arg0 -8@$42 -> -4@$42"},
		4: {"+ fixture:added (1 arg)", "~ fixture:tick arg0 -4@$42 -> -8@$42"},
	} {
		if got := diffLines(out, n); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("build %d: got\n%s\nwant\n%s\nall output:\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"), out)
		}
	}
	if strings.Contains(out, "build 5 ") {
		t.Errorf("a build too many:\n%s", out)
	}
}

func TestWatchAttach(t *testing.T) {
	bpftest.Require(t)
	work, dir := t.TempDir(), t.TempDir()
	v1 := buildWatchFixture(t, work, "v1")
	v2 := buildWatchFixture(t, work, "v2", "-DADDED", "-DARG0=(long)42")
	bin := filepath.Join(dir, "fixture")
	copyFile(t, v1, bin)
	stdout, stderr, stop := startWatch(t, bin, "--attach", "fixture:*")
	waitFor(t, stderr, `build 1: attached 1 tracepoint`, 1)
	runFixture(t, bin, 2)
	waitFor(t, stdout, `fixture:tick arg0=42 arg1=7`, 2)

	// Rename into place, as a linker or install does.
	start := time.Now()
	renameOver(t, v2, bin)
	waitFor(t, stderr, `build 2: attached 2 tracepoints`, 1)
	t.Logf("rename to attached: %s", time.Since(start))
	runFixture(t, bin, 3)
	waitFor(t, stdout, `fixture:added arg0=9`, 3)
	waitFor(t, stdout, `fixture:tick arg0=42 arg1=7`, 5)
	waitFor(t, stderr, `build 1 detached`, 1)

	// Written over in place: the same inode with other contents.
	start = time.Now()
	copyFile(t, v1, bin)
	waitFor(t, stderr, `build 3: attached 1 tracepoint`, 1)
	t.Logf("cp to attached: %s", time.Since(start))
	runFixture(t, bin, 1)
	waitFor(t, stdout, `fixture:tick arg0=42 arg1=7`, 6)
	for n, want := range map[int][]string{
		2: {"+ fixture:added (1 arg)", "~ fixture:tick arg0 -4@$42 -> -8@$42"},
		3: {"- fixture:added (1 arg)", "~ fixture:tick arg0 -8@$42 -> -4@$42"},
	} {
		if got := diffLines(stdout.String(), n); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("build %d: got\n%s\nwant\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	// make clean while attached: the uprobe keeps the old directory alive,
	// so inotify never says it went.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stderr, "is not there; waiting", 1)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	renameOver(t, v2, bin)
	waitFor(t, stderr, `build 4: attached 2 tracepoints`, 1)
	runFixture(t, bin, 1)
	waitFor(t, stdout, `fixture:added arg0=9`, 4)

	// Ctrl-C detaches the last build and prints its summary.
	stop()
	if !strings.Contains(stderr.String(), "build 4 detached") || strings.Count(stderr.String(), " detached\n") != 4 {
		t.Errorf("not every build was detached:\n%s", stderr)
	}
}

// With -- CMD, the command is started on every build and traced from its
// first instruction.
func TestWatchCommand(t *testing.T) {
	bpftest.Require(t)
	work, dir := t.TempDir(), t.TempDir()
	v1 := buildWatchFixture(t, work, "v1")
	v2 := buildWatchFixture(t, work, "v2", "-DADDED", "-DARG0=(long)42")
	bin := filepath.Join(dir, "fixture")
	copyFile(t, v1, bin)
	stdout, stderr, _ := startWatch(t, bin, "--", bin, "2")
	waitFor(t, stdout, `fixture:tick arg0=42 arg1=7`, 2)
	waitFor(t, stderr, `build 1: .*fixture: exit status 0; waiting for the next build`, 1)
	renameOver(t, v2, bin)
	waitFor(t, stdout, `fixture:added arg0=9`, 2)
	waitFor(t, stdout, `fixture:tick arg0=42 arg1=7`, 4)
	waitFor(t, stderr, `build 2: .*fixture: exit status 0; waiting for the next build`, 1)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func renameOver(t *testing.T, from, to string) {
	t.Helper()
	tmp := to + ".tmp"
	copyFile(t, from, tmp)
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

func runFixture(t *testing.T, bin string, n int) {
	t.Helper()
	if out, err := exec.Command(bin, strconv.Itoa(n)).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", bin, err, out)
	}
}

const watchDoc = `# Tracing

## Tracepoint documentation

### Context ` + "`fixture`" + `

#### Tracepoint ` + "`fixture:tick`" + `

Is called on every round.

Arguments passed:
1. Answer as ` + "`int32`" + `
2. Seven as ` + "`int32`" + `
`

const watchDocAdded = `
#### Tracepoint ` + "`fixture:added`" + `

Is called after every tick.

Arguments passed:
1. Nine as ` + "`int32`" + `
`

// The audit runs again on a rebuild and on an edit of the doc, and only
// the findings that changed are printed.
func TestWatchAudit(t *testing.T) {
	work, dir := t.TempDir(), t.TempDir()
	v1 := buildWatchFixture(t, work, "v1")
	v2 := buildWatchFixture(t, work, "v2", "-DADDED", "-DARG0=(long)42")
	bin, doc := filepath.Join(dir, "fixture"), filepath.Join(work, "tracing.md")
	if err := os.WriteFile(doc, []byte(watchDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, v1, bin)
	stdout, _, _ := startWatch(t, bin, "--docs", doc)
	waitFor(t, stdout, `(?m)^audit: no findings$`, 1)
	renameOver(t, v2, bin)
	waitFor(t, stdout, `(?m)^audit: new `, 2)
	if err := os.WriteFile(doc, []byte(strings.Replace(watchDoc, "Answer as `int32`", "Answer as `int64`", 1)+watchDocAdded), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stdout, `(?m)^audit: fixed `, 2)
	time.Sleep(100 * time.Millisecond)
	var got []string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "audit: ") {
			got = append(got, regexp.MustCompile(`\(.*\)$`).ReplaceAllString(l, "(…)"))
		}
	}
	if len(got) != 5 || got[0] != "audit: no findings" || !strings.HasPrefix(got[1], "audit: new   fixture:added error undocumented: ") || !strings.HasPrefix(got[2], "audit: new   fixture:tick error arg-size: ") ||
		!strings.HasPrefix(got[3], "audit: fixed fixture:added error undocumented: ") || !strings.HasPrefix(got[4], "audit: fixed fixture:tick error arg-size: ") {
		t.Errorf("audit lines:\n%s", strings.Join(got, "\n"))
	}
}

// An edit to the source tree, in a directory created after watch started
// too, runs the audit again.
func TestWatchSource(t *testing.T) {
	work, dir, src := t.TempDir(), t.TempDir(), t.TempDir()
	v1 := buildWatchFixture(t, work, "v1")
	bin, doc := filepath.Join(dir, "fixture"), filepath.Join(work, "tracing.md")
	if err := os.WriteFile(doc, []byte(watchDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "fixture.c"), []byte(watchFixture), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, v1, bin)
	stdout, _, _ := startWatch(t, bin, "--docs", doc, "--src", src)
	waitFor(t, stdout, `(?m)^audit: new   fixture:added error undocumented: fixture:added is in the source`, 1)

	// The call goes: the finding is fixed.
	without := strings.Replace(watchFixture, "DTRACE_PROBE1(fixture, added, 9);", "", 1)
	if err := os.WriteFile(filepath.Join(src, "fixture.c"), []byte(without), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stdout, `(?m)^audit: fixed fixture:added error undocumented: `, 1)

	// A new directory with a new call.
	sub := filepath.Join(src, "net")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// No wait: a file written before the new directory is watched is seen
	// by the audit its creation starts, one written after by its own event.
	other := "#include <sys/sdt.h>\nvoid f(void) { DTRACE_PROBE(fixture, other); }\n"
	if err := os.WriteFile(filepath.Join(sub, "other.c"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stdout, `(?m)^audit: new   fixture:other error undocumented: `, 1)
}
