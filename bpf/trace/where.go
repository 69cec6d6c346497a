package trace

import (
	"fmt"
	"strconv"
	"strings"
)

// Expr is a parsed --where predicate: comparisons of keys (pid, tid,
// comm, tracepoint, argN or an argument's name) with integer or string
// constants, joined by &&, || and !, in parentheses as needed.
type Expr struct {
	Op   string // "&&", "||", "!", or a comparison: "==", "!=", "<", "<=", ">", ">="
	L, R *Expr
	// A comparison's key and constant: Int, or Str when IsStr.
	Key   string
	Int   int64
	Str   string
	IsStr bool
	// Col is the 1-based column where the comparison starts.
	Col int
}

// WhereError is a --where expression that cannot be read, or that names
// a key a tracepoint does not have; Col is the 1-based column.
type WhereError struct {
	Col int
	Msg string
}

func (e *WhereError) Error() string { return fmt.Sprintf("--where: column %d: %s", e.Col, e.Msg) }

// ParseWhere reads a --where expression.
func ParseWhere(s string) (*Expr, error) {
	p := &whereParser{src: s}
	p.next()
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, &WhereError{p.tok.col, fmt.Sprintf("unexpected %q", p.tok.text)}
	}
	return e, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokInt
	tokStr
	tokOp
)

type token struct {
	kind tokKind
	text string
	str  string // a string's value
	col  int
	err  error
}

type whereParser struct {
	src string
	pos int
	tok token
}

func (p *whereParser) next() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	col := p.pos + 1
	if p.pos >= len(p.src) {
		p.tok = token{kind: tokEOF, text: "end", col: col}
		return
	}
	rest := p.src[p.pos:]
	c := rest[0]
	switch {
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		n := 1
		for n < len(rest) && (rest[n] == '_' || rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] >= '0' && rest[n] <= '9') {
			n++
		}
		p.tok = token{kind: tokIdent, text: rest[:n], col: col}
		p.pos += n
	case c >= '0' && c <= '9' || c == '-' && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9':
		n := 1
		for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] >= 'a' && rest[n] <= 'f' || rest[n] >= 'A' && rest[n] <= 'F' || rest[n] == 'x' || rest[n] == 'X' || rest[n] == '_') {
			n++
		}
		p.tok = token{kind: tokInt, text: rest[:n], col: col}
		p.pos += n
	case c == '"' || c == '\'':
		end := 1
		for end < len(rest) && rest[end] != c {
			if rest[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(rest) {
			p.tok = token{kind: tokStr, col: col, err: &WhereError{col, "unterminated string"}}
			p.pos = len(p.src)
			return
		}
		lit := rest[:end+1]
		if c == '\'' {
			lit = `"` + strings.ReplaceAll(rest[1:end], `"`, `\"`) + `"`
		}
		v, err := strconv.Unquote(lit)
		if err != nil {
			p.tok = token{kind: tokStr, col: col, err: &WhereError{col, "bad string " + rest[:end+1]}}
		} else {
			p.tok = token{kind: tokStr, text: rest[:end+1], str: v, col: col}
		}
		p.pos += end + 1
	default:
		for _, op := range []string{"==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")"} {
			if strings.HasPrefix(rest, op) {
				p.tok = token{kind: tokOp, text: op, col: col}
				p.pos += len(op)
				return
			}
		}
		p.tok = token{kind: tokOp, text: rest[:1], col: col, err: &WhereError{col, fmt.Sprintf("unexpected %q", rest[:1])}}
		p.pos++
	}
}

func (p *whereParser) or() (*Expr, error) {
	l, err := p.and()
	for err == nil && p.tok.kind == tokOp && p.tok.text == "||" {
		p.next()
		var r *Expr
		if r, err = p.and(); err == nil {
			l = &Expr{Op: "||", L: l, R: r, Col: l.Col}
		}
	}
	return l, err
}

func (p *whereParser) and() (*Expr, error) {
	l, err := p.unary()
	for err == nil && p.tok.kind == tokOp && p.tok.text == "&&" {
		p.next()
		var r *Expr
		if r, err = p.unary(); err == nil {
			l = &Expr{Op: "&&", L: l, R: r, Col: l.Col}
		}
	}
	return l, err
}

func (p *whereParser) unary() (*Expr, error) {
	t := p.tok
	if t.err != nil {
		return nil, t.err
	}
	switch {
	case t.kind == tokOp && t.text == "!":
		p.next()
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Expr{Op: "!", L: e, Col: t.col}, nil
	case t.kind == tokOp && t.text == "(":
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokOp || p.tok.text != ")" {
			return nil, &WhereError{p.tok.col, fmt.Sprintf("want ) to close the ( of column %d, not %q", t.col, p.tok.text)}
		}
		p.next()
		return e, nil
	}
	return p.compare()
}

// compare reads KEY OP CONSTANT, or CONSTANT OP KEY.
func (p *whereParser) compare() (*Expr, error) {
	left := p.tok
	if left.err != nil {
		return nil, left.err
	}
	if left.kind != tokIdent && left.kind != tokInt && left.kind != tokStr {
		return nil, &WhereError{left.col, fmt.Sprintf("want a comparison such as arg0 > 5, not %q", left.text)}
	}
	p.next()
	op := p.tok
	if op.err != nil {
		return nil, op.err
	}
	switch op.text {
	case "==", "!=", "<", "<=", ">", ">=":
	default:
		return nil, &WhereError{op.col, fmt.Sprintf("want a comparison (== != < <= > >=) after %s, not %q", left.text, op.text)}
	}
	p.next()
	right := p.tok
	if right.err != nil {
		return nil, right.err
	}
	if right.kind != tokIdent && right.kind != tokInt && right.kind != tokStr {
		return nil, &WhereError{right.col, fmt.Sprintf("want a key or a constant after %s, not %q", op.text, right.text)}
	}
	p.next()
	key, lit, cmp := left, right, op.text
	if left.kind != tokIdent {
		if right.kind != tokIdent {
			return nil, &WhereError{left.col, "a comparison needs a key: pid, tid, comm, tracepoint, argN or an argument's name"}
		}
		key, lit = right, left
		cmp = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}[cmp]
		if cmp == "" {
			cmp = op.text
		}
	} else if right.kind == tokIdent {
		return nil, &WhereError{right.col, fmt.Sprintf("compare %s with a constant, not with the key %s", left.text, right.text)}
	}
	e := &Expr{Op: cmp, Key: key.text, Col: left.col}
	switch lit.kind {
	case tokStr:
		e.Str, e.IsStr = lit.str, true
		if cmp != "==" && cmp != "!=" {
			return nil, &WhereError{op.col, "strings compare with == and != only"}
		}
	case tokInt:
		v, err := parseInt(lit.text)
		if err != nil {
			return nil, &WhereError{lit.col, fmt.Sprintf("bad number %q", lit.text)}
		}
		e.Int = v
	}
	return e, nil
}

// parseInt reads a decimal or 0x number, negative or up to 2^64-1 (then
// kept as its bits).
func parseInt(s string) (int64, error) {
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return v, nil
	}
	u, err := strconv.ParseUint(s, 0, 64)
	return int64(u), err
}
