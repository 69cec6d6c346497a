package gen

import (
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/patches"
)

type testFile struct {
	Doc    []string
	Class  string
	Events []testEvent
	testFramework
}

// testFramework is what a skeleton uses of the tree's test framework,
// and what it does itself where the framework has nothing.
type testFramework struct {
	// Imports are the names imported from test_framework.test_framework
	// and test_framework.util.
	Imports, Util []string
	// Checks are the lines of skip_test_if_missing_module: calls of the
	// framework's checks and, where it has none, checks of the
	// skeleton's own (Own: "Linux", "bcc", "root"), which OwnNote explains.
	Checks  []string
	Own     map[string]bool
	OwnNote []string
	// SkipTest is the exception a check of its own raises, and
	// SkipImport its import when the framework does not define it.
	SkipImport string
	// Cflags passes bpf_cflags() to bcc; AssertEqual compares with
	// assert_equal rather than assert; TestFile constructs the test
	// with __file__.
	Cflags, AssertEqual, TestFile bool
}

// The checks a tracepoint test makes, in order, as Bitcoin Core's
// framework names them, and whether a skeleton can make it itself when the
// framework lacks it.
var tracepointSkips = []struct {
	method string
	own    string   // what the skeleton checks instead, "" for nothing
	phrase string   // it, for the comment
	code   []string // how
}{
	{"skip_if_platform_not_linux", "Linux", "on Linux", []string{
		`if platform.system() != "Linux":`,
		`    raise SkipTest("not on Linux")`}},
	{"skip_if_no_bitcoind_tracepoints", "", "", nil},
	{"skip_if_no_python_bcc", "bcc", "with the bcc module", []string{
		`try:`,
		`    import bcc  # type: ignore[import] # noqa: F401`,
		`except ImportError:`,
		`    raise SkipTest("the bcc Python module is not installed")`}},
	{"skip_if_no_bpf_permissions", "root", "as root", []string{
		`if os.geteuid() != 0:`,
		`    raise SkipTest("loading BPF programs needs root")`}},
	{"skip_if_running_under_valgrind", "", "", nil},
}

// frameworkOf is what a skeleton for the tree of layout uses: every
// helper of the newest Bitcoin Core when the tree has no framework.
func frameworkOf(layout *patches.Layout) testFramework {
	var fw *patches.Framework
	if layout != nil {
		fw = layout.Framework
	}
	has := func(set map[string]bool, name string) bool { return fw == nil || set[name] }
	var methods, names, util map[string]bool
	if fw != nil {
		methods, names, util = fw.Methods, fw.Names, fw.Util
	}
	f := testFramework{
		Imports:     []string{"BitcoinTestFramework"},
		Cflags:      has(util, "bpf_cflags"),
		AssertEqual: has(util, "assert_equal"),
		TestFile:    fw == nil || fw.TestFile,
		Own:         map[string]bool{},
	}
	var own, lacking []string
	for _, s := range tracepointSkips {
		switch {
		case has(methods, s.method):
			f.Checks = append(f.Checks, "        self."+s.method+"()")
		case s.own != "":
			f.Own[s.own] = true
			own = append(own, s.phrase)
			for _, c := range s.code {
				f.Checks = append(f.Checks, "        "+c)
			}
		case s.method == "skip_if_no_bitcoind_tracepoints":
			lacking = append(lacking, "It cannot tell whether bitcoind was built with tracepoints; without them, enable_probe fails.")
		}
	}
	if len(own) > 0 {
		note := "This tree's test framework lacks checks that a tracepoint test needs, so the test makes its own: it runs only " + andList(own) + "."
		f.OwnNote = wrap("        # ", commentWidth+4, strings.Join(append([]string{note}, lacking...), " "))
		if has(names, "SkipTest") {
			f.Imports = append(f.Imports, "SkipTest")
		} else {
			f.SkipImport = "from unittest import SkipTest"
		}
	}
	if f.AssertEqual {
		f.Util = append(f.Util, "assert_equal")
	}
	if f.Cflags {
		f.Util = append(f.Util, "bpf_cflags")
	}
	return f
}

type testEvent struct {
	cEvent
	Intro []string
	Todo  []string
}

// genTest writes a functional test in the style of Bitcoin Core's
// test/functional/interface_usdt_*.py: a bcc program and a ctypes
// structure per tracepoint, and a sub-test per tracepoint that hooks into
// it, leaves making the node pass it to a person, and compares the hits
// with the values the person lists. It imports and calls only what the
// test framework of opts.Layout defines, and makes the checks that
// framework lacks (Linux, bcc, root) itself.
func genTest(out *Output, m *Model, opts Options) error {
	f := testFile{Class: "USDTTracepointTest", testFramework: frameworkOf(opts.Layout)}
	contexts := map[string]bool{}
	for _, tp := range m.Tracepoints {
		contexts[tp.Context] = true
	}
	what := tracepointList(m.Tracepoints) + " tracepoints"
	switch {
	case len(m.Tracepoints) == 1:
		tp := m.Tracepoints[0]
		f.Class = camel(m.base(tp)) + "TracepointTest"
		what = tp.ID() + " tracepoint"
	case len(contexts) == 1:
		f.Class = camel(m.Tracepoints[0].Context) + "TracepointTest"
	}
	f.Doc = wrap("", commentWidth-4, "Tests the "+what+".")
	for _, tp := range m.Tracepoints {
		base := m.base(tp)
		ev := testEvent{cEvent: bccEvent(out, tp, base, 0, base+"_events")}
		intro := "Hooks into " + tp.ID() + ", makes the node pass it, and compares the arguments of every hit with what the node did."
		ev.Intro = wrap("        # ", commentWidth+4, intro)
		if tp.Doc != nil && m.DocPath != "" {
			ev.Intro = append(ev.Intro, "        # See "+commentText(m.DocPath)+"#"+anchor("Tracepoint "+tp.ID()))
		} else {
			ev.Intro = append(ev.Intro, "        # It is not documented yet: usdtkit gen --lang doc writes an entry.")
		}
		todo := "Do what makes the node pass " + tp.ID() + ", then list what each hit should carry, as values() returns it"
		if len(ev.Names) > 0 {
			todo += ": (" + strings.Join(ev.Names, ", ") + ")."
		} else {
			todo += ": ()."
		}
		for _, a := range tp.Args {
			if a.Type.Kind == docs.Bytes {
				todo += " Byte buffers are bytes in memory order; a hash that an RPC shows as hex is bytes.fromhex(hex)[::-1]."
				break
			}
		}
		ev.Todo = wrap("        # ", commentWidth+4, "TODO: "+todo)
		f.Events = append(f.Events, ev)
	}
	text, err := execute("functest.tmpl", f)
	if err != nil {
		return err
	}
	out.Text = text
	return nil
}

// anchor is the fragment GitHub gives a Markdown heading: lower case,
// spaces as '-', punctuation other than '-' and '_' dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
