package patches

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
)

// Limits that keep a hostile file from costing more than its size.
const (
	maxCondDepth  = 256     // nested #if blocks
	maxCondBudget = 1 << 21 // condition entries copied into macros per file
)

// Scan returns the tracepoint macro calls in the C or C++ source src, in
// source order. path is only used in positions and errors.
//
// When the source cannot be tokenized (an unterminated comment, string or
// call) Scan returns the calls found before that point together with a
// *SyntaxError.
func Scan(path string, src []byte) ([]Macro, error) {
	info, err := ScanFile(path, src)
	if info == nil {
		return nil, err
	}
	return info.Macros, err
}

// ScanFile is [Scan] that also returns what a patch writer needs to know
// about the file: its includes and where its semaphores are.
func ScanFile(path string, src []byte) (info *FileInfo, err error) {
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("scan %s: %d bytes: %w", path, len(src), ErrTooLarge)
	}
	defer func() {
		if p := recover(); p != nil {
			info, err = nil, fmt.Errorf("scan %s: unexpected input (%v): %s", path, p, debug.Stack())
		}
	}()
	return scanFile(path, src)
}

// scanFile is ScanFile without the size check and panic recovery.
func scanFile(path string, src []byte) (*FileInfo, error) {
	s := &scanner{lx: newLexer(path, src), info: &FileInfo{Path: path}}
	s.src = s.lx.src
	s.run()
	s.info.Lines = bytes.Count(src, []byte{'\n'})
	if len(src) > 0 && src[len(src)-1] != '\n' {
		s.info.Lines++
	}
	if s.lx.err != nil {
		return s.info, s.lx.err
	}
	return s.info, nil
}

// frame is one #if block on the condition stack.
type frame struct {
	prior  []string // conditions of the branches before the current one
	cur    string   // condition of the current branch, "" in #else
	text   string   // what Cond shows for the current branch
	dead   bool     // the current branch is never compiled (#if 0)
	always bool     // a branch before was #if 1
}

// Include guard states.
const (
	guardStart   = iota // nothing seen yet
	guardIfndef         // the file opened with #ifndef X
	guardDefined        // ... followed by #define X
	guardClosed         // ... and its #endif was seen last
	guardNone           // the file has no include guard
)

type scanner struct {
	lx   *lexer
	src  []byte
	info *FileInfo

	peeked  token
	hasPeek bool
	prevOp  byte // punctuator before the current token

	frames    []frame
	conds     []string // the Cond of the current position, nil when stale
	condValid bool
	budget    int

	guard     int
	guardName string

	toks  []token // reused buffer for a call's tokens
	dtoks []token // reused buffer for a directive's tokens
}

func (s *scanner) next() token {
	if s.hasPeek {
		s.hasPeek = false
		return s.peeked
	}
	return s.lx.next()
}

func (s *scanner) unread(t token) {
	s.peeked, s.hasPeek = t, true
}

func (s *scanner) text(t token) string { return string(s.src[t.off:t.end]) }

func isPunct(t token, op byte) bool { return t.kind == tokPunct && t.op == op }

func (s *scanner) run() {
	for {
		t := s.next()
		if t.kind == tokEOF {
			break
		}
		if t.bol && isPunct(t, '#') {
			s.directive(t)
			s.prevOp = 0
			continue
		}
		if s.guard != guardDefined && s.guard != guardNone {
			s.guard = guardNone
		}
		if t.kind == tokIdent && s.prevOp != '.' && s.prevOp != opArrow && s.prevOp != opScope {
			if kind, arity, ok := classify(s.src[t.off:t.end]); ok {
				s.call(t, kind, arity)
				s.prevOp = 0
				continue
			}
		}
		s.prevOp = t.op
	}
	if s.guard == guardClosed {
		for i := range s.info.Macros {
			s.info.Macros[i].Cond = dropFirst(s.info.Macros[i].Cond)
		}
		for i := range s.info.Includes {
			s.info.Includes[i].Cond = dropFirst(s.info.Includes[i].Cond)
		}
		for i := range s.info.Defines {
			s.info.Defines[i].Cond = dropFirst(s.info.Defines[i].Cond)
		}
	}
}

func dropFirst(c []string) []string {
	if len(c) <= 1 {
		return nil
	}
	return c[1:]
}

