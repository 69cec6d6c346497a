package docs

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

const (
	// MaxSize is the largest document Parse reads, in bytes.
	MaxSize = 16 << 20
	// MaxLines is the largest number of lines Parse reads.
	MaxLines = 1 << 20
	// maxProblems bounds Doc.Problems; one more entry says the rest were dropped.
	maxProblems = 1000
)

// ParseFile reads and parses the tracing document at path. See Parse.
func ParseFile(path string) (*Doc, error) {
	// Opened without blocking: a FIFO is refused, not waited on.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	case fi.IsDir():
		return nil, fmt.Errorf("read %s: is a directory, not a tracing doc", path)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("read %s: not a regular file", path)
	case fi.Size() > MaxSize:
		return nil, fmt.Errorf("read %s: %w: %d bytes, the limit is %d", path, ErrTooLarge, fi.Size(), MaxSize)
	}
	return Parse(path, f)
}

// Parse reads a tracing document in Bitcoin Core's doc/tracing.md format
// from r. name is used in errors, usually the file's path.
//
// If the document cannot be read (an I/O error, more than MaxSize bytes or
// MaxLines lines) Parse returns a nil Doc and the error. Otherwise it
// returns the Doc with everything it could read; if that document has
// problems, the error is their errors.Join, each a *SyntaxError, and
// Doc.Problems lists them too.
func Parse(name string, r io.Reader) (doc *Doc, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("read %s: %w: more than %d bytes", name, ErrTooLarge, MaxSize)
	}
	defer func() {
		if p := recover(); p != nil {
			doc, err = nil, fmt.Errorf("parse %s: unexpected input (%v): %s", name, p, debug.Stack())
		}
	}()
	doc, err = parse(name, data)
	if err != nil {
		return nil, err
	}
	if len(doc.Problems) > 0 {
		errs := make([]error, len(doc.Problems))
		for i, p := range doc.Problems {
			errs[i] = p
		}
		return doc, errors.Join(errs...)
	}
	return doc, nil
}

type lineKind uint8

const (
	lText    lineKind = iota
	lBlank            // only white space
	lCode             // in a code fence or HTML comment, or delimiting one
	lHeading          // an ATX heading
)

type line struct {
	raw    string
	kind   lineKind
	indent int    // columns of leading white space, a tab counting 4
	level  int    // lHeading: 1 to 6
	text   string // lHeading: the heading's text; lText: raw without indentation
}

type parser struct {
	name     string
	lines    []line
	doc      *Doc
	dropped  bool
	contexts map[string]*Context
	seen     map[string]*Tracepoint
}

// parse does the work of Parse, without its recover, so that fuzzing sees
// panics.
func parse(name string, data []byte) (*Doc, error) {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	if n > MaxLines {
		return nil, fmt.Errorf("read %s: %w: more than %d lines", name, ErrTooLarge, MaxLines)
	}
	p := &parser{
		name:     name,
		lines:    make([]line, 0, n),
		doc:      &Doc{Name: name, Text: string(data), Lines: n, Contexts: []*Context{}, Tracepoints: []*Tracepoint{}, Problems: []*SyntaxError{}},
		contexts: map[string]*Context{},
		seen:     map[string]*Tracepoint{},
	}
	s := string(data)
	for len(s) > 0 {
		l, rest, _ := strings.Cut(s, "\n")
		s = rest
		p.lines = append(p.lines, line{raw: strings.TrimRight(l, "\r")})
	}
	p.classify()
	p.structure()
	p.sortProblems()
	return p.doc, nil
}

func (p *parser) problem(lineno int, format string, args ...any) *SyntaxError {
	e := &SyntaxError{File: p.name, Line: lineno, Msg: fmt.Sprintf(format, args...)}
	if len(p.doc.Problems) < maxProblems {
		p.doc.Problems = append(p.doc.Problems, e)
	} else {
		p.dropped = true
	}
	return e
}

