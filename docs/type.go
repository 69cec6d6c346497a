package docs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Kind is the class of a documented argument type.
type Kind uint8

const (
	Invalid Kind = iota // the type phrase could not be mapped; see Arg.Err
	Int                 // signed integer
	Uint                // unsigned integer
	Bool                // bool, one byte
	Float               // float or double
	CString             // pointer to a NUL-terminated C string
	Bytes               // pointer to unsigned chars (raw bytes)
	Pointer             // any other pointer, opaque
)

var kindNames = [...]string{
	Invalid: "invalid",
	Int:     "int",
	Uint:    "uint",
	Bool:    "bool",
	Float:   "float",
	CString: "string",
	Bytes:   "bytes",
	Pointer: "pointer",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText gives the kind's name, the form used in JSON output.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Type is the type of one documented argument.
//
// The zero Type is Invalid. Types are comparable with ==.
type Type struct {
	Kind Kind
	// Size is the width in bytes of an Int, Uint or Float: 1, 2, 4 or 8.
	// It is 0 for the word-sized integers (long, size_t), whose width
	// is the target's pointer size.
	//
	// For Bytes it is the length of the data pointed to when the doc
	// states one ("32 bytes"), else 0: the length then usually comes from
	// another argument, which the doc says in words only.
	Size int
	// MaxLen is the documented maximum length in characters of a CString
	// ("max. length 20 characters"), 0 when the doc gives none. Hedged
	// wording such as "normally up to 68 characters" is not a maximum.
	MaxLen int
	// Pointee names what an opaque Pointer points to, as written in a C
	// spelling such as "CBlockIndex*"; empty for "pointer" and "void*".
	Pointee string
}

// Phrase is the canonical type phrase, as it is written between backticks
// in an argument list: "int64", "pointer to C-style String",
// "pointer to unsigned chars". It is "" for an Invalid type.
func (t Type) Phrase() string {
	switch t.Kind {
	case Int, Uint:
		if t.Size == 0 {
			if t.Kind == Int {
				return "long"
			}
			return "unsigned long"
		}
		return fmt.Sprintf("%s%d", t.Kind, t.Size*8)
	case Bool:
		return "bool"
	case Float:
		return fmt.Sprintf("float%d", t.Size*8)
	case CString:
		return "pointer to C-style String"
	case Bytes:
		return "pointer to unsigned chars"
	case Pointer:
		if t.Pointee == "" {
			return "pointer"
		}
		return t.Pointee + "*"
	}
	return ""
}

// detail is what the doc says about a type besides its phrase, in the
// words the writer uses: "max. length 20 characters", "32 bytes".
func (t Type) detail() string {
	switch {
	case t.Kind == CString && t.MaxLen > 0:
		return fmt.Sprintf("max. length %d characters", t.MaxLen)
	case t.Kind == Bytes && t.Size > 0:
		return fmt.Sprintf("%d bytes", t.Size)
	}
	return ""
}

// String is the canonical phrase followed by the documented length, if
// any: "int64", "pointer to C-style String (max. length 20 characters)",
// "pointer to unsigned chars (32 bytes)". An Invalid type is "invalid".
func (t Type) String() string {
	if t.Kind == Invalid {
		return "invalid"
	}
	if d := t.detail(); d != "" {
		return t.Phrase() + " (" + d + ")"
	}
	return t.Phrase()
}

// Spec is the size and class of a USDT argument spec ("[-]SIZE[f]@...")
// as sys/sdt.h writes it for a value of some C type.
type Spec struct {
	Size   int  // 1, 2, 4 or 8 bytes
	Signed bool // the spec has a '-' prefix
	Float  bool // the spec has an 'f' after the size
}

// String is the spec's prefix up to and including '@': "-8@", "4@", "8f@".
func (s Spec) String() string {
	var b strings.Builder
	if s.Signed {
		b.WriteByte('-')
	}
	b.WriteString(strconv.Itoa(s.Size))
	if s.Float {
		b.WriteByte('f')
	}
	b.WriteByte('@')
	return b.String()
}

// Spec gives the argument spec sys/sdt.h emits for a value of this type on
// a target whose pointers are ptrSize bytes (8 on x86-64 and aarch64, 4 on
// i386): signed integers are "-N@", unsigned integers and bool "N@",
// floating point "Nf@" (sdt.h never marks them signed in C++), and every
// pointer, strings and bytes included, is an unsigned pointer-sized value.
// ok is false for an Invalid type.
func (t Type) Spec(ptrSize int) (s Spec, ok bool) {
	switch t.Kind {
	case Int, Uint:
		s.Size = t.Size
		if s.Size == 0 {
			s.Size = ptrSize
		}
		s.Signed = t.Kind == Int
	case Bool:
		s.Size = 1
	case Float:
		s.Size, s.Float = t.Size, true
	case CString, Bytes, Pointer:
		s.Size = ptrSize
	default:
		return Spec{}, false
	}
	return s, true
}

// maxDocLen bounds the lengths and sizes read out of the prose; a larger
// number is reported rather than believed.
const maxDocLen = 1 << 24

// The regular expressions and the table of scalar spellings are built on
// first use: a command that reads no tracing doc never builds them.
var (
	// "max. length 20 characters", "maximum length of 20 chars",
	// "max length 20", "at most 20 characters", "(64 characters)".
	maxLenRes = sync.OnceValue(func() []*regexp.Regexp {
		return []*regexp.Regexp{
			regexp.MustCompile(`(?i)\bmax(?:\.|imum)?\s+length\s+(?:of\s+|is\s+)?(\d+)`),
			regexp.MustCompile(`(?i)\bat\s+most\s+(\d+)\s+(?:characters|chars|bytes)\b`),
			regexp.MustCompile(`(?i)\(\s*(\d+)\s+(?:characters|chars)\s*\)`),
		}
	})
	// "i.e. 32 bytes in little-endian", "32-byte hash".
	byteLenRes = sync.OnceValue(func() []*regexp.Regexp {
		return []*regexp.Regexp{regexp.MustCompile(`(?i)\b(\d+)[- ]bytes?\b`)}
	})
	// "pointer to 32 bytes", "pointer to 32 unsigned chars".
	fixedPtrRe = lazyRegexp(`^pointer to (\d+) (?:bytes|unsigned chars?)$`)
	cIdentRe   = lazyRegexp(`^[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*$`)

	// scalarTypes maps normalized (lower case, single-spaced) phrases of
	// scalars to their type.
	scalarTypes = sync.OnceValue(scalarTable)
)

// lazyRegexp returns a function that compiles pattern on its first call and
// returns the same *regexp.Regexp on every call.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

func scalarTable() map[string]Type {
	m := make(map[string]Type, 80)
	add := func(t Type, names ...string) {
		for _, n := range names {
			m[n] = t
		}
	}
	add(Type{Kind: Int, Size: 1}, "int8", "int8_t", "signed char", "i8")
	add(Type{Kind: Int, Size: 2}, "int16", "int16_t", "short", "short int", "signed short", "signed short int", "i16")
	add(Type{Kind: Int, Size: 4}, "int32", "int32_t", "int", "signed", "signed int", "i32")
	add(Type{Kind: Int, Size: 8}, "int64", "int64_t", "long long", "long long int", "signed long long", "signed long long int", "i64")
	add(Type{Kind: Int}, "long", "long int", "signed long", "signed long int", "ssize_t", "intptr_t", "ptrdiff_t")
	add(Type{Kind: Uint, Size: 1}, "uint8", "uint8_t", "unsigned char", "u8")
	add(Type{Kind: Uint, Size: 2}, "uint16", "uint16_t", "unsigned short", "unsigned short int", "u16")
	add(Type{Kind: Uint, Size: 4}, "uint32", "uint32_t", "unsigned", "unsigned int", "u32")
	add(Type{Kind: Uint, Size: 8}, "uint64", "uint64_t", "unsigned long long", "unsigned long long int", "u64")
	add(Type{Kind: Uint}, "unsigned long", "unsigned long int", "size_t", "uintptr_t")
	add(Type{Kind: Bool}, "bool", "_bool", "boolean")
	add(Type{Kind: Float, Size: 4}, "float", "float32")
	add(Type{Kind: Float, Size: 8}, "double", "float64")
	add(Type{Kind: CString}, "pointer to c-style string", "pointer to c-style strings", "pointer to c string",
		"pointer to a c-style string", "c-style string", "c string")
	add(Type{Kind: Bytes}, "pointer to unsigned chars", "pointer to unsigned char", "pointer to bytes",
		"pointer to uint8", "pointer to uint8_t")
	add(Type{Kind: Pointer}, "pointer", "opaque pointer", "void pointer")
	return m
}

// normalizePhrase collapses white space and glues '*' to what it follows:
// "const  char *" becomes "const char*".
func normalizePhrase(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, " *", "*")
	s = strings.ReplaceAll(s, "* ", "*")
	return s
}

