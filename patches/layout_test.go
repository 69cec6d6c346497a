package patches

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/patches/patchtest"
)

// writeTree writes files (path: text) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// The test trees read as the stage, build and framework they were written
// for.
func TestScaffoldLayoutTrees(t *testing.T) {
	want := map[string]struct {
		build    Build
		helpers  []string
		util     []string
		testFile bool
	}{
		"trace-n":         {Autotools, nil, []string{"assert_equal", "assert_greater_than"}, false},
		"trace-n-wrapped": {Autotools, []string{"skip_if_no_bitcoind_tracepoints", "skip_if_no_bpf_permissions", "skip_if_no_python_bcc", "skip_if_platform_not_linux"}, []string{"assert_equal", "assert_greater_than"}, false},
		"variadic":        {CMake, []string{"skip_if_no_bitcoind_tracepoints", "skip_if_no_bpf_permissions", "skip_if_no_python_bcc", "skip_if_platform_not_linux"}, []string{"assert_equal", "assert_greater_than"}, true},
		"semaphores":      {CMake, []string{"skip_if_no_bitcoind_tracepoints", "skip_if_no_bpf_permissions", "skip_if_no_python_bcc", "skip_if_platform_not_linux", "skip_if_running_under_valgrind"}, []string{"assert_equal", "assert_greater_than", "bpf_cflags"}, true},
	}
	for _, tr := range patchtest.Trees {
		t.Run(tr.Name, func(t *testing.T) {
			l, err := ReadLayout(tr.Dir(t))
			if err != nil {
				t.Fatal(err)
			}
			w := want[tr.Name]
			if l.Stage.String() != tr.Name || l.StageFrom != "src/util/trace.h" || l.Build != w.build || l.Binary != tr.Binary || l.MaxArgs() != MaxArgs {
				t.Errorf("stage %v from %q, build %v, binary %q, %d args", l.Stage, l.StageFrom, l.Build, l.Binary, l.MaxArgs())
			}
			fw := l.Framework
			if fw == nil {
				t.Fatal("no framework")
			}
			var helpers []string
			for m := range fw.Methods {
				if strings.HasPrefix(m, "skip_if_") && m != "skip_if_no_wallet" && m != "skip_if_platform_not_posix" {
					helpers = append(helpers, m)
				}
			}
			sort.Strings(helpers)
			if strings.Join(helpers, " ") != strings.Join(w.helpers, " ") {
				t.Errorf("helpers %v, want %v", helpers, w.helpers)
			}
			util := sortedSet(fw.Util)
			if strings.Join(util, " ") != strings.Join(w.util, " ") {
				t.Errorf("util %v, want %v", util, w.util)
			}
			for _, name := range []string{"main", "set_test_params", "run_test", "skip_test_if_missing_module", "log", "nodes", "num_nodes"} {
				if !fw.Methods[name] {
					t.Errorf("BitcoinTestFramework lacks %s", name)
				}
			}
			if fw.Methods["message"] {
				t.Error("SkipTest's attribute is taken for BitcoinTestFramework's")
			}
			if !fw.Names["SkipTest"] || !fw.Names["BitcoinTestFramework"] || fw.TestFile != w.testFile {
				t.Errorf("names %v, test file %v", sortedSet(fw.Names), fw.TestFile)
			}
		})
	}
}

