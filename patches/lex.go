package patches

import (
	"bytes"
	"sort"
)

// The tokenizer follows the C and C++ translation phases 1 to 3 closely
// enough to find macro calls: line splices (a backslash at the end of a
// line, optionally followed by blanks as GCC accepts) are removed first, then
// the spliced text is cut into preprocessing tokens. Comments become
// whitespace. Digraphs (<: :> <% %> %:) are not recognised, and splices
// inside raw strings are removed like everywhere else; neither matters for
// finding tracepoint macros.

type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokEOL            // end of a preprocessor directive
	tokIdent          // identifier or keyword
	tokNumber         // preprocessing number
	tokString         // string literal, raw or not, with its prefix
	tokChar           // character literal with its prefix
	tokPunct          // punctuator or any other single byte
)

// Punctuator codes in token.op. Single-byte punctuators use the byte itself;
// the multi-byte ones the finder cares about have their own code, all others
// share opMulti so they never look like a single-byte one.
const (
	opScope = 0x80 + iota // ::
	opArrow               // -> and ->*
	opShr                 // >>
	opMulti               // any other multi-byte punctuator
)

type token struct {
	kind  tokKind
	op    byte // punctuator code, 0 for other kinds
	bol   bool // first token on its line
	space bool // whitespace or a comment comes before it
	off   int  // start offset in the spliced source
	end   int  // end offset in the spliced source
}

const (
	cIdentStart = 1 << iota
	cIdent
	cSpace
)

var class [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$', c >= 0x80:
			class[c] = cIdentStart | cIdent
		case c >= '0' && c <= '9':
			class[c] = cIdent
		case c == ' ', c == '\t', c == '\r', c == '\v', c == '\f':
			class[c] = cSpace
		}
	}
}

// lexer cuts spliced source into tokens. It never fails on a byte it does
// not know (that becomes a one-byte punctuator); it fails only on an
// unterminated block comment, string or raw string, and then returns
// tokEOF from then on.
type lexer struct {
	src   []byte
	pos   int
	lines *lineMap
	file  string

	directive bool // inside a directive: a newline ends it with tokEOL
	lenient   bool // in a block the preprocessor skips: unterminated strings are fine
	bol       bool
	space     bool

	err *SyntaxError
}

func newLexer(file string, src []byte) *lexer {
	spliced, splices := splice(src)
	return &lexer{
		src:   spliced,
		lines: &lineMap{src: spliced, splices: splices, line: 1},
		file:  file,
		bol:   true,
	}
}

func (lx *lexer) fail(off int, msg string) {
	if lx.err == nil {
		line, col := lx.lines.pos(off)
		lx.err = &SyntaxError{File: lx.file, Line: line, Col: col, Msg: msg}
	}
	lx.pos = len(lx.src)
}

var starSlash = []byte("*/")

// skipSpace skips whitespace and comments. In a directive it stops at the
// newline that ends it.
func (lx *lexer) skipSpace() {
	src := lx.src
	n := len(src)
	for lx.pos < n {
		c := src[lx.pos]
		if c == '\n' {
			if lx.directive {
				return
			}
			lx.pos++
			lx.bol = true
			lx.space = true
			continue
		}
		if class[c]&cSpace != 0 {
			lx.pos++
			lx.space = true
			continue
		}
		if c != '/' || lx.pos+1 >= n {
			return
		}
		switch src[lx.pos+1] {
		case '/':
			i := bytes.IndexByte(src[lx.pos+2:], '\n')
			if i < 0 {
				lx.pos = n
			} else {
				lx.pos += 2 + i
			}
		case '*':
			body := src[lx.pos+2:]
			i := bytes.Index(body, starSlash)
			if i < 0 {
				lx.fail(lx.pos, "unterminated block comment")
				return
			}
			if !lx.directive && bytes.IndexByte(body[:i], '\n') >= 0 {
				lx.bol = true
			}
			lx.pos += 4 + i
		default:
			return
		}
		lx.space = true
	}
}