// ParseType maps a type phrase, as written between backticks, to a Type.
// Spellings from Bitcoin Core's docs ("int64", "pointer to C-style String",
// "pointer to unsigned chars"), C spellings ("unsigned int", "uint64_t",
// "size_t", "const char*", "unsigned char*", "CBlockIndex*") and
// "pointer to 32 bytes" are understood, in any letter case.
//
// The lengths the prose around a phrase gives are not seen here; Parse
// adds them from the argument's remark and description.
func ParseType(phrase string) (Type, error) {
	norm := normalizePhrase(phrase)
	lower := strings.ToLower(norm)
	if t, ok := scalarTypes()[lower]; ok {
		return t, nil
	}
	if m := fixedPtrRe().FindStringSubmatch(lower); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n <= 0 || n > maxDocLen {
			return Type{}, fmt.Errorf("type %q: length %s out of range", phrase, m[1])
		}
		return Type{Kind: Bytes, Size: n}, nil
	}
	if strings.HasSuffix(norm, "*") {
		return parseCPointer(phrase, norm)
	}
	switch lower {
	case "":
		return Type{}, fmt.Errorf("empty type")
	case "char":
		return Type{}, fmt.Errorf("type %q: signedness of char depends on the target; write int8 or uint8", phrase)
	}
	return Type{}, fmt.Errorf("unknown type %q; write one of int8…int64, uint8…uint64, bool, "+
		"float32, float64, pointer to C-style String, pointer to unsigned chars or a C spelling such as const char*", phrase)
}

