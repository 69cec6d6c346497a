package patches

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/patches/patchtest"
)

func TestAddTracepoint(t *testing.T) {
	args := []NewArg{
		{Name: "peer_id", Expr: "node.GetId()"},
		{Name: "addr", Expr: "node.m_addr_name.c_str()"},
	}
	long := []NewArg{
		{Name: "peer_id", Expr: "node.GetId()"},
		{Name: "addr", Expr: "node.m_addr_name_that_is_quite_long_indeed.c_str()"},
		{Name: "conn_type", Expr: "node.ConnectionTypeAsString().c_str()"},
	}
	tests := []struct {
		name string
		src  string
		line int
		args []NewArg
		want string
	}{{
		name: "semaphores and include",
		src:  "#include <net.h>\n\n#include <util/trace.h>\n\nTRACEPOINT_SEMAPHORE(net, a);\n\nvoid f()\n{\n    g();\n}\n",
		line: 9, args: args,
		want: "#include <net.h>\n\n#include <util/trace.h>\n\nTRACEPOINT_SEMAPHORE(net, a);\nTRACEPOINT_SEMAPHORE(net, closed);\n\nvoid f()\n{\n" +
			"    TRACEPOINT(net, closed, node.GetId(), node.m_addr_name.c_str());\n    g();\n}\n",
	}, {
		name: "no semaphore, no trace include",
		src:  "#include <net.h>\n\n#include <logging.h>\n#include <vector>\n\nvoid f()\n{\n}\n",
		line: 8, args: nil,
		want: "#include <net.h>\n\n#include <logging.h>\n#include <util/trace.h>\n#include <vector>\n\nTRACEPOINT_SEMAPHORE(net, closed);\n\nvoid f()\n{\n" +
			"    TRACEPOINT(net, closed);\n}\n",
	}, {
		name: "own header first, conditional last include",
		src:  "#include <validation.h>\n\n#include <addrman.h>\n#include <util/time.h>\n#include <zmq.h>\n\n#ifdef X\n#if Y\n#include <x.h>\n#endif\n#endif // X\n\nint f()\n{\n    return 0;\n}\n",
		line: 15, args: nil,
		want: "#include <validation.h>\n\n#include <addrman.h>\n#include <util/time.h>\n#include <util/trace.h>\n#include <zmq.h>\n\n#ifdef X\n#if Y\n#include <x.h>\n#endif\n#endif // X\n\nTRACEPOINT_SEMAPHORE(net, closed);\n\nint f()\n{\n" +
			"    TRACEPOINT(net, closed);\n    return 0;\n}\n",
	}, {
		name: "long call, tabs",
		src:  "#include <util/trace.h>\nvoid f()\n{\n\tg();\n}\n",
		line: 4, args: long,
		want: "#include <util/trace.h>\n\nTRACEPOINT_SEMAPHORE(net, closed);\nvoid f()\n{\n" +
			"\tTRACEPOINT(net, closed,\n\t\tnode.GetId(),\n\t\tnode.m_addr_name_that_is_quite_long_indeed.c_str(),\n\t\tnode.ConnectionTypeAsString().c_str());\n\tg();\n}\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AddTracepoint("f.cpp", []byte(tt.src), tt.line, NewTracepoint{Context: "net", Event: "closed", Args: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if ms, err := Scan("f.cpp", got); err != nil || len(ms) < 2 {
				t.Errorf("patched file scans to %v, %v", ms, err)
			}
		})
	}
}

func TestAddTracepointErrors(t *testing.T) {
	src := []byte("#include <util/trace.h>\nTRACEPOINT_SEMAPHORE(net, closed);\nvoid f() {}\n")
	ok := NewTracepoint{Context: "net", Event: "other"}
	tests := []struct {
		name string
		line int
		tp   NewTracepoint
	}{
		{"line 0", 0, ok},
		{"line past the end", 4, ok},
		{"bad context", 3, NewTracepoint{Context: "net-x", Event: "e"}},
		{"existing", 3, NewTracepoint{Context: "net", Event: "closed"}},
		{"bad arg name", 3, NewTracepoint{Context: "net", Event: "e", Args: []NewArg{{Name: "a b", Expr: "x"}}}},
		{"no expr", 3, NewTracepoint{Context: "net", Event: "e", Args: []NewArg{{Name: "a"}}}},
		{"13 args", 3, NewTracepoint{Context: "net", Event: "e", Args: make([]NewArg, 13)}},
	}
	for _, tt := range tests {
		_, err := AddTracepoint("f.cpp", src, tt.line, tt.tp)
		if !errors.Is(err, ErrBadTracepoint) {
			t.Errorf("%s: err = %v, want ErrBadTracepoint", tt.name, err)
		}
	}
}

