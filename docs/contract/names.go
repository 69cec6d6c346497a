package contract

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

var (
	// parenRe matches parenthesized remarks and footnote references.
	parenRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\([^)]*\)|\[[^\]]*\]`) })
	// exprIdentRe matches the identifiers of an expression.
	exprIdentRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`) })
)

// isNameStop reports whether w ends a name: what follows it qualifies
// what comes before.
func isNameStop(w string) bool {
	switch w {
	case "in", "to", "is", "are", "was", "as", "for", "from", "that", "which", "when", "where", "if", "before", "after", "including", "excluding", "by", "with", "on", "at", "since", "ie", "eg", "or":
		return true
	}
	return false
}

// isNameFiller reports whether w is a word a name leaves out.
func isNameFiller(w string) bool {
	switch w {
	case "the", "a", "an":
		return true
	}
	return false
}

// Reserved are the names an argument may not take as they are, because
// they clash in some generated program: C keywords and the macros clang
// predefines on Linux (linux, unix: both 1), Python keywords and the
// names the generated code uses itself (values, the test structures'
// method; the BPF integer types), and the keys --by takes besides argument
// names (pid, tid, comm, tracepoint). uniqueName adds a '_' to them.
var reserved = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`auto break case char const continue default do double else enum
		extern float for goto if inline int long register restrict return short signed sizeof static
		struct switch typedef union unsigned void volatile while bool asm typeof
		linux unix i386 __linux__ __unix__
		false none true and as assert async await class def del elif except finally from global
		import in is lambda nonlocal not or pass raise try with yield self
		values tracepoint ctx p e u8 u16 u32 u64 s8 s16 s32 s64
		pid tid comm`) {
		m[w] = true
	}
	return m
})

// maxNameWords bounds a name made from a description.
const maxNameWords = 4

// nameFromDescription makes an identifier from an argument's description:
// the words before the first remark, comma or qualifying word ("in",
// "to", ...), articles dropped, at most four, in lower snake case. "Peer
// address and port (IPv4, IPv6, Tor v3, ...)" gives peer_address_and_port,
// "Time it took to connect the Block in nanoseconds (ns)" time_it_took,
// and "Whether the coin is a coinbase output" is_coinbase_output. It is
// "" when the description gives no word.
func nameFromDescription(desc string) string {
	desc = parenRe().ReplaceAllString(desc, " ")
	if i := strings.IndexAny(desc, ",;:"); i >= 0 {
		desc = desc[:i]
	}
	var words []string
	for _, w := range strings.Fields(desc) {
		words = append(words, strings.ToLower(strings.Map(func(r rune) rune {
			if notAlnum(r) {
				return -1
			}
			return r
		}, w)))
	}
	if len(words) > 0 && words[0] == "whether" {
		for i, w := range words {
			if w == "is" || w == "was" || w == "are" {
				words = append([]string{"is"}, words[i+1:]...)
				break
			}
		}
	}
	var name []string
	for _, w := range words {
		if w == "" || isNameFiller(w) {
			continue
		}
		if isNameStop(w) && len(name) > 0 && !(len(name) == 1 && name[0] == "is") {
			break
		}
		name = append(name, w)
		if len(name) == maxNameWords {
			break
		}
	}
	s := strings.Join(name, "_")
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "n" + s
	}
	return s
}

// isAccessor reports whether w, the last identifier of an argument
// expression, says how a value is passed rather than what it is.
func isAccessor(w string) bool {
	switch w {
	case "c_str", "data", "get", "begin", "ToString", "GetHex", "ToUint256", "value", "count", "load", "str", "front", "static_cast", "reinterpret_cast", "const_cast", "std", "this":
		return true
	}
	return false
}

// isCastWord reports whether w is a type word that appears in casts.
func isCastWord(w string) bool {
	switch w {
	case "const", "char", "unsigned", "signed", "int", "long", "short", "void", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "int8_t", "int16_t", "int32_t", "int64_t", "size_t", "bool", "double", "float":
		return true
	}
	return false
}

// nameFromExpr makes an identifier from an argument expression in the
// source: its last identifier that is not an accessor or a cast, without
// a m_ or Get prefix, in snake case, after the identifier before it when
// it is as short as "id"; a size() or length() after it adds _size.
// peer.GetId() gives peer_id, pfrom->m_addr_name.c_str() addr_name,
// msg.data.size() data_size and (uint64_t)nTime time. It is "" when there
// is no such identifier.
func nameFromExpr(expr string) string {
	words := exprIdentRe().FindAllString(expr, -1)
	suffix := ""
	for len(words) > 0 {
		w := words[len(words)-1]
		switch {
		case w == "size" || w == "length" || w == "Size" || w == "GetSerializeSize":
			suffix = "_size"
		case !isAccessor(w) && !isCastWord(w):
			name := snake(w)
			if len(name) <= 2 && len(words) > 1 {
				name = snake(words[len(words)-2]) + "_" + name
			}
			return name + suffix
		}
		words = words[:len(words)-1]
	}
	return ""
}

// snake turns a C++ member or accessor name into snake case: m_addr_name
// gives addr_name, GetId id, nVersion version, fInbound inbound.
func snake(w string) string {
	w = strings.TrimPrefix(w, "m_")
	w = strings.TrimPrefix(w, "Get")
	if len(w) > 1 && (w[0] == 'n' || w[0] == 'f' || w[0] == 'p') && w[1] >= 'A' && w[1] <= 'Z' {
		w = w[1:]
	}
	var b strings.Builder
	for i, r := range w {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && w[i-1] != '_' && !(w[i-1] >= 'A' && w[i-1] <= 'Z') {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	name := strings.Trim(b.String(), "_")
	for _, suffix := range []string{"_as_string", "_to_string"} {
		name = strings.TrimSuffix(name, suffix)
	}
	return name
}

// uniqueName returns name, or "argN" when it is empty, made unique among
// names and kept clear of reserved words and of the argN names of other
// arguments; it records the result in names.
func uniqueName(name string, index int, names map[string]bool) string {
	if name == "" {
		name = "arg" + strconv.Itoa(index)
	} else if reserved()[name] || isArgN(name) && name != "arg"+strconv.Itoa(index) {
		name += "_"
	}
	if names[name] {
		name += "_" + strconv.Itoa(index)
	}
	for names[name] {
		name += "_"
	}
	names[name] = true
	return name
}

// isArgN reports whether name is argN, the positional name of --by keys.
func isArgN(name string) bool {
	n, ok := strings.CutPrefix(name, "arg")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}
