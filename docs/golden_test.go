package docs

import (
	"github.com/usdtkit/usdtkit/elf/elftest"

	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/parse/*.txtar")

// TestGolden parses the doc.md of every testdata/parse/*.txtar and compares
// the model, the problems and the document written back with the archive's
// other sections.
func TestGolden(t *testing.T) {
	elftest.Golden(t, "testdata/parse/*.txtar", *update, []string{"model", "problems", "format"}, func(t *testing.T, ar *elftest.Archive) map[string]string {
		input, ok := ar.File("doc.md")
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
		return map[string]string{"model": dumpDoc(doc), "problems": dumpProblems(doc), "format": formatDoc(doc)}
	})
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