// next returns the next token.
func (lx *lexer) next() token {
	lx.skipSpace()
	src := lx.src
	n := len(src)
	pos := lx.pos
	if pos >= n {
		return token{kind: tokEOF, off: n, end: n}
	}
	t := token{off: pos, bol: lx.bol, space: lx.space}
	lx.bol, lx.space = false, false
	c := src[pos]
	switch {
	case c == '\n': // only in a directive
		t.kind, t.end = tokEOL, pos
		return t
	case class[c]&cIdentStart != 0:
		end := pos + 1
		for end < n && class[src[end]]&cIdent != 0 {
			end++
		}
		if end < n && (src[end] == '"' || src[end] == '\'') {
			if k, e, ok := lx.prefixed(pos, end); ok {
				t.kind, t.end = k, e
				return lx.done(t)
			}
		}
		t.kind, t.end = tokIdent, end
	case c >= '0' && c <= '9' || c == '.' && pos+1 < n && src[pos+1] >= '0' && src[pos+1] <= '9':
		t.kind, t.end = tokNumber, ppNumber(src, pos)
	case c == '"':
		t.kind, t.end = tokString, lx.quoted(pos, pos)
	case c == '\'':
		t.kind, t.end = tokChar, lx.quoted(pos, pos)
	default:
		l, op := punct(src, pos)
		t.kind, t.op, t.end = tokPunct, op, pos+l
	}
	return lx.done(t)
}

// done moves past t and returns it, or tokEOF when lexing it failed.
func (lx *lexer) done(t token) token {
	if lx.err != nil {
		return token{kind: tokEOF, off: len(lx.src), end: len(lx.src)}
	}
	lx.pos = t.end
	return t
}

// prefixed lexes a literal whose prefix is src[start:quote], if the prefix
// is one: u8, u, U, L, and with R for raw strings.
func (lx *lexer) prefixed(start, quote int) (tokKind, int, bool) {
	kind := tokString
	if lx.src[quote] == '\'' {
		kind = tokChar
	}
	switch string(lx.src[start:quote]) {
	case "u8", "u", "U", "L":
		return kind, lx.quoted(start, quote), true
	case "R", "u8R", "uR", "UR", "LR":
		if kind == tokString {
			if end, ok := lx.raw(start, quote); ok {
				return tokString, end, true
			}
		}
	}
	return 0, 0, false
}

// quoted lexes a string or character literal whose quote is at src[q] and
// returns its end. An unterminated character literal ends at the end of its
// line, as do strings in directives and skipped blocks (#error can't be
// helped, and #if 0 blocks often hold prose); elsewhere an unterminated
// string is an error.
func (lx *lexer) quoted(start, q int) int {
	src := lx.src
	n := len(src)
	quote := src[q]
	for i := q + 1; i < n; {
		switch src[i] {
		case quote:
			return i + 1
		case '\\':
			if i+1 < n && src[i+1] == '\n' {
				i++
				continue
			}
			i += 2
		case '\n':
			if quote == '"' && !lx.directive && !lx.lenient {
				lx.fail(start, "unterminated string literal")
				return n
			}
			for i > q+1 && class[src[i-1]]&cSpace != 0 {
				i-- // trailing blanks are not part of it
			}
			return i
		default:
			i++
		}
	}
	if quote == '"' && !lx.directive && !lx.lenient {
		lx.fail(start, "unterminated string literal")
	}
	return n
}

// raw lexes a raw string R"delim(...)delim" whose quote is at src[q]. It
// reports false when the delimiter is not valid, so the prefix is an
// identifier after all (as in C, which has no raw strings).
func (lx *lexer) raw(start, q int) (int, bool) {
	src := lx.src
	n := len(src)
	var closing [1 + 16 + 1]byte
	closing[0] = ')'
	d := 0
	i := q + 1
	for ; i < n && src[i] != '('; i++ {
		c := src[i]
		if d == 16 || c == ' ' || c == ')' || c == '\\' || c == '"' || c == '\n' || class[c]&cSpace != 0 {
			return 0, false
		}
		closing[1+d] = c
		d++
	}
	if i >= n {
		return 0, false
	}
	closing[1+d] = '"'
	j := bytes.Index(src[i+1:], closing[:d+2])
	if j < 0 {
		// Even in a skipped block: going on would search the rest of the
		// file again for every R"( that follows.
		lx.fail(start, "unterminated raw string literal")
		return n, true
	}
	return i + 1 + j + d + 2, true
}

