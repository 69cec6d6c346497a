package docs

import (
	"github.com/usdtkit/usdtkit/elf/elftest"

	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// withoutLines clears what Parse derives from a tracepoint's position and
// text, leaving what the writer must carry over.
func withoutLines(tp *Tracepoint) Tracepoint {
	c := *tp
	c.Line, c.EndLine, c.ArgsLine = 0, 0, 0
	c.Args = make([]Arg, len(tp.Args))
	for i, a := range tp.Args {
		a.Line, a.EndLine, a.Text = 0, 0, ""
		if a.Err != nil {
			a.Err = errors.New("error")
		}
		c.Args[i] = a
	}
	return c
}

func parseOne(t *testing.T, text string) *Tracepoint {
	t.Helper()
	doc, err := Parse("entry.md", strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse\n%s: %v", text, err)
	}
	if len(doc.Tracepoints) != 1 {
		t.Fatalf("parse\n%s: %d tracepoints", text, len(doc.Tracepoints))
	}
	return doc.Tracepoints[0]
}

func TestRoundTrip(t *testing.T) {
	str20 := Type{Kind: CString, MaxLen: 20}
	hash := Type{Kind: Bytes, Size: 32}
	tests := []struct {
		name string
		tp   *Tracepoint
	}{
		{"new", NewTracepoint("net", "frame_in",
			Type{Kind: Int, Size: 8}, str20, Type{Kind: CString}, Type{Kind: Uint, Size: 8}, Type{Kind: Bytes}, hash,
			Type{Kind: Bool}, Type{Kind: Float, Size: 8}, Type{Kind: Uint}, Type{Kind: Int}, Type{Kind: Pointer},
			Type{Kind: Pointer, Pointee: "CBlockIndex"})},
		{"no args", NewTracepoint("net", "tick")},
		{"no description", &Tracepoint{Context: "a", Event: "b", Args: []Arg{}}},
		{"written", &Tracepoint{Context: "cache", Event: "flushed",
			Description: "Fires after a flush.\n\nA second paragraph with `code` and *emphasis*.",
			Args: []Arg{
				{Index: 0, Description: "Mode", TypePhrase: "uint32", Type: Type{Kind: Uint, Size: 4},
					Remark: ". The values are `0` (`NONE`) and `1` (`ALL`)"},
				{Index: 1, Description: "", TypePhrase: "bool", Type: Type{Kind: Bool},
					Remark: "telling whether argument 1. is set"},
				{Index: 2, Description: "Label", TypePhrase: "const char *", Type: Type{Kind: CString, MaxLen: 9},
					Remark: "(max. length 9 characters[^n])."},
				{Index: 3, Description: "Known as", TypePhrase: "int64_t", Type: Type{Kind: Int, Size: 8}},
				{Index: 4, Description: "Key (a 20-byte id)", TypePhrase: "pointer to unsigned chars", Type: Type{Kind: Bytes, Size: 20}},
			},
			Notes: "Note: read the remark.\n\n[^n]: A footnote."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := FormatTracepoint(tt.tp)
			got := parseOne(t, "### Context `"+tt.tp.Context+"`\n\n"+text)
			if want := withoutLines(tt.tp); !reflect.DeepEqual(withoutLines(got), want) {
				t.Errorf("parse(format(x)) != x\n%s\ngot  %+v\nwant %+v", text, withoutLines(got), want)
			}
			if again := FormatTracepoint(got); again != text {
				t.Errorf("format is not stable:\n%s\nthen\n%s", text, again)
			}
		})
	}
}

// TestFormatFills checks that the writer documents what the remark leaves
// out, and writes unreadable items as they were.
func TestFormatFills(t *testing.T) {
	tests := []struct {
		arg  Arg
		want string
	}{
		{Arg{Description: "Name", Type: Type{Kind: CString, MaxLen: 20}}, "Name as `pointer to C-style String` (max. length 20 characters)"},
		{Arg{Description: "Hash", Type: Type{Kind: Bytes, Size: 32}, Remark: "in little-endian"}, "Hash as `pointer to unsigned chars` (32 bytes) in little-endian"},
		{Arg{Description: "Hash", TypePhrase: "pointer to 16 bytes", Type: Type{Kind: Bytes, Size: 32}}, "Hash as `pointer to unsigned chars` (32 bytes)"},
		{Arg{Description: "Hash", TypePhrase: "pointer to 32 bytes", Type: Type{Kind: Bytes, Size: 32}}, "Hash as `pointer to 32 bytes`"},
		{Arg{Description: "Count", TypePhrase: "int32", Type: Type{Kind: Uint, Size: 8}}, "Count as `uint64`"},
		{Arg{Description: "Count", TypePhrase: "size_t", Type: Type{Kind: Uint}}, "Count as `size_t`"},
		{Arg{Description: "Id", Type: Type{Kind: Int, Size: 8}, Remark: "."}, "Id as `int64`."},
		{Arg{Text: "Amount as `CAmount` in base units", Description: "Amount", TypePhrase: "CAmount"}, "Amount as `CAmount` in base units"},
		{Arg{Description: "Amount", TypePhrase: "CAmount", Remark: "in base units"}, "Amount as `CAmount` in base units"},
		{Arg{Description: "Nothing typed"}, "Nothing typed"},
		{Arg{}, ""},
		{Arg{Description: "Odd", TypePhrase: "a`b", Remark: "x"}, "Odd as `` a`b `` x"},
	}
	for _, tt := range tests {
		if got := FormatArg(&tt.arg); got != tt.want {
			t.Errorf("FormatArg(%+v) = %q, want %q", tt.arg, got, tt.want)
		}
	}
}

// TestRoundTripDocs re-reads every golden document after writing it back:
// the model must not change, and writing it again must give the same text.
func TestRoundTripDocs(t *testing.T) {
	for _, file := range []string{"testdata/parse/irregular.txtar", "testdata/parse/noargs.txtar"} {
		ar, err := elftest.ReadArchive(file)
		if err != nil {
			t.Fatal(err)
		}
		input, _ := ar.File("doc.md")
		doc, _ := Parse(file, strings.NewReader(string(input)))
		text := formatDoc(doc)
		again, err := Parse(file, strings.NewReader(text))
		if err != nil {
			t.Errorf("%s: written back: %v\n%s", file, err, text)
			continue
		}
		if len(again.Tracepoints) != len(doc.Tracepoints) {
			t.Fatalf("%s: %d tracepoints, then %d", file, len(doc.Tracepoints), len(again.Tracepoints))
		}
		for i, tp := range doc.Tracepoints {
			want := withoutLines(tp)
			for j := range want.Args {
				if p, err := ParseType(want.Args[j].TypePhrase); err != nil || !sameType(p, want.Args[j].Type) {
					want.Args[j].TypePhrase = want.Args[j].Type.Phrase() // a bare type gained backticks
				}
			}
			if got := withoutLines(again.Tracepoints[i]); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %s changed\ngot  %+v\nwant %+v", file, tp.ID(), got, want)
			}
		}
		if text2 := formatDoc(again); text2 != text {
			t.Errorf("%s: written twice differs:\n%s\nthen\n%s", file, text, text2)
		}
	}
}

