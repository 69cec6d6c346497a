package patchtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/elf/elftest"
)

// Tree is one of the test trees.
type Tree struct {
	// Name is the tree's directory under testdata/trees and the name of
	// its macro stage, as patches.Stage.String gives it.
	Name string
	// Std is the C++ standard the tree's build compiles with.
	Std string
	// Binary is where the tree's build files say the daemon goes.
	Binary string
	// Helpers says whether its test framework has the tracepoint checks
	// (skip_if_no_python_bcc and the others).
	Helpers bool
}

// Trees are the test trees, oldest first:
//
//   - trace-n: TRACE to TRACE12, autotools, a framework without
//     tracepoint checks (Bitcoin Core 22 and 23);
//   - trace-n-wrapped: the same macros wrapped in pragmas, autotools, the
//     tracepoint checks (Bitcoin Core of August 2023);
//   - variadic: one TRACEPOINT, no semaphores, CMake into build/src, a
//     framework that takes the test's file;
//   - semaphores: TRACEPOINT_SEMAPHORE and TRACEPOINT, CMake into
//     build/bin, bpf_cflags and the valgrind check (Bitcoin Core 29 on).
var Trees = []Tree{
	{Name: "trace-n", Std: "c++17", Binary: "src/bitcoind"},
	{Name: "trace-n-wrapped", Std: "c++17", Binary: "src/bitcoind", Helpers: true},
	{Name: "variadic", Std: "c++20", Binary: "build/src/bitcoind", Helpers: true},
	{Name: "semaphores", Std: "c++20", Binary: "build/bin/bitcoind", Helpers: true},
}

// Dir is the directory of the tree in this package's testdata.
func (tr Tree) Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("patchtest: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata", "trees", tr.Name)
}

// Copy copies the tree into a new temporary directory and returns it.
func (tr Tree) Copy(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), tr.Name)
	if err := os.CopyFS(dir, os.DirFS(tr.Dir(t))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Compile compiles the tree's file (relative to root) with tracepoints on,
// as the tree's build does (-I src, -DENABLE_TRACING, its C++ standard),
// against the system's sys/sdt.h, and returns the object file. A compile
// error fails the test with the compiler's output.
func (tr Tree) Compile(t testing.TB, root, file string) string {
	t.Helper()
	if _, err := exec.LookPath("g++"); err != nil {
		elftest.Unavailable(t, "g++ is not installed")
	}
	sdt, err := elftest.SDTInclude()
	if err != nil {
		elftest.Unavailable(t, "no sys/sdt.h: "+err.Error())
	}
	obj := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))+".o")
	cmd := exec.Command("g++", "-std="+tr.Std, "-O1", "-Wall", "-Werror", "-DENABLE_TRACING",
		"-I", filepath.Join(root, "src"), "-I", sdt, "-c", filepath.Join(root, file), "-o", obj)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return obj
}

// CheckSkeleton checks a generated functional test against the framework
// in root's test/functional/test_framework: every name it imports from
// test_framework.* is defined at the top of that module, every self.NAME
// its test class reads is a method or attribute of BitcoinTestFramework or
// of the class itself, and it constructs the class with as many arguments
// as BitcoinTestFramework's __init__ takes. Python's ast reads both sides;
// without python3 the test is skipped (failed under CI=true).
func CheckSkeleton(t testing.TB, skeleton, root string) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		elftest.Unavailable(t, "python3 is not installed")
	}
	dir := t.TempDir()
	path, script := filepath.Join(dir, "skeleton.py"), filepath.Join(dir, "check.py")
	if err := os.WriteFile(path, []byte(skeleton), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(checkScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, script, path, filepath.Join(root, "test", "functional", "test_framework")).CombinedOutput()
	if err != nil {
		t.Errorf("the skeleton does not fit the framework of %s: %v\n%s", root, err, out)
	}
}

// checkScript prints what a skeleton (argv[1]) uses that the framework in
// argv[2] does not define, and exits 1 when there is any.
const checkScript = `
import ast
import os
import sys

skeleton_path, framework = sys.argv[1], sys.argv[2]


def parse(path):
    with open(path) as f:
        return ast.parse(f.read(), path)


def top_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def class_names(cls):
    """The methods of a class and the attributes its methods set on self."""
    names = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for n in ast.walk(cls):
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name) and n.value.id == "self":
            names.add(n.attr)
    return names


def find_class(tree, name):
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    return None


problems = []
skeleton = parse(skeleton_path)
for node in ast.walk(skeleton):
    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("test_framework."):
        path = os.path.join(framework, node.module.split(".", 1)[1] + ".py")
        if not os.path.exists(path):
            problems.append("imports from %s, which the framework lacks" % node.module)
            continue
        defined = top_names(parse(path))
        for alias in node.names:
            if alias.name not in defined:
                problems.append("imports %s from %s, which does not define it" % (alias.name, node.module))

base = find_class(parse(os.path.join(framework, "test_framework.py")), "BitcoinTestFramework")
if base is None:
    problems.append("the framework has no BitcoinTestFramework")
    provided, init_args = set(), 0
else:
    provided = class_names(base)
    init = next((n for n in base.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    init_args = len(init.args.args) - 1 if init else 0

tests = [n for n in skeleton.body if isinstance(n, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id == "BitcoinTestFramework" for b in n.bases)]
if not tests:
    problems.append("the skeleton has no subclass of BitcoinTestFramework")
for cls in tests:
    own = class_names(cls)
    for n in ast.walk(cls):
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name) and n.value.id == "self":
            if n.attr not in own and n.attr not in provided:
                problems.append("line %d uses self.%s, which BitcoinTestFramework does not define" % (n.lineno, n.attr))
    for n in ast.walk(skeleton):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == cls.name:
            if len(n.args) != init_args:
                problems.append("line %d constructs %s with %d arguments; BitcoinTestFramework takes %d" % (n.lineno, cls.name, len(n.args), init_args))

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
`