// parseCPointer maps C pointer spellings: "const char*", "unsigned char*",
// "void*", "const CBlockIndex*", "char**".
func parseCPointer(phrase, norm string) (Type, error) {
	base := strings.TrimSuffix(norm, "*")
	if strings.HasSuffix(base, "*") { // char**, T**: a pointer to pointers
		return Type{Kind: Pointer}, nil
	}
	var words []string
	for _, w := range strings.Fields(base) {
		switch strings.ToLower(w) {
		case "const", "volatile", "struct", "class":
			continue
		}
		words = append(words, w)
	}
	name := strings.Join(words, " ")
	switch strings.ToLower(name) {
	case "char":
		return Type{Kind: CString}, nil
	case "unsigned char", "uint8_t", "std::byte", "byte", "uint8", "signed char", "int8_t":
		return Type{Kind: Bytes}, nil
	case "void", "":
		return Type{Kind: Pointer}, nil
	}
	if cIdentRe().MatchString(name) {
		return Type{Kind: Pointer, Pointee: name}, nil
	}
	return Type{}, fmt.Errorf("unknown pointer type %q", phrase)
}

// lengthFrom reads the documented length that belongs to t from the
// remark after the phrase or, failing that, the description before it.
func lengthFrom(t Type, texts ...string) (Type, error) {
	var res []*regexp.Regexp
	switch {
	case t.Kind == CString && t.MaxLen == 0:
		res = maxLenRes()
	case t.Kind == Bytes && t.Size == 0:
		res = byteLenRes()
	default:
		return t, nil
	}
	for _, s := range texts {
		for _, re := range res {
			m := re.FindStringSubmatch(s)
			if m == nil {
				continue
			}
			n, err := strconv.Atoi(m[1])
			if err != nil || n <= 0 || n > maxDocLen {
				return t, fmt.Errorf("length %s in %q out of range", m[1], m[0])
			}
			if t.Kind == CString {
				t.MaxLen = n
			} else {
				t.Size = n
			}
			return t, nil
		}
	}
	return t, nil
}
