package patches

import (
	"strings"
	"testing"
)

// lexAll renders the tokens of src as "kind:text", directives' ends as
// "EOL" (the lexer is put into directive mode after a # at line start).
func lexAll(t *testing.T, src string) ([]string, error) {
	t.Helper()
	lx := newLexer("t.cpp", []byte(src))
	var out []string
	for i := 0; i < 10000; i++ {
		tok := lx.next()
		switch tok.kind {
		case tokEOF:
			if lx.err != nil {
				return out, lx.err
			}
			return out, nil
		case tokEOL:
			out = append(out, "EOL")
			lx.directive = false
			continue
		}
		if tok.bol && tok.kind == tokPunct && tok.op == '#' {
			lx.directive = true
		}
		text := string(lx.src[tok.off:tok.end])
		out = append(out, [...]string{"eof", "eol", "id", "num", "str", "chr", "p"}[tok.kind]+":"+text)
	}
	t.Fatal("lexer does not stop")
	return nil, nil
}

func TestLex(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // tokens joined by spaces
		err  string
	}{
		{"identifiers and punctuators", "a->b::c.d", "id:a p:-> id:b p::: id:c p:. id:d", ""},
		{"long punctuators", "a>>=b<<=c<=>d->*e...f##g", "id:a p:>>= id:b p:<<= id:c p:<=> id:d p:->* id:e p:... id:f p:## id:g", ""},
		{"template closers", "x<y<z>>w", "id:x p:< id:y p:< id:z p:>> id:w", ""},
		{"line comment", "a // b c\nd", "id:a id:d", ""},
		{"block comment", "a /* b\n c */ d", "id:a id:d", ""},
		{"comment opener in string", `"/* x" y`, `str:"/* x" id:y`, ""},
		{"string escapes", `"a\"b\\" c`, `str:"a\"b\\" id:c`, ""},
		{"char literals", `'\'' ',' 'ab' x`, `chr:'\'' chr:',' chr:'ab' id:x`, ""},
		{"prefixes", `u8"a" u"b" U"c" L"d" L'e' u8'f' u8 x`, `str:u8"a" str:u"b" str:U"c" str:L"d" chr:L'e' chr:u8'f' id:u8 id:x`, ""},
		{"raw string", `R"(a "b" \ c)" d`, `str:R"(a "b" \ c)" id:d`, ""},
		{"raw string with delimiter", `R"xy(a )" b)xy" c`, `str:R"xy(a )" b)xy" id:c`, ""},
		{"raw string prefixes", `u8R"(a)" LR"(b)" uR"(c)" UR"(d)"`, `str:u8R"(a)" str:LR"(b)" str:uR"(c)" str:UR"(d)"`, ""},
		{"raw string over lines", "R\"(a\n// b\n)\" c", "str:R\"(a\n// b\n)\" id:c", ""},
		{"not a raw string", `R"a b"`, `id:R str:"a b"`, ""},
		{"user-defined literal", `"ab"sv 12_km`, `str:"ab" id:sv num:12_km`, ""},
		{"numbers", "1'000'000 0x1p-3 1e+5 .5f 0b1010u 1.2.3", "num:1'000'000 num:0x1p-3 num:1e+5 num:.5f num:0b1010u num:1.2.3", ""},
		{"number then minus", "a-1-b", "id:a p:- num:1 p:- id:b", ""},
		{"splice in identifier", "TRACE\\\nPOINT x", "id:TRACEPOINT id:x", ""},
		{"splice with blanks and CRLF", "ab\\  \r\ncd e", "id:abcd id:e", ""},
		{"splice continues line comment", "a // b \\\n c\nd", "id:a id:d", ""},
		{"CRLF", "a\r\nb\r\n", "id:a id:b", ""},
		{"directive", "#define X(a) a\nx", "p:# id:define id:X p:( id:a p:) id:a EOL id:x", ""},
		{"directive continued", "#define X \\\n 1\ny", "p:# id:define id:X num:1 EOL id:y", ""},
		{"comment inside directive", "#if A /* x\n y */ && B\nz", "p:# id:if id:A p:&& id:B EOL id:z", ""},
		{"hash not at line start", "a # b", "id:a p:# id:b", ""},
		{"apostrophe in directive", "#error can't\nx", "p:# id:error id:can chr:'t EOL id:x", ""},
		{"unterminated char", "'abc\nx", "chr:'abc id:x", ""},
		{"stray bytes", "@ ` \\ \x00", "p:@ p:` p:\\ p:\x00", ""},
		{"utf-8 identifier", "größe", "id:größe", ""},
		{"unterminated comment", "a\n  /* b", "id:a", "t.cpp:2:3: unterminated block comment"},
		{"unterminated string", "a\n\"b\nc", "id:a", "t.cpp:2:1: unterminated string literal"},
		{"unterminated raw string", "a R\"(b", "id:a", "t.cpp:1:3: unterminated raw string literal"},
		{"position after splice", "a \\\n\"b", "id:a", "t.cpp:2:1: unterminated string literal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lexAll(t, tt.src)
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("tokens\n got %s\nwant %s", g, tt.want)
			}
			if (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestLinePositions(t *testing.T) {
	src := "a\n  bb \\\n cc\n\n\tdd"
	lx := newLexer("t.c", []byte(src))
	want := []struct{ line, col int }{{1, 1}, {2, 3}, {3, 2}, {5, 2}}
	for i, w := range want {
		tok := lx.next()
		line, col := lx.lines.pos(tok.off)
		if line != w.line || col != w.col {
			t.Errorf("token %d at %d:%d, want %d:%d", i, line, col, w.line, w.col)
		}
	}
	// Asking again for an earlier position still works.
	if line, col := lx.lines.pos(0); line != 1 || col != 1 {
		t.Errorf("offset 0 at %d:%d", line, col)
	}
}