// sortProblems puts the problems in line order and says if some were
// dropped.
func (p *parser) sortProblems() {
	slices.SortStableFunc(p.doc.Problems, func(a, b *SyntaxError) int { return cmp.Compare(a.Line, b.Line) })
	if p.dropped {
		p.doc.Problems = append(p.doc.Problems, &SyntaxError{File: p.name, Line: p.doc.Problems[len(p.doc.Problems)-1].Line,
			Msg: fmt.Sprintf("more than %d problems; the rest are not listed", maxProblems)})
	}
}

func indentOf(s string) (cols int, rest string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			cols++
		case '\t':
			cols += 4 - cols%4
		default:
			return cols, s[i:]
		}
	}
	return cols, ""
}

// classify marks blank lines, code (fenced blocks and HTML comments, whose
// '#' lines are not headings) and ATX headings.
func (p *parser) classify() {
	var (
		fenceChar  byte
		fenceLen   int
		fenceLine  int
		inComment  bool
		commentAt  int
		inFence    bool
		fenceDelim string
	)
	for i := range p.lines {
		l := &p.lines[i]
		l.indent, l.text = indentOf(l.raw)
		switch {
		case inFence:
			l.kind = lCode
			if c, n, info := fenceOpen(l.text); c == fenceChar && n >= fenceLen && strings.TrimSpace(info) == "" {
				inFence = false
			}
			continue
		case inComment:
			l.kind = lCode
			if strings.Contains(l.raw, "-->") {
				inComment = false
			}
			continue
		case l.text == "":
			l.kind = lBlank
			continue
		}
		if c, n, info := fenceOpen(l.text); n >= 3 && !(c == '`' && strings.Contains(info, "`")) {
			l.kind = lCode
			inFence, fenceChar, fenceLen, fenceLine = true, c, n, i+1
			fenceDelim = strings.Repeat(string(c), n)
			continue
		}
		if l.indent <= 3 && strings.HasPrefix(l.text, "<!--") {
			l.kind = lCode
			if !strings.Contains(l.text[4:], "-->") {
				inComment, commentAt = true, i+1
			}
			continue
		}
		if level, text, ok := atxHeading(l.text); ok && l.indent <= 3 {
			l.kind, l.level, l.text = lHeading, level, text
			continue
		}
		l.kind = lText
	}
	if inFence {
		p.problem(fenceLine, "code fence %s is never closed, so the rest of the document is read as code; close it with %s", fenceDelim, fenceDelim)
	}
	if inComment {
		p.problem(commentAt, "HTML comment is never closed, so the rest of the document is ignored; close it with -->")
	}
}

// fenceOpen returns the fence character and the length of the run a line
// starts with, and the text after it; n < 3 means the line is no fence.
func fenceOpen(s string) (c byte, n int, info string) {
	if s == "" || (s[0] != '`' && s[0] != '~') {
		return 0, 0, ""
	}
	c = s[0]
	for n < len(s) && s[n] == c {
		n++
	}
	if n < 3 {
		return 0, 0, ""
	}
	return c, n, s[n:]
}

// atxHeading recognises "## text ##": one to six '#', then white space or
// the end of the line; an optional closing run of '#' is dropped.
func atxHeading(s string) (level int, text string, ok bool) {
	for level < len(s) && s[level] == '#' {
		level++
	}
	if level == 0 || level > 6 {
		return 0, "", false
	}
	rest := s[level:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false
	}
	text = strings.TrimSpace(rest)
	if t := strings.TrimRight(text, "#"); t != text {
		if t == "" {
			text = ""
		} else if c := t[len(t)-1]; c == ' ' || c == '\t' {
			text = strings.TrimSpace(t)
		}
	}
	return level, text, true
}

// headingName reads "Keyword `name`" (or, which is a problem, "Keyword
// name"). ok is false when the heading does not start with the keyword or
// names nothing.
func headingName(text, keyword string) (name string, backticked, ok bool) {
	if len(text) <= len(keyword) || !strings.EqualFold(text[:len(keyword)], keyword) {
		return "", false, false
	}
	rest := text[len(keyword):]
	if rest[0] != ' ' && rest[0] != '\t' && rest[0] != '`' {
		return "", false, false
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return "", false, false
	}
	if spans := codeSpans(rest); len(spans) > 0 && spans[0].start == 0 {
		return strings.TrimSpace(rest[spans[0].cstart:spans[0].cend]), true, true
	}
	return rest, false, true // the caller checks the name
}

