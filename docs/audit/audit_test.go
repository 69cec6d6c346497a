package audit_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/audit"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
	"github.com/usdtkit/usdtkit/patches"
)

// The clean contract: every tracepoint documented, called and compiled in,
// with matching types. Each test below seeds one drift into a copy of it.
const cleanDoc = `# Tracing

## Tracepoint documentation

### Context ` + "`net`" + `

#### Tracepoint ` + "`net:inbound_message`" + `

Is called when a message arrives.

Arguments passed:
1. Peer ID as ` + "`int64`" + `
2. Peer Address as ` + "`pointer to C-style String`" + ` (max. length 68 characters)
3. Message Size as ` + "`uint64`" + `

### Context ` + "`validation`" + `

#### Tracepoint ` + "`validation:block_connected`" + `

Is called after a block is connected.

Arguments passed:
1. Block Hash as ` + "`pointer to unsigned chars`" + ` (i.e. 32 bytes in little-endian)
2. Height as ` + "`int32`" + `
`

type world struct {
	doc     string
	sources []patches.Macro
	notes   []elftest.Note
	noBin   bool
	noSrc   bool
}

func clean() world {
	return world{
		doc: cleanDoc,
		sources: []patches.Macro{
			patches.Macro{Kind: patches.Semaphore, Name: "TRACEPOINT_SEMAPHORE", Context: "net", Event: "inbound_message", File: "src/net.cpp", Line: 10},
			patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "net", Event: "inbound_message", File: "src/net.cpp", Line: 40, Args: []string{"peer.id", "peer.addr.c_str()", "msg.size()"}},
			patches.Macro{Kind: patches.Semaphore, Name: "TRACEPOINT_SEMAPHORE", Context: "validation", Event: "block_connected", File: "src/validation.cpp", Line: 5},
			patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "validation", Event: "block_connected", File: "src/validation.cpp", Line: 90, Args: []string{"hash.data()", "height"}},
		},
		notes: []elftest.Note{
			{Provider: "net", Name: "inbound_message", PC: elftest.TextAddr + 0x10, Semaphore: elftest.DataAddr, Args: "-8@%rbx 8@%rax 8@24(%rsp)"},
			{Provider: "validation", Name: "block_connected", PC: elftest.TextAddr + 0x20, Semaphore: elftest.DataAddr + 2, Args: "8@%rdi -4@%esi"},
		},
	}
}

func (w world) run(t *testing.T) []audit.Finding {
	t.Helper()
	return audit.Run(w.contract(t), nil)
}

func (w world) contract(t *testing.T) *contract.Contract {
	t.Helper()
	in := contract.Input{}
	if w.doc != "" {
		doc, _ := docs.Parse("doc/tracing.md", strings.NewReader(w.doc))
		if doc == nil {
			t.Fatal("doc not parsed")
		}
		in.Doc, in.DocPath = doc, "doc/tracing.md"
	}
	if !w.noSrc {
		in.Source = &contract.Source{Path: "src", Macros: w.sources}
	}
	if !w.noBin {
		img, _ := elftest.Build(elftest.Spec{Notes: w.notes})
		f, err := elf.NewFile(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		in.Binaries = []contract.Binary{{Path: "build/bin/bitcoind", File: f}}
	}
	return contract.Join(in)
}

func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d. X as `int64`\n", i)
	}
	return b.String()
}

func only(fs []audit.Finding, kinds ...audit.Kind) []audit.Finding {
	var out []audit.Finding
	for _, f := range fs {
		for _, k := range kinds {
			if f.Kind == k {
				out = append(out, f)
			}
		}
	}
	return out
}

func TestClean(t *testing.T) {
	fs := clean().run(t)
	// The 68-character address is beyond bpftrace's default string length.
	if len(fs) != 1 || fs[0].Kind != audit.BpftraceStrlen || fs[0].Line != 13 || !strings.Contains(fs[0].Fix, "BPFTRACE_STRLEN=69") {
		t.Fatalf("clean world: %v", fs)
	}
}

