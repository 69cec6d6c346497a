package patches

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzScan feeds arbitrary source to the tokenizer and finder, without the
// panic recovery of the exported entry points, and checks what it reports.
// The seed corpus is in testdata/fuzz/FuzzScan.
func FuzzScan(f *testing.F) {
	f.Add([]byte("TRACEPOINT(net, closed, id, name.c_str());\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		info, err := scanFile("f.cpp", src)
		if info == nil {
			t.Fatalf("no FileInfo (err %v)", err)
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Col < 1 || se.File != "f.cpp" {
				t.Fatalf("bad error %#v", err)
			}
		}
		joined, splices := splice(src)
		if len(info.Macros) > 0 && !bytes.Contains(joined, []byte("TRACE")) && !bytes.Contains(joined, []byte("STAP_PROBE")) {
			t.Fatalf("macros found in a source without their names: %+v", info.Macros)
		}
		maxLine := bytes.Count(src, []byte{'\n'}) + 1
		spliced := splices != nil
		lineStarts := []int{0}
		for i, c := range src {
			if c == '\n' {
				lineStarts = append(lineStarts, i+1)
			}
		}
		semaphores := 0
		prevLine, prevCol := 0, 0
		for _, m := range info.Macros {
			if m.Line < 1 || m.Col < 1 || m.EndLine < m.Line || m.EndLine > maxLine {
				t.Fatalf("bad position %d:%d-%d of %+v", m.Line, m.Col, m.EndLine, m)
			}
			if m.Line < prevLine || m.Line == prevLine && m.Col <= prevCol {
				t.Fatalf("%d:%d after %d:%d", m.Line, m.Col, prevLine, prevCol)
			}
			prevLine, prevCol = m.Line, m.Col
			kind, want, ok := classify([]byte(m.Name))
			if !ok || kind != m.Kind {
				t.Fatalf("%s reported as %v", m.Name, m.Kind)
			}
			if kind == Semaphore {
				semaphores++
			}
			for _, a := range m.Args {
				// C's white space; "\u2000" is no space to a compiler.
				if strings.Trim(a, " \t\n\v\f\r") != a {
					t.Fatalf("argument %q not trimmed", a)
				}
			}
			if !spliced {
				// The position is that of the name in the original.
				if start := lineStarts[m.Line-1] + m.Col - 1; !bytes.HasPrefix(src[start:], []byte(m.Name)) {
					t.Fatalf("%s at %d:%d points at %.20q", m.Name, m.Line, m.Col, src[start:])
				}
			}
			if m.Err != nil {
				continue
			}
			if !isIdent(m.Context) || !isIdent(m.Event) {
				t.Fatalf("%s reported without an error", m.ID())
			}
			if want >= 0 && len(m.Args) != want || len(m.Args) > MaxArgs {
				t.Fatalf("%s with %d arguments reported without an error", m.Name, len(m.Args))
			}
			roundTrip(t, m)
		}
		if semaphores != len(info.Semaphores) {
			t.Fatalf("%d semaphore macros, %d semaphore lines", semaphores, len(info.Semaphores))
		}
		for _, inc := range info.Includes {
			if inc.Line < 1 || inc.Line > maxLine || inc.Line > info.LastInclude {
				t.Fatalf("bad include %+v (last %d)", inc, info.LastInclude)
			}
		}
	})
}

func isIdent(s string) bool {
	if s == "" || class[s[0]]&cIdentStart == 0 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if class[s[i]]&cIdent == 0 {
			return false
		}
	}
	return true
}

// roundTrip checks that writing a well-formed call out again, one argument
// and comma per line, reads back as the same call.
func roundTrip(t *testing.T, m Macro) {
	if len(m.Cond) > 0 {
		return // a skipped block may hold what only reads there
	}
	parts := append([]string{m.Context, m.Event}, m.Args...)
	for _, a := range m.Args {
		if strings.HasPrefix(a, "#") || strings.HasSuffix(a, "\\") || openChar(a) {
			return // would be a directive, a line splice, or run on
		}
	}
	src := m.Name + "(\n" + strings.Join(parts, "\n,\n") + "\n)"
	again, err := scanFile("again.cpp", []byte(src))
	if err != nil || len(again.Macros) != 1 {
		t.Fatalf("%q read back as %+v, %v", src, again.Macros, err)
	}
	a := again.Macros[0]
	if a.Name != m.Name || a.ID() != m.ID() || strings.Join(a.Args, "\x00") != strings.Join(m.Args, "\x00") || a.Err != nil {
		t.Fatalf("%q read back as %+v", src, a)
	}
}

// openChar reports whether s holds a character literal cut short by the end
// of its line, which would run on over what follows it on one line.
func openChar(s string) bool {
	lx := newLexer("", []byte(s))
	for t := lx.next(); t.kind != tokEOF; t = lx.next() {
		if t.kind == tokChar && (t.end-t.off < 2 || s[t.end-1] != '\'') {
			return true
		}
	}
	return false
}

// FuzzReadPython reads arbitrary text as a test framework module: every
// name it reports is a Python identifier found in the text, and the
// methods are read only from the class asked for.
func FuzzReadPython(f *testing.F) {
	f.Add([]byte("class BitcoinTestFramework:\n    def __init__(self, test_file):\n        self.log = None\n\n\ndef f():\n    pass\n"))
	f.Add([]byte("X: int = 1\nclass A:\n    self.a, self.b = 1, 2\n\tdef g(self): self.c == 1\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		fw := &Framework{Methods: map[string]bool{}, Names: map[string]bool{}}
		readPython(src, fw.Names, "BitcoinTestFramework", fw)
		text := string(src)
		for _, set := range []map[string]bool{fw.Methods, fw.Names} {
			for name := range set {
				if !isASCIIIdent(name) || !strings.Contains(text, name) {
					t.Fatalf("name %q is not an identifier of the text", name)
				}
			}
		}
		if len(fw.Methods) > 0 && !strings.Contains(text, "class BitcoinTestFramework") {
			t.Fatalf("methods %v without the class", fw.Methods)
		}
		if fw.TestFile && !strings.Contains(text, "test_file") {
			t.Fatal("TestFile without test_file")
		}
	})
}