// ppNumber returns the end of the preprocessing number at src[pos]: digits,
// identifier characters, dots, exponent signs and digit separators.
func ppNumber(src []byte, pos int) int {
	n := len(src)
	i := pos + 1
	for i < n {
		c := src[i]
		switch {
		case (c == '+' || c == '-') && (src[i-1]|0x20 == 'e' || src[i-1]|0x20 == 'p'):
			i++
		case class[c]&cIdent != 0 || c == '.':
			i++
		case c == '\'' && i+1 < n && class[src[i+1]]&cIdent != 0:
			i += 2
		default:
			return i
		}
	}
	return i
}

// punct returns the length and code of the punctuator at src[pos].
func punct(src []byte, pos int) (int, byte) {
	c := src[pos]
	var c1, c2 byte
	if pos+1 < len(src) {
		c1 = src[pos+1]
	}
	if pos+2 < len(src) {
		c2 = src[pos+2]
	}
	switch c {
	case ':':
		if c1 == ':' {
			return 2, opScope
		}
	case '-':
		switch c1 {
		case '>':
			if c2 == '*' {
				return 3, opArrow
			}
			return 2, opArrow
		case '-', '=':
			return 2, opMulti
		}
	case '>':
		switch c1 {
		case '>':
			if c2 == '=' {
				return 3, opMulti
			}
			return 2, opShr
		case '=':
			return 2, opMulti
		}
	case '<':
		switch c1 {
		case '<':
			if c2 == '=' {
				return 3, opMulti
			}
			return 2, opMulti
		case '=':
			if c2 == '>' {
				return 3, opMulti
			}
			return 2, opMulti
		}
	case '+', '&', '|':
		if c1 == c || c1 == '=' {
			return 2, opMulti
		}
	case '=', '!', '*', '/', '%', '^':
		if c1 == '=' {
			return 2, opMulti
		}
	case '#':
		if c1 == '#' {
			return 2, opMulti
		}
	case '.':
		if c1 == '.' && c2 == '.' {
			return 3, opMulti
		}
		if c1 == '*' {
			return 2, opMulti
		}
	}
	return 1, c
}

// splice removes line splices: a backslash, optional blanks and a newline.
// It returns src itself when there are none, and the offsets in the result
// where splices were removed, so line numbers can be mapped back.
func splice(src []byte) ([]byte, []int) {
	var out []byte
	var at []int
	last := 0
	for i := 0; i < len(src); {
		j := bytes.IndexByte(src[i:], '\\')
		if j < 0 {
			break
		}
		j += i
		k := j + 1
		for k < len(src) && (src[k] == ' ' || src[k] == '\t' || src[k] == '\r') {
			k++
		}
		if k >= len(src) || src[k] != '\n' {
			i = j + 1
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(src))
		}
		out = append(out, src[last:j]...)
		at = append(at, len(out))
		last = k + 1
		i = k + 1
	}
	if out == nil {
		return src, nil
	}
	return append(out, src[last:]...), at
}

// lineMap turns offsets in the spliced source into lines and columns of the
// original. Lines are counted lazily from the last position asked for, so
// asking in increasing order costs one pass over the source.
type lineMap struct {
	src     []byte
	splices []int

	off   int // offset of the last position asked for
	line  int // number of newlines in src[:off] plus one
	start int // offset of the start of the line holding off
}

func (m *lineMap) pos(off int) (line, col int) {
	if off > len(m.src) {
		off = len(m.src)
	}
	if off < m.off {
		m.off, m.line, m.start = 0, 1, 0
	}
	seg := m.src[m.off:off]
	if k := bytes.Count(seg, []byte{'\n'}); k > 0 {
		m.line += k
		m.start = m.off + bytes.LastIndexByte(seg, '\n') + 1
	}
	m.off = off
	line, start := m.line, m.start
	if len(m.splices) > 0 {
		k := sort.SearchInts(m.splices, off+1) // splices at or before off
		line += k
		if k > 0 && m.splices[k-1] > start {
			start = m.splices[k-1]
		}
	}
	return line, off - start + 1
}
