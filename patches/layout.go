package patches

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Stage is the generation of tracepoint macros a source tree's
// util/trace.h defines. Bitcoin Core's went through four; the zero Stage
// is the newest.
type Stage uint8

const (
	// StageSemaphores is TRACEPOINT_SEMAPHORE(context, event) and
	// TRACEPOINT(context, event, ...), which evaluates its arguments only
	// while a tracer is attached (Bitcoin Core 29 and later).
	StageSemaphores Stage = iota
	// StageVariadic is one TRACEPOINT(context, ...) for any number of
	// arguments, without semaphores.
	StageVariadic
	// StageTraceNWrapped is StageTraceN with each definition wrapped in
	// BITCOIN_DISABLE_WARN_ZERO_VARIADIC_PUSH and _POP, which silence a
	// clang warning; the calls are written as in StageTraceN.
	StageTraceNWrapped
	// StageTraceN is TRACE(context, event) and TRACE1 to TRACE12, one macro
	// per argument count (Bitcoin Core 22 to 28).
	StageTraceN
)

var stageNames = [...]string{
	StageSemaphores:    "semaphores",
	StageVariadic:      "variadic",
	StageTraceNWrapped: "trace-n-wrapped",
	StageTraceN:        "trace-n",
}

// String returns the stage's name: "semaphores", "variadic",
// "trace-n-wrapped" or "trace-n".
func (s Stage) String() string {
	if int(s) < len(stageNames) {
		return stageNames[s]
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// Semaphores reports whether the stage's tracepoints have semaphores.
func (s Stage) Semaphores() bool { return s == StageSemaphores }

// Build is the build system of a tree.
type Build uint8

const (
	BuildUnknown Build = iota
	// Autotools is ./autogen.sh && ./configure && make, which builds in
	// the source tree (Bitcoin Core 28 and before).
	Autotools
	// CMake is cmake -B build && cmake --build build.
	CMake
)

func (b Build) String() string {
	switch b {
	case Autotools:
		return "autotools"
	case CMake:
		return "cmake"
	}
	return "unknown"
}

// BuildDir is the build directory of a CMake tree, relative to its root,
// as Bitcoin Core's build instructions name it (cmake -B build).
const BuildDir = "build"

// Layout is what a patch or a generated file has to follow in one source
// tree: its tracepoint macros, where its build puts the binary, and what
// its functional test framework provides. [ReadLayout] finds it from the
// tree's own files. The zero Layout, and a nil *Layout, is Bitcoin Core's
// newest: semaphores, CMake, build/bin/bitcoind, every test helper.
type Layout struct {
	// Root is the root of the tree, as given.
	Root string

	// Stage is the tree's generation of tracepoint macros, and StageFrom
	// where it was read: the trace header ("src/util/trace.h"), "the
	// calls in src", or "" when nothing in the tree says and the newest
	// is assumed.
	Stage     Stage
	StageFrom string

	// Build is the tree's build system, found from its configure.ac or
	// CMakeLists.txt.
	Build Build
	// Binary is where the build writes the daemon, relative to Root and
	// slash separated: "src/bitcoind" (autotools), "build/src/bitcoind" or
	// "build/bin/bitcoind" (CMake, by the tree's
	// CMAKE_RUNTIME_OUTPUT_DIRECTORY); "" when the build files do not
	// name it.
	Binary string

	// Framework is what the tree's test/functional/test_framework
	// defines; nil when the tree has none.
	Framework *Framework

	// traceLimit is, for a trace header that does not define all of TRACE
	// to TRACE12, one more than the most arguments its TRACEn take (TRACE
	// to TRACEn all defined); 0 when it defines them all.
	traceLimit int
}

// FrameworkDir is where Bitcoin Core's functional test framework lives,
// relative to the root of the tree.
const FrameworkDir = TestDir + "/test_framework"

// Framework is what a tree's Python functional test framework defines,
// read from test_framework.py and util.py without running them.
type Framework struct {
	// Methods are the methods of BitcoinTestFramework and the attributes
	// its methods set (self.NAME = ...): what a test can call on self.
	Methods map[string]bool
	// Names are the top-level classes, functions and assignments of
	// test_framework/test_framework.py (BitcoinTestFramework, SkipTest).
	Names map[string]bool
	// Util are those of test_framework/util.py (assert_equal, bpf_cflags).
	Util map[string]bool
	// TestFile is true when BitcoinTestFramework's constructor takes the
	// test's file: a test then runs as Test(__file__).main().
	TestFile bool
}

// ErrNoRoot is wrapped by [ReadLayout] for a root that is not a
// directory.
var ErrNoRoot = errors.New("not a source tree's root directory")

// traceHeaders are where ReadLayout looks for the trace header, relative
// to the root: Bitcoin Core's, and a root that is its src/.
var traceHeaders = []string{"src/" + TraceHeader, TraceHeader}

// ReadLayout reads the layout of the tree whose root is root:
//
//   - the macro stage from the #defines of src/util/trace.h (or
//     util/trace.h, for a root that is a src/ directory): one of
//     TRACEPOINT_SEMAPHORE, TRACEPOINT, TRACE1 (with or without
//     BITCOIN_DISABLE_WARN_ZERO_VARIADIC_PUSH); without such a header,
//     from the calls in src/ (or the root): any semaphore, any TRACEPOINT,
//     any TRACEn; with neither, the newest;
//   - the build from configure.ac (autotools: src/ plus configure.ac's
//     BITCOIN_DAEMON_NAME) or CMakeLists.txt (CMake: build/, then bin/
//     when the root's or src/'s CMakeLists.txt sets
//     CMAKE_RUNTIME_OUTPUT_DIRECTORY to the binary directory's bin, else
//     the directory of the add_executable(bitcoind ...));
//   - the test framework from test/functional/test_framework.
//
// Files it reads are bounded by [MaxFileSize]. A file that exists but
// cannot be read is an error; a missing one only means the tree does not
// say.
func ReadLayout(root string) (*Layout, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("read tree %s: %w", root, ErrNoRoot)
	}
	l := &Layout{Root: root}
	if err := l.readStage(); err != nil {
		return nil, err
	}
	if err := l.readBuild(); err != nil {
		return nil, err
	}
	fw, err := readFramework(filepath.Join(root, filepath.FromSlash(FrameworkDir)))
	if err != nil {
		return nil, err
	}
	l.Framework = fw
	return l, nil
}

// FindLayout reads the layout of the tree that holds dir: the nearest of
// dir and its two parents that has a src/ directory and a configure.ac,
// a CMakeLists.txt or a src/util/trace.h, or dir itself when none has.
// It is how a command given a source directory (--src src) finds its tree.
// A dir that is a file stands for the directory it is in.
func FindLayout(dir string) (*Layout, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	root := dir
	for i, d := 0, dir; i < 3; i++ {
		if isTreeRoot(d) {
			root = d
			break
		}
		parent := filepath.Join(d, "..")
		if abs, err := filepath.Abs(parent); err != nil || abs == string(filepath.Separator) {
			break
		}
		d = parent
	}
	return ReadLayout(root)
}

func isTreeRoot(dir string) bool {
	if st, err := os.Stat(filepath.Join(dir, "src")); err != nil || !st.IsDir() {
		return false
	}
	for _, f := range []string{"configure.ac", "CMakeLists.txt", "src/" + TraceHeader} {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// readOptional reads the file rel under the root; nil, nil when it does
// not exist.
func (l *Layout) readOptional(rel string) ([]byte, error) {
	data, err := ReadFile(filepath.Join(l.Root, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

func (l *Layout) readStage() error {
	for _, rel := range traceHeaders {
		src, err := l.readOptional(rel)
		if err != nil {
			return fmt.Errorf("read tree %s: %w", l.Root, err)
		}
		if src == nil {
			continue
		}
		info, err := ScanFile(rel, src)
		if err != nil {
			return fmt.Errorf("read tree %s: %w", l.Root, err)
		}
		if l.stageFromDefines(info) {
			l.StageFrom = rel
			return nil
		}
	}
	dir := "src"
	if st, err := os.Stat(filepath.Join(l.Root, dir)); err != nil || !st.IsDir() {
		dir = "."
	}
	macros, _ := ScanDir(filepath.Join(l.Root, dir)) // files that cannot be scanned say nothing
	found := map[Kind]bool{}
	for _, m := range macros {
		found[m.Kind] = true
	}
	switch {
	case found[Semaphore]:
		l.Stage = StageSemaphores
	case found[Tracepoint]:
		l.Stage = StageVariadic
	case found[Trace]:
		l.Stage = StageTraceN
	default:
		return nil
	}
	l.StageFrom = "the calls in " + dir
	return nil
}

// stageFromDefines sets the stage from a trace header's #defines and
// reports whether they name one.
func (l *Layout) stageFromDefines(info *FileInfo) bool {
	switch {
	case info.Defined("TRACEPOINT_SEMAPHORE"):
		l.Stage = StageSemaphores
	case info.Defined("TRACEPOINT"):
		l.Stage = StageVariadic
	case info.Defined("TRACE1"):
		l.Stage = StageTraceN
		if info.Defined("BITCOIN_DISABLE_WARN_ZERO_VARIADIC_PUSH") {
			l.Stage = StageTraceNWrapped
		}
		n := 0
		for n <= MaxArgs && info.Defined(traceName(n)) {
			n++
		}
		if n <= MaxArgs {
			l.traceLimit = n
		}
	default:
		return false
	}
	return true
}

// traceName is the TRACEn macro for n arguments: TRACE, TRACE1, ...
func traceName(n int) string {
	if n == 0 {
		return "TRACE"
	}
	return "TRACE" + strconv.Itoa(n)
}

// layoutPatterns are the patterns ReadLayout reads build files and Python
// with.
type layoutPatterns struct {
	daemonName, runtimeDir, daemonTarget *regexp.Regexp // configure.ac and CMake
	pyDef, pyAssign, pySelf, pyInit      *regexp.Regexp // Python: def and class, NAME =, self.NAME, __init__
}

// layoutRes compiles them on first use (one OnceValue: a few allocations
// at init in every command).
var layoutRes = sync.OnceValue(func() *layoutPatterns {
	return &layoutPatterns{
		daemonName:   regexp.MustCompile(`(?m)^\s*BITCOIN_DAEMON_NAME=([A-Za-z0-9_.-]+)\s*$`),
		runtimeDir:   regexp.MustCompile(`(?m)^\s*set\s*\(\s*CMAKE_RUNTIME_OUTPUT_DIRECTORY\s+"?\$\{(?:PROJECT|CMAKE)_BINARY_DIR\}/([A-Za-z0-9_.-]+)"?\s*\)`),
		daemonTarget: regexp.MustCompile(`(?m)^\s*add_executable\s*\(\s*bitcoind(?:\s|\))`),
		pyDef:        regexp.MustCompile(`^(\s*)(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)`),
		pyAssign:     regexp.MustCompile(`^([A-Za-z_]\w*)\s*(?::[^=]*)?=[^=]`),
		pySelf:       regexp.MustCompile(`\bself\.([A-Za-z_]\w*)\s*([.\[(]?)`),
		pyInit:       regexp.MustCompile(`^\s+def\s+__init__\s*\(\s*self\s*,\s*([A-Za-z_]\w*)`),
	}
})

// cmakeComments drops # comments from CMake text, so that what they
// mention is not read as a command.
func cmakeComments(text []byte) string {
	lines := strings.Split(string(text), "\n")
	for i, l := range lines {
		if j := strings.IndexByte(l, '#'); j >= 0 {
			lines[i] = l[:j]
		}
	}
	return strings.Join(lines, "\n")
}

func (l *Layout) readBuild() error {
	configure, err := l.readOptional("configure.ac")
	if err != nil {
		return fmt.Errorf("read tree %s: %w", l.Root, err)
	}
	if configure != nil {
		l.Build = Autotools
		if m := layoutRes().daemonName.FindSubmatch(configure); m != nil {
			l.Binary = "src/" + string(m[1])
		}
		return nil
	}
	top, err := l.readOptional("CMakeLists.txt")
	if err != nil || top == nil {
		if err != nil {
			return fmt.Errorf("read tree %s: %w", l.Root, err)
		}
		return nil
	}
	l.Build = CMake
	srcLists, err := l.readOptional("src/CMakeLists.txt")
	if err != nil {
		return fmt.Errorf("read tree %s: %w", l.Root, err)
	}
	var dir string
	switch {
	case layoutRes().daemonTarget.MatchString(cmakeComments(srcLists)):
		dir = "src"
	case layoutRes().daemonTarget.MatchString(cmakeComments(top)):
		dir = "."
	default:
		return nil // no bitcoind target: the build does not name the binary
	}
	for _, text := range [][]byte{top, srcLists} {
		if m := layoutRes().runtimeDir.FindStringSubmatch(cmakeComments(text)); m != nil {
			dir = m[1]
		}
	}
	l.Binary = filepath.ToSlash(filepath.Join(BuildDir, dir, "bitcoind"))
	return nil
}

// assignedPart is what a line of Python assigns to: the text before its
// first "=" that is not part of a comparison ("==", "!=", "<=", ">="), or
// "" when it has none.
func assignedPart(code string) string {
	for i := 0; i < len(code); i++ {
		if code[i] != '=' {
			continue
		}
		if i+1 < len(code) && code[i+1] == '=' {
			i++
			continue
		}
		if i > 0 && strings.IndexByte("=!<>", code[i-1]) >= 0 {
			continue
		}
		return code[:i]
	}
	return ""
}

// readFramework reads the framework in dir; nil, nil when there is none.
func readFramework(dir string) (*Framework, error) {
	main, err := ReadFile(filepath.Join(dir, "test_framework.py"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read test framework: %w", err)
	}
	fw := &Framework{Methods: map[string]bool{}, Names: map[string]bool{}, Util: map[string]bool{}}
	readPython(main, fw.Names, "BitcoinTestFramework", fw)
	util, err := ReadFile(filepath.Join(dir, "util.py"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read test framework: %w", err)
	}
	readPython(util, fw.Util, "", nil)
	return fw, nil
}

// readPython adds the top-level names of a Python module to names and,
// when class is not "" and fw is not nil, that class's methods and the
// attributes they set to fw.Methods. It reads lines, not Python: a
// definition inside a multi-line string is taken for one.
func readPython(src []byte, names map[string]bool, class string, fw *Framework) {
	in, body := false, -1 // inside class; the indentation of its methods
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimRight(line, "\r")
		code := strings.TrimLeft(line, " \t")
		if code == "" || strings.HasPrefix(code, "#") {
			continue
		}
		indent := len(line) - len(code)
		if indent == 0 {
			in = false
			if m := layoutRes().pyDef.FindStringSubmatch(line); m != nil {
				names[m[2]] = true
				in = fw != nil && m[2] == class && strings.HasPrefix(code, "class")
				body = -1
			} else if m := layoutRes().pyAssign.FindStringSubmatch(line); m != nil {
				names[m[1]] = true
			}
			continue
		}
		if !in {
			continue
		}
		if m := layoutRes().pyDef.FindStringSubmatch(line); m != nil {
			if body < 0 {
				body = indent
			}
			if indent == body {
				fw.Methods[m[2]] = true
			}
		}
		if m := layoutRes().pyInit.FindStringSubmatch(line); m != nil && indent == body {
			fw.TestFile = m[1] == "test_file"
		}
		for _, m := range layoutRes().pySelf.FindAllStringSubmatch(assignedPart(code), -1) {
			if m[2] == "" { // self.x = ..., not self.x.y = ... or self.x[0] = ...
				fw.Methods[m[1]] = true
			}
		}
	}
}

// stage is the layout's stage; a nil Layout's is the newest.
func (l *Layout) stage() Stage {
	if l == nil {
		return StageSemaphores
	}
	return l.Stage
}

// CallMacro is the macro a call with n arguments is written with:
// TRACEPOINT, or in the TRACEn stages TRACE for none and TRACEn for n.
func (l *Layout) CallMacro(n int) string {
	switch l.stage() {
	case StageTraceN, StageTraceNWrapped:
		return traceName(n)
	}
	return "TRACEPOINT"
}

// MaxArgs is the most arguments a call can pass in the layout: MaxArgs,
// or fewer when the trace header defines fewer TRACEn.
func (l *Layout) MaxArgs() int {
	switch l.stage() {
	case StageTraceN, StageTraceNWrapped:
		if l.traceLimit > 0 {
			return l.traceLimit - 1
		}
	}
	return MaxArgs
}

// BinaryPath is Binary under Root, "./" first when relative, as a command
// run in the working directory names it; "" when Binary is, or for a nil
// Layout.
func (l *Layout) BinaryPath() string {
	if l == nil || l.Binary == "" {
		return ""
	}
	p := filepath.Join(l.Root, filepath.FromSlash(l.Binary))
	if !filepath.IsAbs(p) && !strings.HasPrefix(p, "."+string(filepath.Separator)) && !strings.HasPrefix(p, ".."+string(filepath.Separator)) {
		p = "." + string(filepath.Separator) + p
	}
	return p
}
