package docs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const small = "# Doc\n\n### Context `net`\n\n#### Tracepoint `net:a`\n\nFires.\n\nArguments passed:\n1. Id as `int64`\n\n" +
	"#### Tracepoint `net:b`\n\n### Context `pool`\n\nPool things.\n\n#### Tracepoint `pool:c`\n\n## Other\n"

func TestParseLines(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n"} {
		doc, err := Parse("s.md", strings.NewReader(strings.ReplaceAll(small, "\n", nl)))
		if err != nil {
			t.Fatal(err)
		}
		if doc.Lines != 20 {
			t.Errorf("%q: %d lines, want 20", nl, doc.Lines)
		}
		net, pool := doc.Context("net"), doc.Context("pool")
		if net == nil || pool == nil || doc.Context("none") != nil {
			t.Fatalf("%q: contexts %+v", nl, doc.Contexts)
		}
		if net.Line != 3 || net.EndLine != 12 || pool.Line != 14 || pool.EndLine != 18 {
			t.Errorf("%q: net %d-%d, pool %d-%d; want 3-12 and 14-18", nl, net.Line, net.EndLine, pool.Line, pool.EndLine)
		}
		a := doc.Tracepoint("net:a")
		if a == nil || a.ID() != "net:a" || a.Line != 5 || a.EndLine != 10 || a.ArgsLine != 9 || a.Description != "Fires." {
			t.Fatalf("%q: net:a = %+v", nl, a)
		}
		if len(a.Args) != 1 || a.Args[0].Line != 10 || a.Args[0].Description != "Id" {
			t.Errorf("%q: args %+v", nl, a.Args)
		}
		if b := doc.Tracepoint("net:b"); b == nil || b.Line != 12 || b.EndLine != 12 || len(b.Args) != 0 {
			t.Errorf("%q: net:b = %+v", nl, b)
		}
		if doc.Tracepoint("net:none") != nil {
			t.Error("found a tracepoint that is not there")
		}
		if pool.Description != "Pool things." {
			t.Errorf("%q: pool description %q", nl, pool.Description)
		}
		for _, tt := range []struct {
			context string
			after   int
			found   bool
		}{{"net", 12, true}, {"pool", 18, true}, {"chain", 18, false}} {
			if after, found := doc.InsertLine(tt.context); after != tt.after || found != tt.found {
				t.Errorf("%q: InsertLine(%s) = %d, %v; want %d, %v", nl, tt.context, after, found, tt.after, tt.found)
			}
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# Title only\n", "no newline at the end"} {
		doc, err := Parse("e.md", strings.NewReader(in))
		if err != nil || doc == nil {
			t.Fatalf("Parse(%q) = %v, %v", in, doc, err)
		}
		if doc.Contexts == nil || doc.Tracepoints == nil || doc.Problems == nil {
			t.Errorf("Parse(%q): nil slices in %+v", in, doc)
		}
		if after, found := doc.InsertLine("x"); after != 0 || found {
			t.Errorf("Parse(%q): InsertLine = %d, %v", in, after, found)
		}
	}
}

