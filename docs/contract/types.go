package contract

import (
	"regexp"
	"strings"
	"sync"

	"github.com/usdtkit/usdtkit/docs"
)

// TypeOf is the type of an argument the doc does not type, from what the
// binary's spec and the source's expression show; exprs are all the
// call's expressions, for a buffer whose size is another argument.
//
// With a spec, its size and class decide: a float, a signed integer, or
// an unsigned one, which the expression may show to be a C string or a
// byte buffer (when the spec is pointer-sized) or a bool (when it is one
// byte). Without a spec, the expression alone decides, and what it does
// not show is a uint64.
func TypeOf(spec *docs.Spec, expr string, ptrSize int) docs.Type {
	shown, ok := exprType(expr)
	if spec == nil {
		if ok {
			return shown
		}
		return docs.Type{Kind: docs.Uint, Size: 8}
	}
	s := *spec
	switch {
	case s.Float:
		return docs.Type{Kind: docs.Float, Size: s.Size}
	case s.Signed:
		return docs.Type{Kind: docs.Int, Size: s.Size}
	case ok && s.Size == ptrSize && (shown.Kind == docs.CString || shown.Kind == docs.Bytes):
		return shown
	case ok && s.Size == 1 && shown.Kind == docs.Bool:
		return shown
	}
	return docs.Type{Kind: docs.Uint, Size: s.Size}
}

// typedBy reports whether an expression shows its argument's type.
func typedBy(expr string) bool {
	_, ok := exprType(expr)
	return ok
}

var castRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\(\s*([A-Za-z_:][A-Za-z0-9_: ]*?)\s*\)|^static_cast<\s*([A-Za-z_:][A-Za-z0-9_: ]*?)\s*>`)
})

// castTypes are the types a cast in an argument expression gives.
var castTypes = sync.OnceValue(func() map[string]docs.Type {
	return map[string]docs.Type{
		"bool":   {Kind: docs.Bool},
		"int8_t": {Kind: docs.Int, Size: 1}, "int16_t": {Kind: docs.Int, Size: 2},
		"int32_t": {Kind: docs.Int, Size: 4}, "int64_t": {Kind: docs.Int, Size: 8},
		"uint8_t": {Kind: docs.Uint, Size: 1}, "uint16_t": {Kind: docs.Uint, Size: 2},
		"uint32_t": {Kind: docs.Uint, Size: 4}, "uint64_t": {Kind: docs.Uint, Size: 8},
		"int": {Kind: docs.Int, Size: 4}, "unsigned": {Kind: docs.Uint, Size: 4}, "unsigned int": {Kind: docs.Uint, Size: 4},
		"size_t": {Kind: docs.Uint},
	}
})

// exprType is the type an argument expression shows: that of a cast to a
// fixed-size integer or bool; a C string for x.c_str(), a string literal
// or the data() of something named a string; a byte buffer for x.data()
// (and x.begin(), UCharCast(...), MakeUCharSpan(...)); a bool for a
// negation, a comparison, true, false or a name such as fInbound, IsValid
// or m_is_inbound.
func exprType(expr string) (docs.Type, bool) {
	e := strings.TrimSpace(expr)
	if e == "" {
		return docs.Type{}, false
	}
	if m := castRe().FindStringSubmatch(e); m != nil {
		if t, ok := castTypes()[strings.TrimPrefix(m[1]+m[2], "std::")]; ok {
			return t, true
		}
	}
	flat := strings.ReplaceAll(e, " ", "")
	switch {
	case strings.HasSuffix(flat, ".c_str()") || strings.HasSuffix(flat, "->c_str()") || strings.HasPrefix(flat, `"`):
		return docs.Type{Kind: docs.CString}, true
	case strings.HasSuffix(flat, ".data()") && strings.Contains(strings.ToLower(flat), "str"):
		return docs.Type{Kind: docs.CString}, true
	case strings.HasSuffix(flat, ".data()") || strings.HasSuffix(flat, ".begin()") ||
		strings.Contains(flat, "UCharCast") || strings.Contains(flat, "MakeUCharSpan"):
		return docs.Type{Kind: docs.Bytes}, true
	case looksBoolean(e):
		return docs.Type{Kind: docs.Bool}, true
	}
	return docs.Type{}, false
}

func looksBoolean(e string) bool {
	if strings.HasPrefix(e, "!") || strings.Contains(e, "==") || strings.Contains(e, "!=") || e == "true" || e == "false" {
		return true
	}
	last := e
	if i := strings.LastIndexAny(e, ".>:"); i >= 0 {
		last = e[i+1:]
	}
	last = strings.TrimPrefix(last, "m_")
	if strings.HasPrefix(last, "is_") || strings.HasPrefix(last, "has_") {
		return true
	}
	for _, p := range []string{"is", "Is", "has", "Has", "f"} {
		if strings.HasPrefix(last, p) && len(last) > len(p) && last[len(p)] >= 'A' && last[len(p)] <= 'Z' {
			return true
		}
	}
	return false
}

// LengthArg finds the argument that holds the length of the byte buffer
// args[i]: the nearest integer argument before it whose description (or,
// undocumented, source expression) has the word size, length, len or
// bytes, as in Bitcoin Core's "Message Size in bytes" before "Message
// Bytes" or msg.data.size() before msg.data.data(); else the nearest such
// argument after it; -1 when there is none.
//
// It is the one rule for this: the trace session, every generator and
// the checks of verify use it through [Arg.LenArg].
func LengthArg(args []Arg, i int) int {
	isLen := func(a *Arg) bool {
		if a.Type.Kind != docs.Int && a.Type.Kind != docs.Uint {
			return false
		}
		for _, w := range strings.FieldsFunc(strings.ToLower(a.Description), notAlnum) {
			switch w {
			case "size", "length", "len", "bytes":
				return true
			}
		}
		return false
	}
	for j := i - 1; j >= 0; j-- {
		if isLen(&args[j]) {
			return j
		}
	}
	for j := i + 1; j < len(args); j++ {
		if isLen(&args[j]) {
			return j
		}
	}
	return -1
}

func notAlnum(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}
