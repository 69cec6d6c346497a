package gen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
	"github.com/usdtkit/usdtkit/patches"
	"github.com/usdtkit/usdtkit/patches/patchtest"
)

var update = flag.Bool("update", false, "rewrite the generated sections of testdata/golden/*.txtar")

// TestGolden generates every language from each testdata/golden/*.txtar and
// compares the text and the warnings with the archive's sections.
//
// An archive's inputs are a doc.md (or a path to a doc in "docs"), the
// binary's probes in "notes", one per line ("context:event [sema] SPEC..."),
// written to an ELF file with elftest.Build, sources in src/ files, scanned
// for tracepoint macros, and "options": path=, the binary as the scripts
// name it, patterns=, space-separated globs, tree=, one of the
// patchtest trees whose layout the output is for, and a line "new" that
// keeps only the tracepoints the source has and the doc lacks (--new).
func TestGolden(t *testing.T) {
	names := []string{"bpftrace", "bcc", "go", "doc", "test", "warnings"}
	elftest.Golden(t, "testdata/golden/*.txtar", *update, names, func(t *testing.T, ar *elftest.Archive) map[string]string {
		m, opts := goldenModel(t, ar)
		got := map[string]string{}
		var warnings strings.Builder
		for _, w := range m.Warnings {
			warnings.WriteString("join: " + w.String() + "\n")
		}
		for _, l := range Langs {
			out, err := Generate(l, m, opts)
			if err != nil {
				got[l.String()] = "error: " + err.Error() + "\n"
				continue
			}
			got[l.String()] = out.Text
			for _, w := range out.Warnings {
				warnings.WriteString(l.String() + ": " + w.String() + "\n")
			}
		}
		got["warnings"] = warnings.String()
		return got
	})
}

func goldenModel(t *testing.T, ar *elftest.Archive) (*Model, Options) {
	t.Helper()
	var doc *docs.Doc
	if data, ok := ar.File("doc.md"); ok {
		d, _ := docs.Parse("doc.md", bytes.NewReader(data))
		if d == nil {
			t.Fatal("doc.md cannot be read")
		}
		doc = d
	}
	var opts Options
	var patterns []string
	if data, ok := ar.File("options"); ok {
		for _, line := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(line, "=")
			switch k {
			case "path":
				opts.Path = v
			case "patterns":
				patterns = strings.Fields(v)
			case "tree":
				for _, tr := range patchtest.Trees {
					if tr.Name == v {
						l, err := patches.ReadLayout(tr.Dir(t))
						if err != nil {
							t.Fatal(err)
						}
						l.Root = "." // as where the commands run
						opts.Layout = l
					}
				}
				if opts.Layout == nil {
					t.Fatalf("no patchtest tree %q", v)
				}
			case "docs":
				d, _ := docs.ParseFile(v)
				if d == nil {
					t.Fatalf("%s cannot be read", v)
				}
				doc = d
			}
		}
	}
	var bin *elf.File
	if data, ok := ar.File("notes"); ok {
		var spec elftest.Spec
		for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			ctx, event, _ := strings.Cut(f[0], ":")
			n := elftest.Note{Provider: ctx, Name: event, PC: elftest.TextAddr + uint64(i)*16}
			args := f[1:]
			if len(args) > 0 && args[0] == "sema" {
				n.Semaphore = elftest.DataAddr + uint64(i)*2
				args = args[1:]
			}
			n.Args = strings.Join(args, " ")
			spec.Notes = append(spec.Notes, n)
		}
		data, _ := elftest.Build(spec)
		path := filepath.Join(t.TempDir(), "bin")
		if err := os.WriteFile(path, data, 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := elf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		f.Path = "build/bin/node"
		bin = f
	}
	var src *contract.Source
	var onlyNew bool
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "src/") {
			continue
		}
		if src == nil {
			src = &contract.Source{Path: "src"}
		}
		macros, err := patches.Scan(f.Name, f.Data)
		if err != nil {
			t.Fatal(err)
		}
		src.Macros = append(src.Macros, macros...)
	}
	if data, ok := ar.File("options"); ok {
		onlyNew = strings.Contains("\n"+string(data)+"\n", "\nnew\n")
	}
	m := join(doc, bin, src, patterns...)
	if onlyNew {
		m = m.Filter(func(tp *Tracepoint) bool { return tp.Call() != nil && tp.Doc == nil })
	}
	return m, opts
}