func TestDuplicateArgNames(t *testing.T) {
	tp := NewTracepoint{Context: "net", Event: "e", Args: []NewArg{{Name: "a", Expr: "1"}, {Name: "a", Expr: "2"}}}
	_, err := AddTracepoint("f.cpp", []byte("void f()\n{\n}\n"), 3, tp)
	if !errors.Is(err, ErrBadTracepoint) || !strings.Contains(err.Error(), "arguments 1 and 2 are both named a") {
		t.Errorf("err = %v", err)
	}
}

// FuzzAddTracepoint: any source takes a tracepoint at any of its lines, and
// the patched source has the call and the semaphore.
func FuzzAddTracepoint(f *testing.F) {
	f.Add([]byte("#include <a.h>\nvoid f()\n{\n}\n"), 3)
	f.Add([]byte("#ifdef X\n#include <x.h>\n#endif\nint x;\n"), 4)
	f.Add([]byte("TRACEPOINT_SEMAPHORE(a, b);\n\tg();"), 2)
	f.Fuzz(func(t *testing.T, src []byte, line int) {
		tp := NewTracepoint{Context: "fuzz", Event: "added", Args: []NewArg{{Name: "n", Expr: "n"}}}
		got, err := AddTracepoint("f.cpp", src, line, tp)
		if err != nil {
			return
		}
		// The call is only seen as one where a statement may start (not
		// after "a." on the line before, say), so look for its text.
		call := strings.Contains(strings.Join(strings.Fields(string(got)), " "), "TRACEPOINT(fuzz, added, n);")
		ms, _ := Scan("f.cpp", got)
		sema := false
		for _, m := range ms {
			sema = sema || m.Kind == Semaphore && m.ID() == "fuzz:added"
		}
		if !call || !sema {
			t.Errorf("patched source lacks the call (%v) or the semaphore (%v):\n%s", call, sema, got)
		}
	})
}

func TestIsASCIIIdent(t *testing.T) {
	for s, want := range map[string]bool{
		"": false, "a": true, "_": true, "Z9": true, "net_inbound_message": true, "_9_": true,
		"9a": false, "a-b": false, "a b": false, "a$": false, "é": false, "a\n": false, "\na": false, "a:b": false,
	} {
		if got := isASCIIIdent(s); got != want {
			t.Errorf("isASCIIIdent(%q) = %v, want %v", s, got, want)
		}
	}
}