func TestFormatContext(t *testing.T) {
	if got, want := FormatContext(&Context{Name: "mempool"}), "### Context `mempool`\n"; got != want {
		t.Errorf("new section %q, want %q", got, want)
	}
	c := &Context{Name: "pool", Description: "About the pool.", Tracepoints: []*Tracepoint{
		NewTracepoint("pool", "added", Type{Kind: Bytes, Size: 32}),
		NewTracepoint("pool", "cleared"),
	}}
	want := "### Context `pool`\n\nAbout the pool.\n\n" +
		"#### Tracepoint `pool:added`\n\n" + DescriptionPlaceholder + "\n\nArguments passed:\n" +
		"1. " + ArgPlaceholder + " as `pointer to unsigned chars` (32 bytes)\n\n" +
		"#### Tracepoint `pool:cleared`\n\n" + DescriptionPlaceholder + "\n"
	if got := FormatContext(c); got != want {
		t.Errorf("FormatContext:\n%s\nwant\n%s", got, want)
	}
	doc, err := Parse("c.md", strings.NewReader(want))
	if err != nil || len(doc.Contexts) != 1 || doc.Contexts[0].Description != "About the pool." || len(doc.Tracepoints) != 2 {
		t.Errorf("section does not read back: %+v, %v", doc, err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrors(t *testing.T) {
	var b strings.Builder
	tp := NewTracepoint("a", "b")
	if err := WriteTracepoint(&b, tp); err != nil || b.String() != FormatTracepoint(tp) {
		t.Errorf("WriteTracepoint = %v, %q", err, b.String())
	}
	if err := WriteTracepoint(failWriter{}, tp); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WriteTracepoint to a failing writer: %v", err)
	}
	if err := WriteContext(failWriter{}, &Context{Name: "a"}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("WriteContext to a failing writer: %v", err)
	}
}