func TestDrift(t *testing.T) {
	tests := []struct {
		name  string
		seed  func(w *world)
		want  string // "kind severity file:line[@callsite] tracepoint"
		words string // in the message
		also  audit.Kind
	}{
		{"undocumented in source", func(w *world) {
			w.sources = append(w.sources, patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "net", Event: "outbound_message", File: "src/net.cpp", Line: 77, Args: []string{"id"}},
				patches.Macro{Kind: patches.Semaphore, Context: "net", Event: "outbound_message", File: "src/net.cpp", Line: 12})
		}, "undocumented error src/net.cpp:77 net:outbound_message", "in the source but not documented", ""},
		{"undocumented in binary only", func(w *world) {
			w.notes = append(w.notes, elftest.Note{Provider: "mempool", Name: "added", PC: elftest.TextAddr + 0x30, Args: "8@%rdi"})
		}, "undocumented error build/bin/bitcoind@0x401030 mempool:added", "is in build/bin/bitcoind but not documented", ""},
		{"stale", func(w *world) {
			w.doc += "\n#### Tracepoint `validation:gone`\n\nOld.\n"
		}, "stale error doc/tracing.md:26 validation:gone", "in neither the source nor build/bin/bitcoind", ""},
		{"not in binary", func(w *world) {
			w.notes = w.notes[:1]
			w.sources[3].Cond = []string{"ENABLE_WALLET"}
		}, "not-in-binary warning src/validation.cpp:90 validation:block_connected", "under #if ENABLE_WALLET", ""},
		{"arg count doc vs source", func(w *world) {
			w.sources[1].Args = append(w.sources[1].Args, "extra")
		}, "arg-count error doc/tracing.md:11 net:inbound_message", "the doc lists 3 arguments, TRACEPOINT at src/net.cpp:40 passes 4", ""},
		{"arg count doc vs binary", func(w *world) {
			w.notes[1].Args = "8@%rdi"
		}, "arg-count error doc/tracing.md:22@0x401020 validation:block_connected", "passes 1", ""},
		{"size", func(w *world) {
			w.notes[1].Args = "8@%rdi -8@%rsi"
		}, "arg-size error doc/tracing.md:24@0x401020 validation:block_connected", "documented as `int32` (-4@) but the binary passes int64", ""},
		{"signedness", func(w *world) {
			w.notes[0].Args = "8@%rbx 8@%rax 8@24(%rsp)"
		}, "arg-signedness error doc/tracing.md:12@0x401010 net:inbound_message", "documented as `int64` (-8@) but the binary passes uint64", ""},
		{"pointer size", func(w *world) {
			w.notes[0].Args = "-8@%rbx -4@%eax 8@24(%rsp)"
		}, "pointer-size error doc/tracing.md:13@0x401010 net:inbound_message", "not a 8-byte pointer", ""},
		{"missing semaphore", func(w *world) {
			w.sources = w.sources[1:]
		}, "missing-semaphore error src/net.cpp:40 net:inbound_message", "has no TRACEPOINT_SEMAPHORE(net, inbound_message)", ""},
		{"orphan semaphore", func(w *world) {
			w.sources = append(w.sources, patches.Macro{Kind: patches.Semaphore, Name: "TRACEPOINT_SEMAPHORE", Context: "net", Event: "unused", File: "src/net.cpp", Line: 11})
		}, "orphan-semaphore warning src/net.cpp:11 net:unused", "has no TRACEPOINT", ""},
		{"note without semaphore", func(w *world) {
			w.notes[0].Semaphore = 0
		}, "no-semaphore-in-binary error build/bin/bitcoind@0x401010 net:inbound_message", "though src/net.cpp:10 defines one", ""},
		{"call sites differ", func(w *world) {
			w.notes = append(w.notes, elftest.Note{Provider: "validation", Name: "block_connected", PC: elftest.TextAddr + 0x40, Semaphore: elftest.DataAddr + 2, Args: "8@%rdi"})
		}, "call-site-arg-count error build/bin/bitcoind@0x401040 validation:block_connected", "passes 1 arguments, the one at 0x401020 passes 2", audit.ArgCount},
		{"too many args", func(w *world) {
			w.doc += "\n#### Tracepoint `validation:wide`\n\nWide.\n\nArguments passed:\n" + numbered(13)
			args := strings.Repeat("-8@%rax ", 13)
			w.notes = append(w.notes, elftest.Note{Provider: "validation", Name: "wide", PC: elftest.TextAddr + 0x50, Args: args})
			w.noSrc = true
		}, "too-many-args error doc/tracing.md:30 validation:wide", "13 arguments; USDT tracepoints carry at most 12", ""},
		{"bpftrace arg limit", func(w *world) {
			w.doc += "\n#### Tracepoint `validation:seven`\n\nSeven.\n\nArguments passed:\n" + numbered(7)
			w.sources = append(w.sources, patches.Macro{Kind: patches.Semaphore, Context: "validation", Event: "seven", File: "src/v.cpp", Line: 1},
				patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "validation", Event: "seven", File: "src/v.cpp", Line: 2, Args: []string{"a", "b", "c", "d", "e", "f", "g"}})
			w.noBin = true
		}, "bpftrace-arg-limit warning doc/tracing.md:30 validation:seven", "read only arg0 to arg5", ""},
		{"unknown type phrase", func(w *world) {
			w.doc = strings.Replace(w.doc, "as `uint64`", "as `quaternion`", 1)
		}, "doc-syntax error doc/tracing.md:14 net:inbound_message", "", ""},
		{"duplicate entry", func(w *world) {
			w.doc += "\n#### Tracepoint `validation:block_connected`\n\nAgain.\n"
		}, "doc-syntax error doc/tracing.md:26 validation:block_connected", "already documented at line 18", ""},
		{"built without tracing", func(w *world) {
			w.notes = nil
		}, "no-tracepoints error build/bin/bitcoind ", "built without tracing", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := clean()
			tt.seed(&w)
			fs := w.run(t)
			kind := audit.Kind(strings.Fields(tt.want)[0])
			got := only(fs, kind)
			if len(got) != 1 {
				t.Fatalf("%d %s findings, want 1: %v", len(got), kind, fs)
			}
			f := got[0]
			loc := f.File
			if f.Line > 0 {
				loc += fmt.Sprintf(":%d", f.Line)
			}
			if f.CallSite != nil {
				loc += fmt.Sprintf("@%#x", *f.CallSite)
			}
			if s := fmt.Sprintf("%s %s %s %s", f.Kind, f.Severity, loc, f.Tracepoint); s != tt.want {
				t.Errorf("got  %q\nwant %q\n(%s)", s, tt.want, f.Message)
			}
			if !strings.Contains(f.Message, tt.words) {
				t.Errorf("message %q does not say %q", f.Message, tt.words)
			}
			if f.Fix == "" {
				t.Errorf("no fix: %+v", f)
			}
			// Formats without a tracepoint column name it in the message.
			var gh, sarif bytes.Buffer
			audit.WriteGitHub(&gh, []audit.Finding{f})
			audit.WriteSARIF(&sarif, []audit.Finding{f}, "test")
			if !strings.Contains(gh.String(), f.Tracepoint) || !strings.Contains(sarif.String(), f.Tracepoint) {
				t.Errorf("the annotation or the SARIF result does not name %s:\n%s%s", f.Tracepoint, gh.String(), sarif.String())
			}
			// No other error-level finding than the seeded one (and what follows from it).
			for _, o := range fs {
				if o.Severity == audit.Error && o.Kind != kind && o.Kind != tt.also {
					t.Errorf("unexpected %s: %s", o.Kind, o.Message)
				}
			}
		})
	}
}