func sortedSet(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

func TestReadLayout(t *testing.T) {
	traceN := func(n int) string {
		var b strings.Builder
		for i := 0; i <= n; i++ {
			b.WriteString("#define " + traceName(i) + "(context, event) x\n")
		}
		return b.String()
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string // stage, from, build, binary, max args
	}{
		{"nothing", nil, "semaphores  unknown  12"},
		{"header at the root", map[string]string{"util/trace.h": "#define TRACEPOINT(context, ...) x\n"}, "variadic util/trace.h unknown  12"},
		{"header without tracepoint macros, calls", map[string]string{
			"src/util/trace.h": "#define OTHER 1\n",
			"src/a.cpp":        "void f() { TRACE2(a, b, 1, 2); }\n",
		}, "trace-n the calls in src unknown  12"},
		{"calls with a semaphore", map[string]string{
			"src/a.cpp": "TRACEPOINT_SEMAPHORE(a, b);\nvoid f() { TRACEPOINT(a, b); }\n",
			"src/c.cpp": "void g() { TRACE1(a, c, 1); }\n",
		}, "semaphores the calls in src unknown  12"},
		{"TRACEPOINT calls", map[string]string{"src/a.cpp": "void f() { TRACEPOINT(a, b, 1); }\n"}, "variadic the calls in src unknown  12"},
		{"calls at the root", map[string]string{"a.cpp": "void f() { TRACE(a, b); }\n"}, "trace-n the calls in . unknown  12"},
		{"six TRACEn", map[string]string{"src/util/trace.h": traceN(6)}, "trace-n src/util/trace.h unknown  6"},
		{"wrapped", map[string]string{"src/util/trace.h": "#define BITCOIN_DISABLE_WARN_ZERO_VARIADIC_PUSH\n" + traceN(12)}, "trace-n-wrapped src/util/trace.h unknown  12"},
		{"semaphore wins", map[string]string{"src/util/trace.h": "#define TRACEPOINT_SEMAPHORE(c, e) x\n#define TRACEPOINT(c, ...)\n" + traceN(12)}, "semaphores src/util/trace.h unknown  12"},
		{"a definition in a comment is none", map[string]string{
			"src/util/trace.h": "// #define TRACEPOINT_SEMAPHORE(c, e)\n" + traceN(12),
		}, "trace-n src/util/trace.h unknown  12"},
		{"autotools", map[string]string{"configure.ac": "AC_INIT([x], [1])\nBITCOIN_DAEMON_NAME=bitcoind\n"}, "semaphores  autotools src/bitcoind 12"},
		{"autotools, another daemon", map[string]string{"configure.ac": "  BITCOIN_DAEMON_NAME=elementsd\n"}, "semaphores  autotools src/elementsd 12"},
		{"autotools, no daemon name", map[string]string{"configure.ac": "AC_INIT([x], [1])\n"}, "semaphores  autotools  12"},
		{"cmake, build/src", map[string]string{
			"CMakeLists.txt":     "project(x)\nadd_subdirectory(src)\n",
			"src/CMakeLists.txt": "add_executable(bitcoind\n  bitcoind.cpp)\n",
		}, "semaphores  cmake build/src/bitcoind 12"},
		{"cmake, build/bin", map[string]string{
			"CMakeLists.txt":     "project(x)\n",
			"src/CMakeLists.txt": "if(NOT CMAKE_RUNTIME_OUTPUT_DIRECTORY)\n  set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)\nendif()\nadd_executable(bitcoind bitcoind.cpp)\n",
		}, "semaphores  cmake build/bin/bitcoind 12"},
		{"cmake, output directory at the top", map[string]string{
			"CMakeLists.txt":     "set(CMAKE_RUNTIME_OUTPUT_DIRECTORY \"${CMAKE_BINARY_DIR}/bin\")\n",
			"src/CMakeLists.txt": "add_executable( bitcoind bitcoind.cpp)\n",
		}, "semaphores  cmake build/bin/bitcoind 12"},
		{"cmake, commented out", map[string]string{
			"CMakeLists.txt":     "# set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)\n",
			"src/CMakeLists.txt": "add_executable(bitcoind bitcoind.cpp) # not bitcoind-gui\n",
		}, "semaphores  cmake build/src/bitcoind 12"},
		{"cmake, the target at the top", map[string]string{"CMakeLists.txt": "add_executable(bitcoind src/bitcoind.cpp)\n"}, "semaphores  cmake build/bitcoind 12"},
		{"cmake, no daemon", map[string]string{
			"CMakeLists.txt":     "project(x)\n",
			"src/CMakeLists.txt": "# add_executable(bitcoind x.cpp)\nadd_executable(bitcoind-gui x.cpp)\n",
		}, "semaphores  cmake  12"},
		{"configure.ac beside CMakeLists.txt", map[string]string{
			"configure.ac":   "BITCOIN_DAEMON_NAME=bitcoind\n",
			"CMakeLists.txt": "add_executable(bitcoind x.cpp)\n",
		}, "semaphores  autotools src/bitcoind 12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ReadLayout(writeTree(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join([]string{l.Stage.String(), l.StageFrom, l.Build.String(), l.Binary, strconv.Itoa(l.MaxArgs())}, " ")
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if l.Framework != nil {
				t.Errorf("a framework: %+v", l.Framework)
			}
		})
	}
}