func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t`:")
}

// structure walks the classified lines: context sections, tracepoint
// entries and, in each entry, the argument list.
func (p *parser) structure() {
	var (
		ctx          *Context
		ctxStart     int // index of the context heading
		ctxDescEnd   int // index of the first heading of level <= 4 in the section, -1 before
		tp           *Tracepoint
		tpStart      int
		closeEntry   func(end int)
		closeSection func(end int)
	)
	closeEntry = func(end int) {
		if tp == nil {
			return
		}
		tp.EndLine = p.lastNonBlank(tpStart, end)
		p.entry(tp, tpStart+1, end)
		tp = nil
	}
	closeSection = func(end int) {
		closeEntry(end)
		if ctx == nil {
			return
		}
		if ctxDescEnd < 0 {
			ctxDescEnd = end
		}
		ctx.Description = p.text(ctxStart+1, ctxDescEnd)
		ctx.EndLine = p.lastNonBlank(ctxStart, end)
		ctx = nil
	}
	for i := range p.lines {
		l := &p.lines[i]
		if l.kind != lHeading {
			continue
		}
		lineno := i + 1
		// At its own level a heading that starts with the keyword is an
		// entry or a problem; at another level only a name in backticks
		// makes it one ("## Context switching" is prose).
		if name, bt, ok := headingName(l.text, "Context"); ok && (l.level == 3 || bt && validName(name)) {
			closeSection(i)
			if !validName(name) {
				p.problem(lineno, "malformed context heading %q; write \"### Context `name`\"", l.text)
				continue
			}
			if !bt {
				p.problem(lineno, "context name %s is not in backticks; write \"### Context `%s`\"", name, name)
			}
			if l.level != 3 {
				p.problem(lineno, "context heading at level %d; write \"### Context `%s`\"", l.level, name)
			}
			ctx = &Context{Name: name, Line: lineno, Tracepoints: []*Tracepoint{}}
			ctxStart, ctxDescEnd = i, -1
			if prev := p.contexts[name]; prev != nil {
				p.problem(lineno, "context %s already has a section at line %d", name, prev.Line)
			} else {
				p.contexts[name] = ctx
			}
			p.doc.Contexts = append(p.doc.Contexts, ctx)
			continue
		}
		if name, bt, ok := headingName(l.text, "Tracepoint"); ok && (l.level == 4 || bt && strings.Contains(name, ":") && tracepointName(name, nil) != "") {
			closeEntry(i)
			if ctx != nil && ctxDescEnd < 0 {
				ctxDescEnd = i
			}
			id := tracepointName(name, ctx)
			if id == "" {
				p.problem(lineno, "malformed tracepoint heading %q; write \"#### Tracepoint `context:event`\"", l.text)
				continue
			}
			c, e, _ := strings.Cut(id, ":")
			tp = &Tracepoint{Context: c, Event: e, Line: lineno, Args: []Arg{}}
			tpStart = i
			switch {
			case !strings.Contains(name, ":"):
				p.problem(lineno, "tracepoint heading names only the event; write \"#### Tracepoint `%s`\"", id)
			case !bt:
				p.problem(lineno, "tracepoint name %s is not in backticks; write \"#### Tracepoint `%s`\"", id, id)
			}
			if l.level != 4 {
				p.problem(lineno, "tracepoint heading at level %d; write \"#### Tracepoint `%s`\"", l.level, id)
			}
			switch {
			case ctx == nil:
				p.problem(lineno, "tracepoint %s is outside a \"### Context\" section", id)
			case ctx.Name != c:
				p.problem(lineno, "tracepoint %s is in the section of context %s (line %d)", id, ctx.Name, ctx.Line)
			}
			if prev := p.seen[id]; prev != nil {
				p.problem(lineno, "tracepoint %s is already documented at line %d", id, prev.Line)
			} else {
				p.seen[id] = tp
			}
			if ctx != nil {
				ctx.Tracepoints = append(ctx.Tracepoints, tp)
			}
			p.doc.Tracepoints = append(p.doc.Tracepoints, tp)
			continue
		}
		switch {
		case l.level <= 3:
			closeSection(i)
		case l.level == 4:
			closeEntry(i)
			if ctx != nil && ctxDescEnd < 0 {
				ctxDescEnd = i
			}
		}
	}
	closeSection(len(p.lines))
}

// tracepointName gives "context:event" for a heading's name, taking the
// context from the section when the name is only an event; "" when the
// name is malformed.
func tracepointName(name string, ctx *Context) string {
	c, e, found := strings.Cut(name, ":")
	if !found {
		if ctx == nil || !validName(name) {
			return ""
		}
		return ctx.Name + ":" + name
	}
	if !validName(c) || !validName(e) {
		return ""
	}
	return name
}

// lastNonBlank is the 1-based number of the last non-blank line in
// (start, end), or of start itself.
func (p *parser) lastNonBlank(start, end int) int {
	for j := end - 1; j > start; j-- {
		if strings.TrimSpace(p.lines[j].raw) != "" {
			return j + 1
		}
	}
	return start + 1
}

// text joins lines [start, end) with "\n", without blank lines at either end.
func (p *parser) text(start, end int) string {
	for start < end && strings.TrimSpace(p.lines[start].raw) == "" {
		start++
	}
	for end > start && strings.TrimSpace(p.lines[end-1].raw) == "" {
		end--
	}
	if start >= end {
		return ""
	}
	var b strings.Builder
	for j := start; j < end; j++ {
		if j > start {
			b.WriteByte('\n')
		}
		b.WriteString(p.lines[j].raw)
	}
	return b.String()
}

// Compiled on first use, like every regular expression of the package.
var (
	argsHeaderRe = lazyRegexp(`(?i)^(?:\*\*|__)?arguments(?:\s+passed)?(?:\*\*|__)?\s*:(?:\*\*|__)?\s*(.*)$`)
	noArgsRe     = lazyRegexp(`(?i)^(?:none|no arguments|-)\.?$`)
	numItemRe    = lazyRegexp(`^(\d{1,9})[.)](?:[ \t]+(.*))?$`)
	noNumItemRe  = lazyRegexp(`^[.)][ \t]+(.*)$`)
	bulletItemRe = lazyRegexp(`^[-*+](?:[ \t]+(.*))?$`)
	// a definition ("[^note]: ...", "[link]: url") ends a list instead of
	// continuing its last item
	definitionRe = lazyRegexp(`^\[[^\]]+\]:`)
)

type listItem struct {
	start, end int // line indices [start, end)
	num        int // the number written, 0 for none
	numbered   bool
	missingNum bool
	parts      []string
}

// entry reads the body of a tracepoint entry, lines [start, end).
func (p *parser) entry(tp *Tracepoint, start, end int) {
	argsAt := -1
	for k := start; k < end; k++ {
		if l := p.lines[k]; l.kind == lText && l.indent <= 3 && argsHeaderRe().MatchString(l.text) {
			argsAt = k
			break
		}
	}
	if argsAt < 0 {
		tp.Description = p.text(start, end)
		for k := start; k < end; k++ {
			if l := p.lines[k]; l.kind == lText && l.indent <= 3 && numItemRe().MatchString(l.text) && strings.Contains(l.text, " as `") {
				p.problem(k+1, "tracepoint %s has a numbered list without \"Arguments passed:\" above it; it is read as having no arguments", tp.ID())
				break
			}
		}
		return
	}
	tp.Description = p.text(start, argsAt)
	tp.ArgsLine = argsAt + 1
	rest := strings.TrimSpace(argsHeaderRe().FindStringSubmatch(p.lines[argsAt].text)[1])
	explicitNone := false
	switch {
	case rest == "":
	case noArgsRe().MatchString(rest):
		explicitNone = true
	default:
		p.problem(argsAt+1, "unexpected text %q after \"Arguments passed:\"; the list goes on the lines below", rest)
	}

	var items []*listItem
	k, blank := argsAt+1, false
	for ; k < end; k++ {
		l := p.lines[k]
		if strings.TrimSpace(l.raw) == "" {
			blank = true
			continue
		}
		if l.kind == lText && l.indent <= 3 && !explicitNone {
			if it := newListItem(l.text); it != nil {
				it.start, it.end = k, k+1
				items = append(items, it)
				blank = false
				continue
			}
		}
		if len(items) > 0 {
			cur := items[len(items)-1]
			if l.indent > 0 || (!blank && l.kind == lText && !definitionRe().MatchString(l.text)) {
				cur.parts = append(cur.parts, strings.TrimSpace(l.raw))
				cur.end = k + 1
				blank = false
				continue
			}
		}
		break
	}
	if len(items) == 0 && !explicitNone && rest == "" {
		p.problem(argsAt+1, "\"Arguments passed:\" is not followed by a numbered list; write \"1. Description as `type`\" items, or \"Arguments passed: none\"")
	}
	tp.Notes = p.text(k, end)
	for j := k; j < end; j++ {
		if l := p.lines[j]; l.kind == lText && l.indent <= 3 && argsHeaderRe().MatchString(l.text) {
			p.problem(j+1, "second \"Arguments passed:\" in tracepoint %s; only the list at line %d is read", tp.ID(), tp.ArgsLine)
			break
		}
	}
	for i, it := range items {
		switch {
		case it.missingNum:
			p.problem(it.start+1, "list item without a number, read as argument %d; write \"%d.\"", i+1, i+1)
		case it.numbered && it.num != i+1:
			p.problem(it.start+1, "argument numbered %d where %d was expected; arguments keep their list position", it.num, i+1)
		}
		tp.Args = append(tp.Args, p.arg(i, it))
	}
}