func TestTestOnlyTracepoints(t *testing.T) {
	w := clean()
	w.sources = append(w.sources,
		patches.Macro{Kind: patches.Semaphore, Context: "test", Event: "zero_args", File: "src/test/util_trace_tests.cpp", Line: 10},
		patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "test", Event: "zero_args", File: "src/test/util_trace_tests.cpp", Line: 20})
	fs := only(w.run(t), audit.Undocumented)
	if len(fs) != 1 || fs[0].Severity != audit.Info || !strings.Contains(fs[0].Message, "only in test code") {
		t.Errorf("test-only tracepoint: %v", fs)
	}
}

// Two views are enough: docs and source alone, docs and binary alone.
func TestTwoViews(t *testing.T) {
	w := clean()
	w.noBin = true
	if fs := only(w.run(t), audit.Undocumented, audit.Stale, audit.ArgCount); len(fs) != 0 {
		t.Errorf("docs+source: %v", fs)
	}
	w = clean()
	w.noSrc = true
	if fs := only(w.run(t), audit.Undocumented, audit.Stale, audit.ArgCount, audit.ArgSize, audit.ArgSign); len(fs) != 0 {
		t.Errorf("docs+binary: %v", fs)
	}
	w = clean()
	w.noSrc = true
	w.doc += "\n#### Tracepoint `validation:gone`\n\nOld.\n"
	if fs := only(w.run(t), audit.Stale); len(fs) != 1 || !strings.Contains(fs[0].Message, "is not in build/bin/bitcoind") {
		t.Errorf("docs+binary stale: %v", fs)
	}
}