func TestReadLayoutErrors(t *testing.T) {
	root := writeTree(t, map[string]string{"file": "x"})
	if _, err := ReadLayout(filepath.Join(root, "file")); !errors.Is(err, ErrNoRoot) {
		t.Errorf("a file: %v", err)
	}
	if _, err := ReadLayout(filepath.Join(root, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing root: %v", err)
	}
	// A trace header that cannot be read is not a tree without one.
	root = writeTree(t, nil)
	if err := os.MkdirAll(filepath.Join(root, "src", "util", "trace.h"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLayout(root); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory as trace.h: %v", err)
	}
	root = writeTree(t, map[string]string{"src/util/trace.h": "#define TRACE1(a, b, c)\n/* unterminated\n"})
	if _, err := ReadLayout(root); err == nil || !strings.Contains(err.Error(), "src/util/trace.h:2:1") {
		t.Errorf("an unterminated comment in trace.h: %v", err)
	}
}

func TestFindLayout(t *testing.T) {
	root := writeTree(t, map[string]string{
		"configure.ac":               "BITCOIN_DAEMON_NAME=bitcoind\n",
		"src/util/trace.h":           "#define TRACE1(a, b, c)\n",
		"src/wallet/wallet.cpp":      "void f() {}\n",
		"src/CMakeLists.txt":         "add_executable(x)\n", // src/ is no root: it has no src/
		"src/secp256k1/src/x.c":      "",
		"src/secp256k1/configure.ac": "",
	})
	for _, dir := range []string{root, filepath.Join(root, "src"), filepath.Join(root, "src", "wallet"), filepath.Join(root, "src", "wallet", "wallet.cpp")} {
		l, err := FindLayout(dir)
		if err != nil {
			t.Fatal(err)
		}
		if l.Root != root || l.Stage != StageTraceN || l.Binary != "src/bitcoind" {
			t.Errorf("%s: root %s, stage %v, binary %q", dir, l.Root, l.Stage, l.Binary)
		}
	}
	// A subproject with a tree's shape of its own is its own root.
	if l, err := FindLayout(filepath.Join(root, "src", "secp256k1")); err != nil || l.Root != filepath.Join(root, "src", "secp256k1") {
		t.Errorf("subproject: %+v, %v", l, err)
	}
	// No tree around: the directory itself.
	other := writeTree(t, map[string]string{"a/b.cpp": ""})
	if l, err := FindLayout(filepath.Join(other, "a")); err != nil || l.Root != filepath.Join(other, "a") || l.Binary != "" {
		t.Errorf("no tree: %+v, %v", l, err)
	}
}

func TestBinaryPath(t *testing.T) {
	for _, tt := range []struct{ root, binary, want string }{
		{".", "src/bitcoind", "./src/bitcoind"},
		{"", "build/bin/bitcoind", "./build/bin/bitcoind"},
		{"..", "src/bitcoind", "../src/bitcoind"},
		{"/x/y", "build/src/bitcoind", "/x/y/build/src/bitcoind"},
		{"tree", "src/bitcoind", "./tree/src/bitcoind"},
		{".", "", ""},
	} {
		l := &Layout{Root: tt.root, Binary: tt.binary}
		if got := l.BinaryPath(); got != tt.want {
			t.Errorf("%q %q: %q, want %q", tt.root, tt.binary, got, tt.want)
		}
	}
	if got := (*Layout)(nil).BinaryPath(); got != "" {
		t.Errorf("nil: %q", got)
	}
}

func TestReadFramework(t *testing.T) {
	root := writeTree(t, map[string]string{
		FrameworkDir + "/test_framework.py": `"""Doc."""
import os

TIMEOUT = 60
TIMEOUT_FACTOR: int = 1


class SkipTest(Exception):
    def __init__(self, message):
        self.message = message


class BitcoinTestFramework(metaclass=Meta):
    """Base."""

    def __init__(self, test_file) -> None:
        self.nodes: list = []
        self.log = None
        if self.nodes == []:
            pass

    # A comment at any indentation does not end the class.
# even at the first column

    @property
    def chain(self):
        def inner():
            pass
        return self._chain

    async def later(self):
        self.a, self.b = 1, 2
        self.c.d = 3


def helper():
    pass
`,
		FrameworkDir + "/util.py": "def assert_equal(a, b):\n    pass\n\n\ndef bpf_cflags():\n    return []\n",
	})
	l, err := ReadLayout(root)
	if err != nil {
		t.Fatal(err)
	}
	fw := l.Framework
	if got, want := strings.Join(sortedSet(fw.Methods), " "), "__init__ a b chain later log nodes"; got != want {
		t.Errorf("methods %q, want %q", got, want)
	}
	if got, want := strings.Join(sortedSet(fw.Names), " "), "BitcoinTestFramework SkipTest TIMEOUT TIMEOUT_FACTOR helper"; got != want {
		t.Errorf("names %q, want %q", got, want)
	}
	if got, want := strings.Join(sortedSet(fw.Util), " "), "assert_equal bpf_cflags"; got != want {
		t.Errorf("util %q, want %q", got, want)
	}
	if !fw.TestFile {
		t.Error("__init__(self, test_file) not seen")
	}
}
