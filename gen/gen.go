package gen

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/template"
	"unicode"

	"github.com/usdtkit/usdtkit/patches"
)

// Lang is a kind of output.
type Lang uint8

const (
	// BPFtrace is a bpftrace script that prints every hit of the
	// tracepoints, one line each.
	BPFtrace Lang = iota + 1
	// BCC is a Python script for bcc that does the same with a BPF C
	// program, a ring buffer and ctypes structures.
	BCC
	// Doc is the tracepoints' entries in Bitcoin Core's doc/tracing.md
	// format.
	Doc
	// Test is a functional test skeleton in the style of Bitcoin Core's
	// test/functional/interface_usdt_*.py.
	Test
	// Go is a standalone Go program that attaches with usdtkit's bpf
	// package and prints every hit, one line each, like the scripts.
	Go
)

var langNames = [...]string{BPFtrace: "bpftrace", BCC: "bcc", Doc: "doc", Test: "test", Go: "go"}

func (l Lang) String() string {
	if int(l) < len(langNames) && langNames[l] != "" {
		return langNames[l]
	}
	return fmt.Sprintf("Lang(%d)", l)
}

// Langs are the languages Generate writes, in the order help text lists them.
var Langs = []Lang{BPFtrace, BCC, Go, Doc, Test}

// ParseLang returns the language named s.
func ParseLang(s string) (Lang, error) {
	for _, l := range Langs {
		if l.String() == s {
			return l, nil
		}
	}
	names := make([]string, len(Langs))
	for i, l := range Langs {
		names[i] = l.String()
	}
	return 0, fmt.Errorf("unknown language %q (want %s)", s, strings.Join(names, ", "))
}

// FileName is the file the output for one tracepoint of the model goes
// to: context_event.bt, context_event.py (bcc), context_event.go,
// context_event.md, and interface_usdt_context_event.py for a test, as
// Bitcoin Core names them. Every tracepoint of a model has a name of its
// own: of two that would share one, the later gets a suffix (_2).
func (m *Model) FileName(l Lang, tp *Tracepoint) string {
	base := m.base(tp)
	switch l {
	case BPFtrace:
		return base + ".bt"
	case BCC:
		return base + ".py"
	case Go:
		return base + ".go"
	case Doc:
		return base + ".md"
	case Test:
		return "interface_usdt_" + base + ".py"
	}
	return base
}

// Options tune the output.
type Options struct {
	// Path is the binary as the generated scripts name it, usually as the
	// user gave it ("./build/bin/bitcoind"). When it is empty a bpftrace
	// script takes the path as its first parameter ($1) and a bcc script
	// as a required argument.
	Path string
	// Script is the name the output will be saved as, used in its usage
	// notes; empty gives a generic name.
	Script string
	// Layout is the source tree the output is for, as patches.ReadLayout
	// or FindLayout found it; nil for none. A test skeleton uses only what
	// its test framework defines (the newest Bitcoin Core's when the tree
	// has none), and when Path is empty every program attaches to the
	// binary where the tree builds it, when its build files say.
	Layout *patches.Layout
}

// Output is generated text and what it could not do.
type Output struct {
	Text string
	// Warnings are the model's warnings about the rendered tracepoints and
	// the limits of the language they hit.
	Warnings []Warning
}

// ErrNoTracepoints is returned by Generate for a model without tracepoints.
var ErrNoTracepoints = errors.New("no tracepoints to generate")

// Generate renders the model's tracepoints in lang.
func Generate(lang Lang, m *Model, opts Options) (*Output, error) {
	if len(m.Tracepoints) == 0 {
		return nil, ErrNoTracepoints
	}
	if opts.Path == "" {
		opts.Path = opts.Layout.BinaryPath()
	}
	out := &Output{}
	for _, tp := range m.Tracepoints {
		out.Warnings = append(out.Warnings, warnings(tp)...)
	}
	var err error
	switch lang {
	case BPFtrace:
		err = genBPFtrace(out, m, opts)
	case BCC:
		err = genBCC(out, m, opts)
	case Doc:
		genDoc(out, m)
	case Test:
		err = genTest(out, m, opts)
	case Go:
		err = genGo(out, m, opts)
	default:
		err = fmt.Errorf("unknown language %v", lang)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

//go:embed templates
var templateFS embed.FS

// templates are parsed on the first Generate that executes one: a command
// that generates nothing never parses them.
var templates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"comment": commentLines,
		"join":    strings.Join,
	}).ParseFS(templateFS, "templates/*.tmpl"))
})