// --fix: the patched doc documents the undocumented tracepoints, parses
// cleanly, and re-audits without an undocumented finding.
func TestFixDoc(t *testing.T) {
	w := clean()
	w.sources = append(w.sources,
		patches.Macro{Kind: patches.Semaphore, Context: "net", Event: "outbound_message", File: "src/net.cpp", Line: 12},
		patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "net", Event: "outbound_message", File: "src/net.cpp", Line: 80, Args: []string{"peer.id", "peer.addr.c_str()", "msg.data()", "is_first"}},
		patches.Macro{Kind: patches.Semaphore, Context: "mempool", Event: "added", File: "src/txmempool.cpp", Line: 3},
		patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "mempool", Event: "added", File: "src/txmempool.cpp", Line: 50, Args: []string{"tx.GetHash().data()", "vsize", "fee"}},
		// A tracepoint of the tests only gets no entry.
		patches.Macro{Kind: patches.Semaphore, Context: "test", Event: "zero_args", File: "src/test/util_trace_tests.cpp", Line: 10},
		patches.Macro{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "test", Event: "zero_args", File: "src/test/util_trace_tests.cpp", Line: 20})
	w.notes = append(w.notes,
		elftest.Note{Provider: "net", Name: "outbound_message", PC: elftest.TextAddr + 0x30, Semaphore: elftest.DataAddr + 4, Args: "-8@%rbx 8@%rax 8@%rdx 1@%cl"},
		elftest.Note{Provider: "mempool", Name: "added", PC: elftest.TextAddr + 0x40, Semaphore: elftest.DataAddr + 6, Args: "8@%rbx -4@%eax -8@%rdx"})
	w.doc += "\n#### Tracepoint `validation:gone`\n\nOld.\n"
	fs := w.run(t)
	if n := len(only(fs, audit.Undocumented)); n != 3 {
		t.Fatalf("%d undocumented, want 3 (one only in the tests)", n)
	}
	fixed, added, flagged, refused := audit.FixDoc(w.contract(t), fs)
	if added != 2 || flagged != 1 || len(refused) != 0 {
		t.Errorf("added %d, flagged %d, refused %v", added, flagged, refused)
	}
	if strings.Contains(fixed, "zero_args") {
		t.Errorf("an entry for a tracepoint of the tests:\n%s", fixed)
	}
	for _, want := range []string{
		"### Context `mempool`", "#### Tracepoint `mempool:added`", "#### Tracepoint `net:outbound_message`",
		"1. Peer id, passed as peer.id (TODO: describe) as `int64`", "2. Addr, passed as peer.addr.c_str() (TODO: describe) as `pointer to C-style String`",
		"3. Msg, passed as msg.data() (TODO: describe) as `pointer to unsigned chars`", "4. Is first, passed as is_first (TODO: describe) as `bool`",
		"2. Vsize, passed as vsize (TODO: describe) as `int32`", audit.StaleMarker,
	} {
		if !strings.Contains(fixed, want) {
			t.Errorf("fixed doc lacks %q:\n%s", want, fixed)
		}
	}
	// net:outbound_message goes into the net section, before validation.
	if strings.Index(fixed, "net:outbound_message") > strings.Index(fixed, "### Context `validation`") {
		t.Errorf("entry not in its context's section:\n%s", fixed)
	}
	w.doc = fixed
	fs = w.run(t)
	var left []audit.Finding
	for _, f := range only(fs, audit.Undocumented, audit.DocSyntax, audit.ArgCount, audit.ArgSize, audit.ArgSign, audit.PointerSize) {
		if f.Severity > audit.Info { // the test-only tracepoint stays an info
			left = append(left, f)
		}
	}
	if len(left) != 0 {
		t.Errorf("re-audit of the fixed doc: %v\n%s", left, fixed)
	}
}

// --fix refuses, and names, a tracepoint whose name the doc format cannot
// hold, instead of writing an entry its own reader reports.
func TestFixDocRefusesNames(t *testing.T) {
	w := clean()
	w.notes = append(w.notes, elftest.Note{Provider: "net", Name: "odd name", PC: elftest.TextAddr + 0x50, Args: "8@%rax"},
		elftest.Note{Provider: "net", Name: "tick`s", PC: elftest.TextAddr + 0x60, Args: "8@%rax"})
	w.noSrc = true
	fs := w.run(t)
	fixed, added, _, refused := audit.FixDoc(w.contract(t), fs)
	if added != 0 || strings.Join(refused, ",") != "net:odd name,net:tick`s" {
		t.Errorf("added %d, refused %q", added, refused)
	}
	if doc, err := docs.Parse("doc.md", strings.NewReader(fixed)); err != nil || len(doc.Problems) != 0 {
		t.Errorf("the fixed doc has problems: %v", err)
	}
}