func TestParseLimits(t *testing.T) {
	big := bytes.Repeat([]byte("x"), MaxSize+1)
	if doc, err := Parse("big.md", bytes.NewReader(big)); doc != nil || !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxSize: %v, %v", doc, err)
	}
	if _, err := Parse("ok.md", bytes.NewReader(big[:MaxSize])); err != nil {
		t.Errorf("exactly MaxSize: %v", err)
	}
	lines := bytes.Repeat([]byte("\n"), MaxLines+1)
	if doc, err := Parse("lines.md", bytes.NewReader(lines)); doc != nil || !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxLines: %v, %v", doc, err)
	}
	if _, err := Parse("lines.md", bytes.NewReader(lines[:MaxLines])); err != nil {
		t.Errorf("exactly MaxLines: %v", err)
	}

	// Problems are bounded too.
	var b strings.Builder
	b.WriteString("### Context `c`\n#### Tracepoint `c:e`\nArguments passed:\n")
	for range maxProblems + 10 {
		b.WriteString("1. Thing as `Unknown`\n")
	}
	doc, err := Parse("many.md", strings.NewReader(b.String()))
	if doc == nil || len(doc.Problems) != maxProblems+1 || err == nil {
		t.Fatalf("many problems: %d, %v", len(doc.Problems), err)
	}
	if last := doc.Problems[maxProblems]; !strings.Contains(last.Msg, "not listed") {
		t.Errorf("last problem %v", last)
	}
	if n := len(doc.Tracepoints[0].Args); n != maxProblems+10 {
		t.Errorf("%d args, want all %d", n, maxProblems+10)
	}
	for i, a := range doc.Tracepoints[0].Args {
		if a.Err == nil || a.Index != i {
			t.Fatalf("arg %d: %+v", i, a)
		}
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestParseErrors(t *testing.T) {
	if doc, err := Parse("r.md", errReader{}); doc != nil || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.HasPrefix(err.Error(), "read r.md: ") {
		t.Errorf("read error: %v, %v", doc, err)
	}
	doc, err := Parse("p.md", strings.NewReader("### Context `c`\n#### Tracepoint `c:e`\nArguments passed:\n1. X as `nope`\n2. Y as `int8`\n"))
	var se *SyntaxError
	if doc == nil || !errors.As(err, &se) {
		t.Fatalf("problem: %v, %v", doc, err)
	}
	if se.File != "p.md" || se.Line != 4 || se.Error() != `p.md:4: argument 1: `+se.Msg[len("argument 1: "):] {
		t.Errorf("SyntaxError %+v: %s", se, se)
	}
	args := doc.Tracepoints[0].Args
	if len(args) != 2 || args[0].Err != error(doc.Problems[0]) || args[0].Type.Kind != Invalid || args[1].Type != (Type{Kind: Int, Size: 1}) {
		t.Errorf("a bad argument shifted or dropped its neighbour: %+v", args)
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tracing.md")
	if err := os.WriteFile(path, []byte(small), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := ParseFile(path)
	if err != nil || doc.Name != path || len(doc.Tracepoints) != 3 {
		t.Errorf("ParseFile: %+v, %v", doc, err)
	}
	if _, err := ParseFile(filepath.Join(dir, "missing.md")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.md")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if doc, err := ParseFile(big); doc != nil || !errors.Is(err, ErrTooLarge) {
		t.Errorf("big file: %v, %v", doc, err)
	}
}

// TestHeadings checks what is a heading and what is not.
func TestHeadings(t *testing.T) {
	tests := []struct {
		line  string
		level int
		text  string
		ok    bool
	}{
		{"### Context `net`", 3, "Context `net`", true},
		{"#### Tracepoint `a:b` ####", 4, "Tracepoint `a:b`", true},
		{"## Title#", 2, "Title#", true},
		{"##", 2, "", true},
		{"## ##", 2, "", true},
		{"#include <x.h>", 0, "", false},
		{"####### seven", 0, "", false},
		{"#\tTabbed", 1, "Tabbed", true},
	}
	for _, tt := range tests {
		level, text, ok := atxHeading(tt.line)
		if level != tt.level || text != tt.text || ok != tt.ok {
			t.Errorf("atxHeading(%q) = %d, %q, %v; want %d, %q, %v", tt.line, level, text, ok, tt.level, tt.text, tt.ok)
		}
	}
	// Indented four columns, a heading is code.
	doc, _ := Parse("i.md", strings.NewReader("    ### Context `net`\n"))
	if len(doc.Contexts) != 0 {
		t.Errorf("indented heading read as a context")
	}
	// A longer closing fence closes; a shorter one does not.
	doc, _ = Parse("f.md", strings.NewReader("````md\n```\n### Context `hidden`\n`````\n### Context `seen`\n"))
	if len(doc.Contexts) != 1 || doc.Contexts[0].Name != "seen" {
		t.Errorf("fences: contexts %+v", doc.Contexts)
	}
}

// TestProseHeadings checks that headings which merely start with a
// keyword are not entries away from the entry's own level.
func TestProseHeadings(t *testing.T) {
	in := "### Context `net`\n\n#### Tracepoint `net:a`\n\n## Tracepoint documentation\n\n## Context switching\n\n" +
		"### Context `pool`\n\n## Tracepoint `pool:b`\n"
	doc, err := Parse("p.md", strings.NewReader(in))
	if len(doc.Contexts) != 2 || len(doc.Tracepoints) != 2 || doc.Tracepoints[1].ID() != "pool:b" {
		t.Fatalf("contexts %+v, tracepoints %+v", doc.Contexts, doc.Tracepoints)
	}
	if net := doc.Context("net"); net.EndLine != 3 {
		t.Errorf("net ends at %d, want 3", net.EndLine)
	}
	if len(doc.Problems) != 1 || doc.Problems[0].Line != 11 || !strings.Contains(err.Error(), "level 2") {
		t.Errorf("problems %v", doc.Problems)
	}
}