// In each test tree the call, the semaphore and the include follow the
// tree's util/trace.h, and the patched file compiles against it.
func TestScaffoldStages(t *testing.T) {
	want := map[string][3]string{ // the call with none, one and two arguments; the semaphore
		"trace-n":         {"    TRACE(init, started);\n", "    TRACE1(init, started, height);\n", "    TRACE2(init, started, height, name.c_str());\n"},
		"trace-n-wrapped": {"    TRACE(init, started);\n", "    TRACE1(init, started, height);\n", "    TRACE2(init, started, height, name.c_str());\n"},
		"variadic":        {"    TRACEPOINT(init, started);\n", "    TRACEPOINT(init, started, height);\n", "    TRACEPOINT(init, started, height, name.c_str());\n"},
		"semaphores":      {"    TRACEPOINT(init, started);\n", "    TRACEPOINT(init, started, height);\n", "    TRACEPOINT(init, started, height, name.c_str());\n"},
	}
	args := []NewArg{{Name: "height", Expr: "height"}, {Name: "name", Expr: "name.c_str()"}}
	long := []NewArg{
		{Name: "height", Expr: "static_cast<int32_t>(height)"},
		{Name: "name", Expr: "name.c_str()"},
		{Name: "length", Expr: "static_cast<uint64_t>(name.size())"},
		{Name: "starts", Expr: "static_cast<int64_t>(g_starts) + 1000000000"},
	}
	for _, tr := range patchtest.Trees {
		t.Run(tr.Name, func(t *testing.T) {
			root := tr.Copy(t)
			l, err := ReadLayout(root)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, "src", "init.cpp")
			src, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			line := 1 + strings.Count(string(src[:strings.Index(string(src), "    return true;")]), "\n")
			for n, as := range [][]NewArg{nil, args[:1], args, long} {
				got, err := l.AddTracepoint("src/init.cpp", src, line, NewTracepoint{Context: "init", Event: "started", Args: as})
				if err != nil {
					t.Fatal(err)
				}
				text := string(got)
				if n < 3 && !strings.Contains(text, "\n"+want[tr.Name][n]+"    return true;\n") {
					t.Errorf("%d arguments: no %q before the line:\n%s", n, want[tr.Name][n], text)
				}
				if n == 3 && !strings.Contains(text, l.CallMacro(4)+"(init, started,\n        static_cast<int32_t>(height),\n") {
					t.Errorf("four long arguments are not one a line:\n%s", text)
				}
				if !strings.Contains(text, "#include <net.h>\n#include <util/trace.h>\n") {
					t.Errorf("no include:\n%s", text)
				}
				if sema := strings.Contains(text, "TRACEPOINT_SEMAPHORE(init, started);\n"); sema != (tr.Name == "semaphores") {
					t.Errorf("semaphore written: %v", sema)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				tr.Compile(t, root, "src/init.cpp")
			}
			tr.Compile(t, root, "src/net.cpp") // the tree's own calls
		})
	}
}

func TestAddTracepointTraceLimit(t *testing.T) {
	l := &Layout{Stage: StageTraceN, StageFrom: "src/util/trace.h", traceLimit: 3}
	src := []byte("void f()\n{\n}\n")
	tp := NewTracepoint{Context: "a", Event: "b", Args: []NewArg{{Name: "x", Expr: "1"}, {Name: "y", Expr: "2"}}}
	if got, err := l.AddTracepoint("f.cpp", src, 3, tp); err != nil || !strings.Contains(string(got), "TRACE2(a, b, 1, 2);") {
		t.Fatalf("two arguments: %v\n%s", err, got)
	}
	tp.Args = append(tp.Args, NewArg{Name: "z", Expr: "3"})
	_, err := l.AddTracepoint("f.cpp", src, 3, tp)
	if !errors.Is(err, ErrBadTracepoint) || err.Error() != "tracepoint a:b: 3 arguments, but src/util/trace.h defines no TRACE3 (at most 2): bad tracepoint" {
		t.Errorf("three arguments: %v", err)
	}
}

// A file whose own headers are all in quotes gets util/trace.h in quotes.
func TestAddTracepointQuotedIncludes(t *testing.T) {
	src := "#include \"net.h\"\n#include \"util/time.h\"\n#include <vector>\n\nvoid f()\n{\n}\n"
	got, err := AddTracepoint("f.cpp", []byte(src), 7, NewTracepoint{Context: "a", Event: "b"})
	if err != nil {
		t.Fatal(err)
	}
	want := "#include \"net.h\"\n#include \"util/time.h\"\n#include \"util/trace.h\"\n#include <vector>\n\nTRACEPOINT_SEMAPHORE(a, b);\n\nvoid f()\n{\n    TRACEPOINT(a, b);\n}\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A TRACEn of the tracepoint in the file already is refused as the others are.
func TestAddTracepointExistingTrace(t *testing.T) {
	l := &Layout{Stage: StageTraceN}
	_, err := l.AddTracepoint("f.cpp", []byte("void f()\n{\n    TRACE1(a, b, 1);\n}\n"), 4, NewTracepoint{Context: "a", Event: "b"})
	if !errors.Is(err, ErrBadTracepoint) || !strings.Contains(err.Error(), "f.cpp:3: already has trace for a:b") {
		t.Errorf("err = %v", err)
	}
}