// classify reports whether name is a tracepoint macro, of which kind, and
// how many arguments it takes after context and event (-1: any up to
// MaxArgs). Names that merely start like one (TRACEPOINT_ACTIVE, TRACE13)
// are not.
func classify(name []byte) (Kind, int, bool) {
	if len(name) < 5 {
		return 0, 0, false
	}
	switch name[0] {
	case 'T':
		if bytes.HasPrefix(name, []byte("TRACEPOINT")) {
			switch string(name) {
			case "TRACEPOINT":
				return Tracepoint, -1, true
			case "TRACEPOINT_SEMAPHORE":
				return Semaphore, 0, true
			}
			return 0, 0, false
		}
		if bytes.HasPrefix(name, []byte("TRACE")) {
			if n, ok := arity(name[5:]); ok {
				return Trace, n, true
			}
		}
	case 'D':
		if bytes.HasPrefix(name, []byte("DTRACE_PROBE")) {
			if n, ok := arity(name[12:]); ok {
				return DTrace, n, true
			}
		}
	case 'S':
		if bytes.HasPrefix(name, []byte("STAP_PROBE")) {
			if string(name[10:]) == "V" {
				return Stap, -1, true
			}
			if n, ok := arity(name[10:]); ok {
				return Stap, n, true
			}
		}
	}
	return 0, 0, false
}

// arity parses the argument count at the end of a macro name: "" is 0,
// "1" to "12" are themselves.
func arity(b []byte) (int, bool) {
	switch len(b) {
	case 0:
		return 0, true
	case 1:
		if b[0] >= '1' && b[0] <= '9' {
			return int(b[0] - '0'), true
		}
	case 2:
		if b[0] == '1' && b[1] >= '0' && b[1] <= '2' {
			return 10 + int(b[1]-'0'), true
		}
	}
	return 0, false
}

