package docs

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/parse/*.txtar")

// TestGolden parses the doc.md of every testdata/parse/*.txtar and compares
// the model, the problems and the document written back with the archive's
// other sections.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := readArchive(file)
			if err != nil {
				t.Fatal(err)
			}
			input, ok := ar.file("doc.md")
			if !ok {
				t.Fatal("no doc.md section")
			}
			doc, err := Parse("doc.md", bytes.NewReader(input))
			if doc == nil {
				t.Fatalf("Parse: %v", err)
			}
			if (err != nil) != (len(doc.Problems) > 0) {
				t.Fatalf("Parse error %v with %d problems", err, len(doc.Problems))
			}
			var se *SyntaxError
			if err != nil && (!errors.As(err, &se) || se != doc.Problems[0]) {
				t.Fatalf("errors.As does not find the first problem in %v", err)
			}
			got := map[string]string{
				"model":    dumpDoc(doc),
				"problems": dumpProblems(doc),
				"format":   formatDoc(doc),
			}
			if *update {
				for _, name := range []string{"model", "problems", "format"} {
					ar.set(name, []byte(got[name]))
				}
				if err := os.WriteFile(file, ar.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, name := range []string{"model", "problems", "format"} {
				want, ok := ar.file(name)
				if !ok {
					t.Errorf("no %s section; run go test -update", name)
					continue
				}
				if string(want) != got[name] {
					t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got[name], want)
				}
			}
		})
	}
}

func dumpDoc(d *Doc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "lines %d\n", d.Lines)
	inContext := map[*Tracepoint]bool{}
	for _, c := range d.Contexts {
		fmt.Fprintf(&b, "context %s lines %d-%d\n", c.Name, c.Line, c.EndLine)
		fmt.Fprintf(&b, "  description: %q\n", c.Description)
		for _, tp := range c.Tracepoints {
			inContext[tp] = true
			dumpTracepoint(&b, tp, "  ")
		}
	}
	for _, tp := range d.Tracepoints {
		if !inContext[tp] {
			b.WriteString("outside any context\n")
			dumpTracepoint(&b, tp, "  ")
		}
	}
	return b.String()
}

func dumpTracepoint(b *strings.Builder, tp *Tracepoint, indent string) {
	fmt.Fprintf(b, "%stracepoint %s lines %d-%d args-line %d\n", indent, tp.ID(), tp.Line, tp.EndLine, tp.ArgsLine)
	fmt.Fprintf(b, "%s  description: %q\n", indent, tp.Description)
	for _, a := range tp.Args {
		spec := "-"
		if s, ok := a.Type.Spec(8); ok {
			spec = s.String()
		}
		fmt.Fprintf(b, "%s  arg %d lines %d-%d: %s %s desc=%q phrase=%q remark=%q\n",
			indent, a.Index, a.Line, a.EndLine, a.Type, spec, a.Description, a.TypePhrase, a.Remark)
		if a.Err != nil {
			fmt.Fprintf(b, "%s    err: %v\n", indent, a.Err)
		}
	}
	fmt.Fprintf(b, "%s  notes: %q\n", indent, tp.Notes)
}

func dumpProblems(d *Doc) string {
	var b strings.Builder
	for _, p := range d.Problems {
		b.WriteString(p.Error() + "\n")
	}
	return b.String()
}

func formatDoc(d *Doc) string {
	var parts []string
	for _, c := range d.Contexts {
		parts = append(parts, FormatContext(c))
	}
	return strings.Join(parts, "\n")
}