func execute(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := templates().ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("generate %s: %w", name, err)
	}
	return b.String(), nil
}

// commentText makes text from a doc or a path safe in any comment and
// string the output has: one line, no control characters, no backslash,
// quote or comment delimiters.
func commentText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\\' || r == '"' || r == '`':
			return '\''
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return ' '
		}
		return r
	}, s)
	for _, d := range []string{"*/", "/*", "'''"} {
		for strings.Contains(s, d) {
			s = strings.ReplaceAll(s, d, d[:1]+" "+d[1:])
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

// commentWidth is where comment text is wrapped.
const commentWidth = 76

// commentLines wraps text from the inputs, made safe by commentText, to
// lines of at most width characters, each prefixed with prefix.
func commentLines(prefix string, width int, text string) []string {
	return wrap(prefix, width, commentText(text))
}

// wrap wraps text to lines of at most width characters (longer words
// stand alone), each prefixed with prefix.
func wrap(prefix string, width int, text string) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(prefix)+len(line)+1+len(w) > width {
			lines = append(lines, prefix+line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, prefix+line)
	}
	return lines
}

// ids lists the tracepoints' IDs for prose: "a:b", "a:b and c:d",
// "a:b, c:d and e:f".
func ids(tps []*Tracepoint) string {
	var s []string
	for _, tp := range tps {
		s = append(s, tp.ID())
	}
	return andList(s)
}

func andList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// sources says where the model came from, for the "Generated by" line.
func (m *Model) sources() string {
	var s []string
	for _, p := range []string{m.DocPath, m.BinaryPath(), m.SourcePath()} {
		if p != "" {
			s = append(s, commentText(p))
		}
	}
	return andList(s)
}

// generatedBy is the sentence that says where the output came from.
func (m *Model) generatedBy() string {
	if s := m.sources(); s != "" {
		return "Generated by usdtkit gen from " + s + "."
	}
	return "Generated by usdtkit."
}

// camel turns a snake_case name into CamelCase: net_inbound_message
// gives NetInboundMessage.
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// semaphores says which of the tracepoints semaphores guard, as a
// sentence, or "" when none.
func semaphores(tps []*Tracepoint) string {
	var guarded []*Tracepoint
	for _, tp := range tps {
		if tp.Semaphore() {
			guarded = append(guarded, tp)
		}
	}
	switch {
	case len(guarded) == 0:
		return ""
	case len(tps) == 1:
		return "The tracepoint is guarded by a semaphore."
	case len(guarded) == len(tps):
		return "The tracepoints are guarded by semaphores."
	case len(guarded) == 1:
		return guarded[0].ID() + " is guarded by a semaphore."
	case len(guarded) > 3:
		return fmt.Sprintf("%d of the tracepoints are guarded by semaphores.", len(guarded))
	}
	return ids(guarded) + " are guarded by semaphores."
}

// WriteFiles renders each of the model's tracepoints in lang into a new
// file of its own in dir (Model.FileName; scripts executable), and returns
// their paths and the output's warnings. A file there already, perhaps
// edited since, is left alone: it is an error.
func WriteFiles(lang Lang, m *Model, opts Options, dir string) (paths []string, warns []Warning, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", dir, err)
	}
	mode := os.FileMode(0o755) // scripts start with #!
	if lang == Doc || lang == Go {
		mode = 0o644
	}
	for _, tp := range m.Tracepoints {
		opts.Script = m.FileName(lang, tp)
		out, err := Generate(lang, m.With(tp), opts)
		if err != nil {
			return paths, warns, err
		}
		warns = append(warns, out.Warnings...)
		path := filepath.Join(dir, opts.Script)
		if err := writeNew(path, out.Text, mode); err != nil {
			return paths, warns, err
		}
		paths = append(paths, path)
	}
	return paths, warns, nil
}

// writeNew writes text to a file that must not exist yet.
func writeNew(path, text string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists already; move it away or choose another --out", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