func newListItem(s string) *listItem {
	if m := numItemRe().FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			n = -1
		}
		return &listItem{num: n, numbered: true, parts: []string{strings.TrimSpace(m[2])}}
	}
	if m := noNumItemRe().FindStringSubmatch(s); m != nil {
		return &listItem{missingNum: true, parts: []string{strings.TrimSpace(m[1])}}
	}
	if m := bulletItemRe().FindStringSubmatch(s); m != nil {
		return &listItem{parts: []string{strings.TrimSpace(m[1])}}
	}
	return nil
}

// arg reads one list item: "Description as `type` remark".
func (p *parser) arg(index int, it *listItem) Arg {
	var parts []string
	for _, s := range it.parts {
		if s != "" {
			parts = append(parts, s)
		}
	}
	a := Arg{Index: index, Line: it.start + 1, EndLine: it.end, Text: strings.Join(parts, " ")}
	fail := func(format string, args ...any) Arg {
		a.Type = Type{}
		a.Err = p.problem(a.Line, "argument %d: %s", index+1, fmt.Sprintf(format, args...))
		return a
	}
	sp, ok := splitArg(a.Text)
	if !ok && sp.phrase == "" {
		return fail("no type; write \"Description as `type`\"")
	}
	a.Description, a.TypePhrase, a.Remark = sp.desc, sp.phrase, sp.remark
	t, err := ParseType(sp.phrase)
	if err != nil {
		return fail("%v", err)
	}
	t, err = lengthFrom(t, a.Remark, a.Description)
	if err != nil {
		return fail("%v", err)
	}
	a.Type = t
	if !sp.backticked {
		p.problem(a.Line, "argument %d: type %s is not in backticks; write `%s`", index+1, sp.phrase, sp.phrase)
	}
	return a
}

