package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/elf/elftest"
	"github.com/usdtkit/usdtkit/patches/patchtest"
)

// demoCopy copies the demo tree, without its build, into a new git
// repository and returns its directory.
func demoCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../docs/demo")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "build")); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("git"); err != nil {
		elftest.Unavailable(t, "git is not installed")
	}
	gitIn(t, dir, "init", "-q")
	return dir
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// A scaffolded tracepoint applies, builds, shows up in the binary and
// passes the audit.
func TestScaffoldDemo(t *testing.T) {
	for _, tool := range []string{"g++", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			elftest.Unavailable(t, tool+" is not installed")
		}
	}
	if _, err := elftest.SDTInclude(); err != nil {
		elftest.Unavailable(t, "no sys/sdt.h: "+err.Error())
	}
	dir := demoCopy(t)
	stdout, stderr, code := runCmd(t, "scaffold", "net:closed_connection", "--root", dir,
		"--at", "src/net.cpp:31", "--binary", "./build/minid",
		"--arg", "int64 peer_id = id",
		"--arg", "const char* addr = addr_name.c_str()",
		"--arg", "uint32 network = (uint32_t)network",
		"--arg", "uint64 inbound_count = m_inbound_count")
	if code != 0 {
		t.Fatalf("scaffold: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"+++ b/src/net.cpp\n", "+TRACEPOINT_SEMAPHORE(net, closed_connection);\n",
		"+    TRACEPOINT(net, closed_connection, id, addr_name.c_str(), (uint32_t)network, m_inbound_count);\n",
		"+++ b/doc/tracing.md\n", "+#### Tracepoint `net:closed_connection`\n",
		"+2. Addr, passed as addr_name.c_str() (TODO: describe) as `pointer to C-style String`\n",
		"+++ b/contrib/tracing/net_closed_connection.bt\n",
		"+++ b/test/functional/interface_usdt_net_closed_connection.py\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("patch lacks %q", want)
		}
	}
	patch := filepath.Join(t.TempDir(), "scaffold.patch")
	if err := os.WriteFile(patch, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "apply", "--check", patch)
	gitIn(t, dir, "apply", patch)
	if st, err := os.Stat(filepath.Join(dir, "contrib/tracing/net_closed_connection.bt")); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("bpftrace example: %v, %v", st, err)
	}

	make := exec.Command("make", "-C", dir)
	if out, err := make.CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "build", "minid")
	stdout, stderr, code = runCmd(t, "list", bin)
	if code != 0 || !strings.Contains(stdout, "net:closed_connection") {
		t.Fatalf("list: exit %d, no net:closed_connection:\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCmd(t, "audit", "--docs", filepath.Join(dir, "doc/tracing.md"), "--src", filepath.Join(dir, "src"), bin)
	if code != 0 {
		t.Fatalf("audit: exit %d:\n%s%s", code, stdout, stderr)
	}

	// The example script prints the new tracepoint's arguments.
	t.Run("bpftrace", func(t *testing.T) {
		bpftest.Require(t)
		bpftrace, err := exec.LookPath("bpftrace")
		if err != nil {
			elftest.Unavailable(t, "bpftrace is not installed (Debian: apt-get install bpftrace)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bpftrace, "-c", "./build/minid --iterations 2 --interval-ms 0", "contrib/tracing/net_closed_connection.bt")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		// Some kernels fail the detach at exit; what counts is the output.
		if !regexp.MustCompile(`(?m)^net:closed_connection peer_id=\d+ addr="\S+:\d+" network=\d inbound_count=\d+$`).Match(out) {
			t.Errorf("bpftrace (%v) printed no net:closed_connection line:\n%s", err, out)
		}
	})

	// The same tracepoint again is bad input.
	_, stderr, code = runCmd(t, "scaffold", "net:closed_connection", "--root", dir, "--at", "src/net.cpp:31")
	if code != 2 {
		t.Errorf("second scaffold: exit %d, want 2: %s", code, stderr)
	}
}

func TestScaffoldExitCodes(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../docs/demo/src")); err != nil {
		t.Fatal(err)
	}
	at := []string{"--root", dir, "--docs", ""}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"ok", []string{"net:x", "--at", "net.cpp:10", "--no-files", "--arg", "int64 a = 1"}, 0},
		{"ok, C spellings", []string{"net:x", "--at", "net.cpp:10", "--no-files", "--arg", "const char *a = \"\"", "--arg", "unsigned char* b = nullptr", "--arg", "size_t c = 0", "--arg", "bool d = true"}, 0},
		{"unknown type", []string{"net:x", "--at", "net.cpp:10", "--arg", "widget a = 1"}, 2},
		{"char", []string{"net:x", "--at", "net.cpp:10", "--arg", "char a = 1"}, 2},
		{"no name", []string{"net:x", "--at", "net.cpp:10", "--arg", "int64 = 1"}, 2},
		{"no expr", []string{"net:x", "--at", "net.cpp:10", "--arg", "int64 a"}, 2},
		{"line 0", []string{"net:x", "--at", "net.cpp:0"}, 2},
		{"line past the end", []string{"net:x", "--at", "net.cpp:100000"}, 2},
		{"line not a number", []string{"net:x", "--at", "net.cpp:ten"}, 2},
		{"no line", []string{"net:x", "--at", "net.cpp"}, 2},
		{"missing file", []string{"net:x", "--at", "nope.cpp:1"}, 2},
		{"outside the root", []string{"net:x", "--at", "../x.cpp:1"}, 2},
		{"no colon", []string{"netx", "--at", "net.cpp:10"}, 2},
		{"bad event", []string{"net:x-y", "--at", "net.cpp:10"}, 2},
		{"no --at", []string{"net:x"}, 2},
		{"missing doc", []string{"net:x", "--at", "net.cpp:10", "--docs", "doc/none.md"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"scaffold"}, tt.args...)
			args = append(args, at...)
			if tt.name == "missing doc" {
				args = append([]string{"scaffold"}, tt.args...)
				args = append(args, "--root", dir)
			}
			_, stderr, code := runCmd(t, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			if code == 2 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
}

// A tracepoint that another file of the tree has already is refused: its
// second semaphore would not link.
func TestScaffoldElsewhere(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../docs/demo")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCmd(t, "scaffold", "net:inbound_message", "--root", dir, "--at", "src/net.cpp:31")
	if code != 2 || !strings.Contains(stderr, "src/net_processing.cpp:8 has net:inbound_message already") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// In a tree of each generation of tracepoint macros, the scaffolded
// tracepoint applies and compiles against the tree's util/trace.h, the
// object carries it, the example attaches where the tree builds bitcoind,
// the skeleton uses only what the tree's test framework defines, and
// audit and gen (--since, --new, --lang test) work on the result.
func TestScaffoldStages(t *testing.T) {
	for _, tr := range patchtest.Trees {
		t.Run(tr.Name, func(t *testing.T) {
			if _, err := exec.LookPath("git"); err != nil {
				elftest.Unavailable(t, "git is not installed")
			}
			dir := tr.Copy(t)
			git := func(args ...string) string {
				return gitIn(t, dir, append([]string{"-c", "user.name=usdtkit", "-c", "user.email=usdtkit@localhost", "-c", "commit.gpgsign=false"}, args...)...)
			}
			git("init", "-q")
			git("add", ".")
			git("commit", "-q", "-m", "tree")
			init, err := os.ReadFile(filepath.Join(dir, "src/init.cpp"))
			if err != nil {
				t.Fatal(err)
			}
			line := 1 + strings.Count(string(init[:strings.Index(string(init), "    return true;")]), "\n")

			stdout, stderr, code := runCmd(t, "scaffold", "init:startup_complete", "--root", dir,
				"--at", "src/init.cpp:"+strconv.Itoa(line),
				"--arg", "int32 height = height", "--arg", "const char* name = name.c_str()")
			if code != 0 {
				t.Fatalf("scaffold: exit %d: %s", code, stderr)
			}
			call := map[string]string{
				"trace-n":         "+    TRACE2(init, startup_complete, height, name.c_str());\n",
				"trace-n-wrapped": "+    TRACE2(init, startup_complete, height, name.c_str());\n",
				"variadic":        "+    TRACEPOINT(init, startup_complete, height, name.c_str());\n",
				"semaphores":      "+    TRACEPOINT(init, startup_complete, height, name.c_str());\n",
			}[tr.Name]
			if !strings.Contains(stdout, call) || !strings.Contains(stdout, "+#include <util/trace.h>\n") {
				t.Errorf("the patch lacks %q or the include:\n%s", call, stdout)
			}
			if sema := strings.Contains(stdout, "TRACEPOINT_SEMAPHORE"); sema != (tr.Name == "semaphores") {
				t.Errorf("a semaphore in the patch: %v", sema)
			}
			patch := filepath.Join(t.TempDir(), "scaffold.patch")
			if err := os.WriteFile(patch, []byte(stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			git("apply", "--check", patch)
			git("apply", patch)

			obj := tr.Compile(t, dir, "src/init.cpp")
			stdout, stderr, code = runCmd(t, "list", obj)
			if code != 0 || !regexp.MustCompile(`(?m)^init:startup_complete\t1\t`).MatchString(stdout) {
				t.Errorf("list %s: exit %d, no init:startup_complete:\n%s%s", obj, code, stdout, stderr)
			}
			tr.Compile(t, dir, "src/net.cpp")

			bt, err := os.ReadFile(filepath.Join(dir, "contrib/tracing/init_startup_complete.bt"))
			if err != nil {
				t.Fatal(err)
			}
			if want := "usdt:./" + tr.Binary + ":init:startup_complete\n"; !strings.Contains(string(bt), want) {
				t.Errorf("the example does not attach to %q:\n%s", want, bt)
			}
			skeleton, err := os.ReadFile(filepath.Join(dir, "test/functional/interface_usdt_init_startup_complete.py"))
			if err != nil {
				t.Fatal(err)
			}
			patchtest.CheckSkeleton(t, string(skeleton), dir)

			docPath, src := filepath.Join(dir, "doc/tracing.md"), filepath.Join(dir, "src")
			stdout, stderr, code = runCmd(t, "audit", "--docs", docPath, "--src", src)
			if code != 0 {
				t.Errorf("audit: exit %d:\n%s%s", code, stdout, stderr)
			}
			stdout, stderr, code = runCmd(t, "gen", "--lang", "bpftrace", "--src", src, "--since", "HEAD")
			if want := "usdt:" + filepath.Join(dir, tr.Binary) + ":init:startup_complete\n"; code != 0 || !strings.Contains(stdout, want) || strings.Contains(stdout, "net:") {
				t.Errorf("gen --since HEAD: exit %d, want only init:startup_complete at %s:\n%s%s", code, want, stdout, stderr)
			}
			stdout, stderr, code = runCmd(t, "gen", "--lang", "test", "--src", src, "--docs", docPath)
			if code != 0 {
				t.Fatalf("gen --lang test: exit %d: %s", code, stderr)
			}
			patchtest.CheckSkeleton(t, stdout, dir)
			git("checkout", "doc/tracing.md")
			stdout, stderr, code = runCmd(t, "gen", "--lang", "doc", "--src", src, "--docs", docPath, "--new")
			if code != 0 || !strings.Contains(stdout, "#### Tracepoint `init:startup_complete`\n") || strings.Contains(stdout, "net:") {
				t.Errorf("gen --new: exit %d:\n%s%s", code, stdout, stderr)
			}
		})
	}
}