// call reads the call of the macro name, if it is one, and records it.
func (s *scanner) call(name token, kind Kind, want int) {
	open := s.next()
	if !isPunct(open, '(') {
		s.unread(open)
		return
	}
	line, col := s.lx.lines.pos(name.off)
	cond := s.cond()
	toks := s.toks[:0]
	depth := 1
	var closing token
	for depth > 0 {
		t := s.next()
		switch {
		case t.kind == tokEOF:
			if s.lx.err == nil {
				s.lx.err = &SyntaxError{File: s.lx.file, Line: line, Col: col,
					Msg: "unterminated call to " + s.text(name)}
			}
			return
		case t.bol && isPunct(t, '#'):
			s.directive(t)
			continue
		case t.kind != tokPunct:
		case t.op == '(' || t.op == '[' || t.op == '{':
			depth++
		case t.op == ')' || t.op == ']' || t.op == '}':
			depth--
			if depth == 0 {
				closing = t
				continue
			}
		}
		toks = append(toks, t)
	}
	s.toks = toks
	endLine, _ := s.lx.lines.pos(closing.off)

	m := Macro{Kind: kind, Name: s.text(name), File: s.lx.file, Line: line, Col: col, EndLine: endLine, Cond: cond}
	parts := splitArgs(toks)
	if len(parts) == 1 && len(parts[0]) == 0 {
		parts = nil
	}
	var problems []string
	ctxOK := len(parts) > 0 && len(parts[0]) == 1 && parts[0][0].kind == tokIdent
	evOK := len(parts) > 1 && len(parts[1]) == 1 && parts[1][0].kind == tokIdent
	if !ctxOK || !evOK {
		if kind == Trace {
			return // TRACE is a common name for logging macros: not ours
		}
		switch {
		case len(parts) == 0:
			problems = append(problems, "missing context and event")
		case len(parts) == 1:
			problems = append(problems, "missing event")
		case !ctxOK:
			problems = append(problems, fmt.Sprintf("context %q is not an identifier", s.join(parts[0])))
		default:
			problems = append(problems, fmt.Sprintf("event %q is not an identifier", s.join(parts[1])))
		}
	}
	if len(parts) > 0 {
		m.Context = s.join(parts[0])
	}
	if len(parts) > 1 {
		m.Event = s.join(parts[1])
	}
	if len(parts) > 2 {
		m.Args = make([]string, len(parts)-2)
		for i, p := range parts[2:] {
			m.Args[i] = s.join(p)
			if len(p) == 0 {
				problems = append(problems, fmt.Sprintf("argument %d is empty", i+1))
			}
			for _, t := range p {
				if t.kind == tokChar && (t.end-t.off < 2 || s.src[t.end-1] != '\'') {
					problems = append(problems, fmt.Sprintf("argument %d has an unterminated character literal", i+1))
					break
				}
			}
		}
	}
	switch {
	case kind == Semaphore && len(parts) > 2:
		problems = append(problems, fmt.Sprintf("%s takes a context and an event, not %d arguments", m.Name, len(parts)))
	case want >= 0 && len(parts) >= 2 && len(m.Args) != want:
		problems = append(problems, fmt.Sprintf("%s has %s after context and event, want %d", m.Name, plural(len(m.Args), "argument"), want))
	case len(m.Args) > MaxArgs:
		problems = append(problems, fmt.Sprintf("%s has %s after context and event, at most %d are supported", m.Name, plural(len(m.Args), "argument"), MaxArgs))
	}
	if len(problems) > 0 {
		m.Err = &SyntaxError{File: m.File, Line: line, Col: col, Msg: strings.Join(problems, "; ")}
	}
	s.info.Macros = append(s.info.Macros, m)
	if kind == Semaphore {
		s.info.Semaphores = append(s.info.Semaphores, line)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// join returns tokens as written, with one space wherever whitespace or a
// comment separated them.
func (s *scanner) join(toks []token) string {
	switch len(toks) {
	case 0:
		return ""
	case 1:
		return s.text(toks[0])
	}
	var b strings.Builder
	b.Grow(toks[len(toks)-1].end - toks[0].off)
	for i, t := range toks {
		if i > 0 && t.space {
			b.WriteByte(' ')
		}
		b.Write(s.src[t.off:t.end])
	}
	return b.String()
}

// splitArgs splits a call's tokens at the commas between its arguments:
// commas nested in parentheses, brackets and braces do not count, and
// neither do commas between template angle brackets.
//
// Angle brackets are ambiguous without knowing which names are templates.
// The heuristic: a < written right after an identifier, with no space
// between, opens a template argument list when a matching > follows outside
// any nested parentheses, brackets or braces and before a ; or the end of
// the argument list. Lists nest, and >> closes two of them (with only one
// open it is a shift). So std::pair<int, int>{1, 2}, foo<a, b>(c) and
// std::map<int, std::vector<int>>{} are one argument each, while
// a < b, c > d are two; the rare a<b, c>d is taken for one, as it would be if
// a were a template.
func splitArgs(toks []token) [][]token {
	closeAt := angleMatches(toks)
	var parts [][]token
	start, depth := 0, 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tokPunct {
			continue
		}
		switch t.op {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '<':
			if depth == 0 && closeAt != nil && closeAt[i] > i {
				i = closeAt[i]
			}
		case ',':
			if depth == 0 {
				parts = append(parts, toks[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, toks[start:])
}

// angleMatches returns, for every < at the top level of toks that opens a
// template argument list by the heuristic of splitArgs, the index of the >
// or >> that closes it; nil when there is none. It is one pass with a stack,
// so hostile input costs no more than its length.
func angleMatches(toks []token) []int {
	var closeAt, open []int
	depth := 0
	for j, t := range toks {
		if t.kind != tokPunct {
			continue
		}
		switch t.op {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth == 0 {
				open = open[:0]
			} else {
				depth--
			}
		case ';':
			if depth == 0 {
				open = open[:0]
			}
		case '<':
			if depth == 0 && j > 0 && toks[j-1].kind == tokIdent && !t.space {
				open = append(open, j)
			}
		case '>', opShr:
			n := 1
			if t.op == opShr {
				n = 2
			}
			if depth != 0 || len(open) < n {
				continue
			}
			if closeAt == nil {
				closeAt = make([]int, len(toks))
			}
			for ; n > 0; n-- {
				closeAt[open[len(open)-1]] = j
				open = open[:len(open)-1]
			}
		}
	}
	return closeAt
}

// cond returns the conditions at the current position, shared between the
// calls that have the same ones.
func (s *scanner) cond() []string {
	if s.condValid {
		return s.conds
	}
	s.condValid = true
	s.conds = nil
	if len(s.frames) == 0 {
		return nil
	}
	s.budget += len(s.frames)
	if s.budget > maxCondBudget {
		s.lx.fail(s.lx.pos, "too many conditional tracepoint macros")
		return nil
	}
	s.conds = make([]string, len(s.frames))
	for i, f := range s.frames {
		s.conds[i] = f.text
	}
	s.conds = s.conds[:len(s.conds):len(s.conds)]
	return s.conds
}

// directive handles a preprocessor directive; the # has been read.
func (s *scanner) directive(hash token) {
	lx := s.lx
	lx.directive = true
	defer func() { lx.directive = false }()
	if s.guard == guardClosed {
		s.guard = guardNone
	}
	name := lx.next()
	if name.kind != tokIdent {
		s.skipLine(name)
		return
	}
	word := s.text(name)
	if s.guard == guardStart && word != "ifndef" || s.guard == guardIfndef && word != "define" {
		s.guard = guardNone
	}
	switch word {
	case "if":
		s.push(s.rest())
	case "ifdef":
		s.push("defined(" + s.rest() + ")")
	case "ifndef":
		arg := s.rest()
		if s.guard == guardStart && len(s.frames) == 0 {
			s.guard, s.guardName = guardIfndef, arg
		}
		s.push("!defined(" + arg + ")")
	case "elif":
		s.branch(s.rest())
	case "elifdef":
		s.branch("defined(" + s.rest() + ")")
	case "elifndef":
		s.branch("!defined(" + s.rest() + ")")
	case "else":
		s.skipLine(lx.next())
		s.branch("")
	case "endif":
		s.skipLine(lx.next())
		if len(s.frames) == 0 {
			return // a stray #endif: the compiler's problem, not ours
		}
		s.frames = s.frames[:len(s.frames)-1]
		s.changed()
		if len(s.frames) == 0 && s.guard == guardDefined {
			s.guard = guardClosed
		}
	case "define":
		t := lx.next()
		if s.guard == guardIfndef {
			if t.kind == tokIdent && s.text(t) == s.guardName {
				s.guard = guardDefined
				s.skipLine(t)
				return
			}
			s.guard = guardNone
		}
		if t.kind == tokIdent {
			line, _ := lx.lines.pos(t.off)
			s.info.Defines = append(s.info.Defines, Define{
				Name: s.text(t), Line: line, Params: t.end < len(s.src) && s.src[t.end] == '(', Cond: s.cond(),
			})
		}
		s.skipLine(t)
	case "include", "include_next", "import":
		s.include(hash.off)
	default:
		s.skipLine(lx.next())
	}
}

// skipLine skips the rest of a directive; t is its next token.
func (s *scanner) skipLine(t token) {
	for t.kind != tokEOL && t.kind != tokEOF {
		t = s.lx.next()
	}
}

// rest returns the rest of a directive, as join does.
func (s *scanner) rest() string {
	toks := s.dtoks[:0]
	for {
		t := s.lx.next()
		if t.kind == tokEOL || t.kind == tokEOF {
			break
		}
		toks = append(toks, t)
	}
	s.dtoks = toks
	return s.join(toks)
}

func (s *scanner) include(hashOff int) {
	lx := s.lx
	line, _ := lx.lines.pos(hashOff)
	inc := Include{Line: line}
	lx.skipSpace()
	if lx.pos < len(lx.src) && lx.src[lx.pos] == '<' {
		end := lx.pos + 1
		for end < len(lx.src) && lx.src[end] != '>' && lx.src[end] != '\n' {
			end++
		}
		inc.Path, inc.Angle = string(lx.src[lx.pos+1:end]), true
		lx.pos = end
		if end < len(lx.src) && lx.src[end] == '>' {
			lx.pos++
		}
		s.skipLine(lx.next())
	} else {
		inc.Path = s.rest()
		if len(inc.Path) >= 2 && inc.Path[0] == '"' && strings.IndexByte(inc.Path[1:], '"') == len(inc.Path)-2 {
			inc.Path = inc.Path[1 : len(inc.Path)-1]
		}
	}
	inc.Cond = s.cond()
	s.info.Includes = append(s.info.Includes, inc)
	s.info.LastInclude = line
	if inc.Path == "util/trace.h" && s.info.TraceInclude == 0 {
		s.info.TraceInclude = line
	}
}

func (s *scanner) push(cond string) {
	if len(s.frames) >= maxCondDepth {
		s.lx.fail(s.lx.pos, fmt.Sprintf("#if blocks nested deeper than %d", maxCondDepth))
		return
	}
	s.frames = append(s.frames, frame{cur: cond, text: cond, dead: cond == "0"})
	s.changed()
}

// branch moves the innermost frame to its #elif (cond) or #else ("").
func (s *scanner) branch(cond string) {
	if len(s.frames) == 0 {
		return // a stray #else or #elif
	}
	f := &s.frames[len(s.frames)-1]
	if f.cur == "1" {
		f.always = true
	}
	f.prior = append(f.prior, f.cur)
	f.cur = cond
	f.dead = f.always || cond == "0"
	parts := make([]string, 0, len(f.prior)+1)
	for _, p := range f.prior {
		parts = append(parts, negate(p))
	}
	if cond != "" {
		parts = append(parts, cond)
	}
	f.text = joinConds(parts)
	s.changed()
}

// changed notes that the condition stack changed.
func (s *scanner) changed() {
	s.condValid = false
	s.lx.lenient = false
	for _, f := range s.frames {
		if f.dead {
			s.lx.lenient = true
			break
		}
	}
}

// negate returns the condition that holds when c does not.
func negate(c string) string {
	if simpleCond(c) {
		return "!" + c
	}
	if strings.HasPrefix(c, "!") && simpleCond(c[1:]) {
		return c[1:]
	}
	return "!(" + c + ")"
}

// simpleCond reports whether c is an identifier, a number, or a call such as
// defined(X), so that "!" + c negates it.
func simpleCond(c string) bool {
	i := 0
	for i < len(c) && class[c[i]]&cIdent != 0 {
		i++
	}
	if i == 0 {
		return false
	}
	if i == len(c) {
		return true
	}
	if c[i] != '(' || c[len(c)-1] != ')' {
		return false
	}
	depth := 0
	for j := i; j < len(c); j++ {
		switch c[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 && j != len(c)-1 {
				return false
			}
		}
	}
	return depth == 0
}