type codeSpan struct {
	start, end   int // the span, backticks included
	cstart, cend int // its content
}

// codeSpans finds the backtick code spans in s: a run of n backticks up to
// the next run of exactly n.
func codeSpans(s string) []codeSpan {
	var spans []codeSpan
	i := 0
	for i < len(s) {
		if s[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		j, closed := i+n, false
		for j < len(s) {
			if s[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(s) && s[j+m] == '`' {
				m++
			}
			if m == n {
				closed = true
				break
			}
			j += m
		}
		if !closed {
			i += n
			continue
		}
		spans = append(spans, codeSpan{start: i, end: j + n, cstart: i + n, cend: j})
		i = j + n
	}
	return spans
}

// asBefore returns where the word "as" (or "as a", "as an") that ends
// before starts, or -1.
func asBefore(before string) int {
	s := strings.TrimRight(before, " \t")
	for _, suf := range []string{"as an", "as a", "as"} {
		at := len(s) - len(suf)
		if at < 0 || !strings.EqualFold(s[at:], suf) {
			continue
		}
		if at == 0 || !isWordByte(s[at-1]) {
			return at
		}
	}
	return -1
}

// isWordByte reports whether c can be part of a word: an ASCII letter,
// digit or underscore, or a byte of a multi-byte UTF-8 character.
func isWordByte(c byte) bool {
	return c == '_' || c >= 0x80 || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

type argSplit struct {
	desc, phrase, remark string
	backticked           bool
}

var bareAsRe = lazyRegexp(`(?i)(?:^|[ \t(])as[ \t]+(?:an?[ \t]+)?`)

// splitArg finds the type in an item's text. The type is the first code
// span after "as" whose text is a known type; failing that, the first code
// span after "as"; failing that, the first code span that is a known type
// ("`bool` indicating ...", "... SigOps `uint64`"); failing that, words
// after "as" without backticks that are a known type. ok is false when it
// found nothing it could map; phrase is then the span it settled on, if any.
func splitArg(text string) (sp argSplit, ok bool) {
	spans := codeSpans(text)
	pick := func(c codeSpan, asAt int) argSplit {
		descEnd := c.start
		if asAt >= 0 {
			descEnd = asAt
		}
		return argSplit{
			desc:       strings.TrimSpace(text[:descEnd]),
			phrase:     strings.TrimSpace(text[c.cstart:c.cend]),
			remark:     strings.TrimSpace(text[c.end:]),
			backticked: true,
		}
	}
	maps := func(c codeSpan) bool {
		_, err := ParseType(text[c.cstart:c.cend])
		return err == nil
	}
	firstAs := -1
	for i, c := range spans {
		if at := asBefore(text[:c.start]); at >= 0 {
			if maps(c) {
				return pick(c, at), true
			}
			if firstAs < 0 {
				firstAs = i
			}
		}
	}
	if firstAs >= 0 {
		c := spans[firstAs]
		return pick(c, asBefore(text[:c.start])), false
	}
	for _, c := range spans {
		if maps(c) {
			return pick(c, -1), true
		}
	}
	// No backticks: try the longest run of up to six words after "as".
	for _, m := range bareAsRe().FindAllStringIndex(text, -1) {
		after := text[m[1]:]
		words := strings.Fields(after)
		if len(words) > 6 {
			words = words[:6]
		}
		for n := len(words); n > 0; n-- {
			joined := strings.Join(words[:n], " ")
			phrase := strings.TrimRight(joined, ".,;:")
			if phrase == "" {
				continue
			}
			if _, err := ParseType(phrase); err != nil {
				continue
			}
			asAt := m[0]
			if c := text[asAt]; c != 'a' && c != 'A' {
				asAt++ // the match starts with the character before "as"
			}
			// punctuation glued to the last word belongs to the remark
			remark := strings.TrimSpace(joined[len(phrase):] + " " + text[m[1]+wordsEnd(after, n):])
			return argSplit{desc: strings.TrimSpace(text[:asAt]), phrase: phrase, remark: remark}, true
		}
	}
	return argSplit{}, false
}

// wordsEnd is the byte offset in s just after its first n words.
func wordsEnd(s string, n int) int {
	i := 0
	for w := 0; w < n; w++ {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
	}
	return i
}
