package gen

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
)

// join is contract.Join of a doc, a binary and a source tree (each may be
// nil) made into a model of the tracepoints that match the patterns.
func join(doc *docs.Doc, bin *elf.File, src *contract.Source, patterns ...string) *Model {
	in := contract.Input{Doc: doc, Source: src}
	if bin != nil {
		in.Binaries = []contract.Binary{{Path: bin.Path, File: bin}}
	}
	return NewModel(contract.Join(in), patterns...)
}

func TestNewModel(t *testing.T) {
	bin := &elf.File{Path: "bin", Class: 2, Probes: []elf.Probe{
		{Provider: "net", Name: "a_b", CallSites: []elf.CallSite{{}}},
		{Provider: "net_a", Name: "b", CallSites: []elf.CallSite{{}}},
		{Provider: "net_", Name: "x", CallSites: []elf.CallSite{{}}},
		{Provider: "net", Name: "x", CallSites: []elf.CallSite{{}}},
		{Provider: "bad-name", Name: "x", CallSites: []elf.CallSite{{}}},
	}}
	m := join(nil, bin, nil)
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0].String(), "must be C identifiers") {
		t.Errorf("warnings %v", m.Warnings)
	}
	var names []string
	for _, tp := range m.Tracepoints {
		names = append(names, m.FileName(BPFtrace, tp))
	}
	if got := strings.Join(names, " "); got != "net_a_b.bt net_a_b_2.bt net__x.bt net_x_2.bt" {
		t.Errorf("file names %s", got)
	}
	out, err := Generate(BCC, m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"struct net_a_b\n", "struct net_a_b_2\n", "class NetAB(", "class NetAB2(", "class NetX(", "class NetX2("} {
		if strings.Count(out.Text, s) != 1 {
			t.Errorf("the bcc script has %d of %q, want 1", strings.Count(out.Text, s), s)
		}
	}
}

func TestCommentText(t *testing.T) {
	for _, s := range []string{"*/ x /*", `""" + x + """`, "a\\\nb", "'''", "`x`", "**//**"} {
		got := commentText(s)
		for _, bad := range []string{"*/", "/*", `"`, "\\", "\n", "'''", "`"} {
			if strings.Contains(got, bad) {
				t.Errorf("commentText(%q) = %q, has %q", s, got, bad)
			}
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	m := join(nil, &elf.File{Path: "bin", Class: 2, Probes: []elf.Probe{{Provider: "a", Name: "b", CallSites: []elf.CallSite{{}}}}}, nil)
	if _, err := Generate(BPFtrace, m, Options{Path: "my bin:x"}); err == nil || !strings.Contains(err.Error(), "cannot be written in a bpftrace probe") {
		t.Errorf("unsafe path: %v", err)
	}
	if out, err := Generate(BCC, m, Options{Path: "my \"bin\":x\n"}); err != nil || !strings.Contains(out.Text, `PATH = "my \"bin\":x\n"`) {
		t.Errorf("bcc with any path: %v", err)
	}
	if _, err := Generate(BCC, m, Options{Path: "bin\xff"}); err == nil {
		t.Error("bcc with a path that is not UTF-8: no error")
	}
	if _, err := Generate(Doc, m.Filter(func(*Tracepoint) bool { return false }), Options{}); !errors.Is(err, ErrNoTracepoints) {
		t.Errorf("no tracepoints: %v", err)
	}
	for _, path := range []string{"my \"bin\"\n*/ x", "bin\xff"} {
		out, err := Generate(Go, m, Options{Path: path})
		if err != nil || !strings.Contains(out.Text, "const defaultPath = "+strconv.Quote(path)+"\n") || !utf8.ValidString(out.Text) {
			t.Errorf("go with path %q: %v", path, err)
		}
	}
	if _, err := ParseLang("python"); err == nil || err.Error() != `unknown language "python" (want bpftrace, bcc, go, doc, test)` {
		t.Errorf("ParseLang: %v", err)
	}
	for _, l := range Langs {
		if got, _ := ParseLang(l.String()); got != l {
			t.Errorf("ParseLang(%s) = %v", l, got)
		}
	}
}
