package docs

import (
	"github.com/usdtkit/usdtkit/elf/elftest"

	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that no input panics the parser, that every line
// number it reports is in the document and in order, that arguments keep
// their positions, that an argument has an error exactly when its type is
// Invalid, and that an entry read without problems is read back the same
// after it is written.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		small,
		"### Context `c`\n#### Tracepoint `c:e`\nArguments passed:\n1. A as `int64`\n. B as` bool`\n3. `uint8` first\n   continued\n",
		"```\n#### Tracepoint `c:x`\n",
		"<!--\n### Context `c`\n-->\n### Context `d`\n#### Tracepoint `e`\nArguments passed: none\n",
		"### Context `c`\n#### Tracepoint `c:e`\nArguments passed:\n- X as `const char *` (max. length 5 characters)\n- Y as `pointer to unsigned chars` (i.e. 32 bytes)\n",
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"irregular", "noargs", "problems"} {
		ar, err := elftest.ReadArchive("testdata/parse/" + name + ".txtar")
		if err != nil {
			f.Fatal(err)
		}
		doc, _ := ar.File("doc.md")
		f.Add(doc)
		// without the item that lacks its number, the irregular document
		// has no problems, so the round trip is checked from the start
		f.Add([]byte(strings.Replace(string(doc), "\n. Whether", "\n4. Whether", 1)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parse("fuzz.md", data)
		if err != nil {
			return // too large
		}
		checkDoc(t, doc)
		if len(doc.Problems) > 0 {
			return
		}
		for _, c := range doc.Contexts {
			text := FormatContext(c)
			again, err := parse("again.md", []byte(text))
			if err != nil || len(again.Problems) > 0 {
				t.Fatalf("written back:\n%s\nproblems: %v", text, again.Problems)
			}
			if len(again.Contexts) != 1 || len(again.Tracepoints) != len(c.Tracepoints) {
				t.Fatalf("written back:\n%s\nreads as %d contexts, %d tracepoints", text, len(again.Contexts), len(again.Tracepoints))
			}
			if again.Contexts[0].Description != c.Description {
				t.Fatalf("context description %q reads back as %q", c.Description, again.Contexts[0].Description)
			}
			for i, tp := range c.Tracepoints {
				want := withoutLines(tp)
				for j := range want.Args {
					if p, err := ParseType(want.Args[j].TypePhrase); err != nil || !sameType(p, want.Args[j].Type) {
						want.Args[j].TypePhrase = want.Args[j].Type.Phrase()
					}
				}
				if got := withoutLines(again.Tracepoints[i]); !reflect.DeepEqual(got, want) {
					t.Fatalf("written back:\n%s\ngot  %#v\nwant %#v", text, got, want)
				}
			}
		}
	})
}

func checkDoc(t *testing.T, doc *Doc) {
	t.Helper()
	last := 1
	for _, p := range doc.Problems {
		if p.Line < last || p.Line > max(doc.Lines, 1) {
			t.Fatalf("problem %v out of order or outside lines 1-%d", p, doc.Lines)
		}
		last = p.Line
	}
	inDoc := func(what string, line, end int) {
		if line < 1 || end < line || end > doc.Lines {
			t.Fatalf("%s: lines %d-%d outside 1-%d", what, line, end, doc.Lines)
		}
	}
	n := 0
	for _, c := range doc.Contexts {
		inDoc("context "+c.Name, c.Line, c.EndLine)
		for _, tp := range c.Tracepoints {
			if tp.Line <= c.Line || tp.EndLine > c.EndLine {
				t.Fatalf("tracepoint %s at %d-%d outside its section %d-%d", tp.ID(), tp.Line, tp.EndLine, c.Line, c.EndLine)
			}
			n++
		}
	}
	if n > len(doc.Tracepoints) {
		t.Fatalf("%d tracepoints in sections, %d in all", n, len(doc.Tracepoints))
	}
	for _, tp := range doc.Tracepoints {
		inDoc("tracepoint "+tp.ID(), tp.Line, tp.EndLine)
		if tp.Context == "" || tp.Event == "" || strings.ContainsAny(tp.ID()[len(tp.Context)+1:], ":") {
			t.Fatalf("tracepoint ID %q", tp.ID())
		}
		if tp.ArgsLine != 0 && (tp.ArgsLine <= tp.Line || tp.ArgsLine > tp.EndLine) {
			t.Fatalf("%s: arguments line %d outside %d-%d", tp.ID(), tp.ArgsLine, tp.Line, tp.EndLine)
		}
		if tp.ArgsLine == 0 && len(tp.Args) > 0 {
			t.Fatalf("%s: arguments without \"Arguments passed:\"", tp.ID())
		}
		prev := tp.ArgsLine
		for i, a := range tp.Args {
			if a.Index != i {
				t.Fatalf("%s: argument %d has index %d", tp.ID(), i, a.Index)
			}
			if a.Line <= prev || a.EndLine < a.Line || a.EndLine > tp.EndLine {
				t.Fatalf("%s: argument %d at lines %d-%d after line %d, entry ends %d", tp.ID(), i, a.Line, a.EndLine, prev, tp.EndLine)
			}
			prev = a.EndLine
			if (a.Err != nil) != (a.Type.Kind == Invalid) {
				t.Fatalf("%s: argument %d has type %v and error %v", tp.ID(), i, a.Type, a.Err)
			}
			if _, ok := a.Type.Spec(8); ok != (a.Type.Kind != Invalid) {
				t.Fatalf("%s: argument %d type %v spec ok=%v", tp.ID(), i, a.Type, ok)
			}
			_ = a.Type.String()
		}
	}
}
