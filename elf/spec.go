package elf

import (
	goelf "debug/elf"
	"fmt"
	"strconv"
	"strings"
)

// ParseArgs decodes an SDT argument string ("-4@%eax 8@(%rbx) ...") for a
// target of machine m. One Arg is returned per operand; an operand that cannot
// be decoded gets an *ArgError in its Err and never moves the others.
//
// At most [MaxArgs] operands are decoded. When s has more, one last Arg, at
// index MaxArgs, stands for all those beyond: its Err says how many there
// are, and its Raw holds their text, cut after [MaxExtraText] bytes. An
// operand longer than any spec is an error too, with its text cut so.
//
// Operands that name a symbol are returned with Loc.Symbol set and
// Loc.SymbolAddr zero: resolving them needs the file's symbol table, which
// [File] does. An empty string, or one that is only whitespace, has no
// arguments.
func ParseArgs(m goelf.Machine, s string) []Arg {
	_, args, _ := parseArgs(m, s)
	return args
}

// MaxExtraText is how much is kept of the text of the operands beyond
// [MaxArgs], and of an operand too long to be a spec: in
// [CallSite.ArgsRaw] and in the Arg that stands for them.
const MaxExtraText = 64

// maxOperand is the longest operand decoded: a spec with the longest
// symbol name this package looks up, and room for the rest.
const maxOperand = maxSymbolName + 64

// parseArgs decodes the argument string s of a note and returns the text to
// keep of it, the Args and the number of operands in s. The text is s
// itself unless s has more than MaxArgs operands or one longer than
// maxOperand: then it is the operands kept, each cut to MaxExtraText bytes
// and "..." when too long, joined by spaces, followed by the start of
// those beyond the limit. The Args share the text's memory and never that
// of s, so a long s is not kept alive by them.
func parseArgs[T ~string | ~[]byte](m goelf.Machine, s T) (text string, args []Arg, count int) {
	// The operands kept, and as the last one all those beyond MaxArgs.
	var spans [MaxArgs + 1]struct{ start, end int }
	n, long := 0, false
	for i := 0; ; n++ {
		start, end := nextOperand(s, i)
		if start < 0 {
			break
		}
		switch {
		case n < MaxArgs:
			spans[n].start, spans[n].end = start, end
			long = long || end-start > maxOperand
		case n == MaxArgs:
			spans[n].start, spans[n].end = start, len(trimSpaceRight(s))
		}
		i = end
	}
	kept := min(n, MaxArgs+1)
	var cut [MaxArgs + 1]bool
	if n <= MaxArgs && !long {
		text = string(s)
	} else {
		var b strings.Builder
		for k := range kept {
			op := s[spans[k].start:spans[k].end]
			if k > 0 {
				b.WriteByte(' ')
			}
			start := b.Len()
			if cut[k] = len(op) > maxOperand || (k == MaxArgs && len(op) > MaxExtraText); cut[k] {
				b.WriteString(string(op[:MaxExtraText]))
				b.WriteString("...")
			} else {
				b.WriteString(string(op))
			}
			spans[k].start, spans[k].end = start, b.Len()
		}
		text = b.String()
	}
	args = make([]Arg, kept)
	for k := range args {
		raw := text[spans[k].start:spans[k].end]
		switch {
		case k == MaxArgs:
			last := "the last one is"
			if n-MaxArgs > 1 {
				last = fmt.Sprintf("the last %d are", n-MaxArgs)
			}
			args[k] = Arg{Index: k, Raw: raw, Err: &ArgError{Index: k, Spec: raw,
				Msg: fmt.Sprintf("%d operands, and an SDT probe has at most %d arguments: %s not decoded", n, MaxArgs, last)}}
		case cut[k]:
			args[k] = Arg{Index: k, Raw: raw, Err: &ArgError{Index: k, Spec: raw,
				Msg: fmt.Sprintf("an operand of more than %d bytes is no argument spec", maxOperand)}}
		default:
			args[k] = parseArg(m, k, raw)
		}
	}
	return text, args, n
}

// countArgs returns how many Args parseArgs makes of s: its operands, up to
// MaxArgs+1.
func countArgs(s []byte) int {
	n := 0
	for i := 0; n <= MaxArgs; n++ {
		start, end := nextOperand(s, i)
		if start < 0 {
			break
		}
		i = end
	}
	return n
}

// nextOperand returns where the first operand at or after from starts and
// ends, or -1, -1 when there is none. Operands are separated by whitespace
// outside brackets: aarch64 operands such as "[x0, 8]" contain a space.
func nextOperand[T ~string | ~[]byte](s T, from int) (start, end int) {
	depth := 0
	start = -1
	for i := from; i < len(s); i++ {
		c := s[i]
		switch {
		case isSpace(c):
			if depth == 0 && start >= 0 {
				return start, i
			}
			continue
		case c == '[' || c == '(':
			depth++
		case (c == ']' || c == ')') && depth > 0:
			depth--
		}
		if start < 0 {
			start = i
		}
	}
	if start < 0 {
		return -1, -1
	}
	return start, len(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimSpaceRight[T ~string | ~[]byte](s T) T {
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func parseArg(m goelf.Machine, idx int, spec string) Arg {
	a := Arg{Index: idx, Raw: spec}
	fail := func(format string, v ...any) Arg {
		a.Loc = Location{}
		a.Err = &ArgError{Index: idx, Spec: spec, Msg: fmt.Sprintf(format, v...)}
		return a
	}
	at := strings.IndexByte(spec, '@')
	if at < 0 {
		return fail("no size prefix (want [-]SIZE[f]@OPERAND)")
	}
	prefix, op := spec[:at], spec[at+1:]
	signed := strings.HasPrefix(prefix, "-")
	prefix = strings.TrimPrefix(prefix, "-")
	float := strings.HasSuffix(prefix, "f")
	prefix = strings.TrimSuffix(prefix, "f")
	if prefix == "" || strings.Trim(prefix, "0123456789") != "" || len(prefix) > 3 {
		return fail("bad size prefix %s", quote(spec[:at]))
	}
	size, _ := strconv.Atoi(prefix)
	switch {
	case size != 1 && size != 2 && size != 4 && size != 8:
		return fail("size %d is not 1, 2, 4 or 8", size)
	case float && size != 4 && size != 8:
		return fail("float size %d is not 4 or 8", size)
	}
	a.Size, a.Signed, a.Float = size, signed, float
	if op == "" {
		return fail("empty operand")
	}
	var (
		loc Location
		err error
	)
	switch m {
	case goelf.EM_X86_64:
		loc, err = parseX86(op, regsX8664(), true)
	case goelf.EM_386:
		loc, err = parseX86(op, regsI386(), false)
	case goelf.EM_AARCH64:
		loc, err = parseARM64(op)
	default:
		err = unsupportedMachine(m)
	}
	if err != nil {
		return fail("%v", err)
	}
	a.Loc = loc
	return a
}

// parseNumber parses a gas integer: decimal, 0x hex, 0 octal, 0b binary,
// with an optional sign. Values up to 2^64-1 wrap into int64.
func parseNumber(s string) (int64, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" || strings.ContainsAny(s, "_+-") {
		return 0, false
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

func isSymbolStart(c byte) bool {
	return c == '_' || c == '.' || c == '$' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func isSymbol(s string) bool {
	if s == "" || !isSymbolStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isSymbolStart(c) && (c < '0' || c > '9') && c != '@' {
			return false
		}
	}
	return true
}

// parseDisp parses a displacement: "", "16", "-8", "sym", "sym+8", "sym-8",
// "8+sym".
func parseDisp(s string) (sym string, off int64, ok bool) {
	if s == "" {
		return "", 0, true
	}
	if n, ok := parseNumber(s); ok {
		return "", n, true
	}
	if isSymbol(s) {
		return s, 0, true
	}
	// sym+N, sym-N: the first sign after the symbol's first character.
	for i := 1; i < len(s); i++ {
		if s[i] != '+' && s[i] != '-' {
			continue
		}
		l, r := s[:i], s[i:]
		if isSymbol(l) {
			if n, ok := parseNumber(r); ok {
				return l, n, true
			}
		}
		if s[i] == '+' {
			if n, ok := parseNumber(l); ok && isSymbol(r[1:]) {
				return r[1:], n, true
			}
		}
	}
	return "", 0, false
}

func parseX86(op string, regs map[string]Register, wide bool) (Location, error) {
	switch {
	case op[0] == '$':
		sym, off, ok := parseDisp(op[1:])
		if !ok || op == "$" {
			return Location{}, fmt.Errorf("bad immediate %s", quote(op))
		}
		return Location{Kind: LocConstant, Value: off, Symbol: sym, Absolute: sym != ""}, nil
	case op[0] == '%' && strings.Contains(op, ":"):
		return parseX86Segment(op, regs)
	case op[0] == '%':
		r, ok := regs[op]
		if !ok {
			return Location{}, fmt.Errorf("unknown register %s", quote(op))
		}
		if r.Canonical == "rip" || r.Canonical == "eip" || isSegment(r) {
			return Location{}, fmt.Errorf("register %s does not hold a value", op)
		}
		return Location{Kind: LocRegister, Reg: r}, nil
	}
	open := strings.IndexByte(op, '(')
	if open < 0 {
		sym, off, ok := parseDisp(op)
		if !ok {
			return Location{}, fmt.Errorf("unrecognized operand %s", quote(op))
		}
		// An absolute memory reference: "glob", "glob+4", "0x601040".
		return Location{Kind: LocMemory, Symbol: sym, Offset: off, Absolute: sym != ""}, nil
	}
	if !strings.HasSuffix(op, ")") {
		return Location{}, fmt.Errorf("unrecognized operand %s", quote(op))
	}
	sym, off, ok := parseDisp(op[:open])
	if !ok {
		return Location{}, fmt.Errorf("bad displacement %s", quote(op[:open]))
	}
	parts := strings.Split(op[open+1:len(op)-1], ",")
	if len(parts) > 3 {
		return Location{}, fmt.Errorf("unrecognized operand %s", quote(op))
	}
	loc := Location{Kind: LocMemory, Offset: off, Symbol: sym}
	addrReg := func(name, what string) (Register, error) {
		r, ok := regs[name]
		switch {
		case !ok:
			return r, fmt.Errorf("unknown %s register %s", what, quote(name))
		case r.Vector || isSegment(r) || r.Size < 4:
			return r, fmt.Errorf("%s cannot be a %s register", name, what)
		}
		return r, nil
	}
	if parts[0] != "" {
		r, err := addrReg(parts[0], "base")
		if err != nil {
			return Location{}, err
		}
		loc.Base = r
	}
	if len(parts) >= 2 {
		r, err := addrReg(parts[1], "index")
		if err != nil {
			return Location{}, err
		}
		if r.Canonical == "rsp" || r.Canonical == "esp" || r.Canonical == "rip" || r.Canonical == "eip" {
			return Location{}, fmt.Errorf("%s cannot be an index register", parts[1])
		}
		loc.Index, loc.Scale = r, 1
	} else if parts[0] == "" {
		return Location{}, fmt.Errorf("memory operand %s has no register", quote(op))
	}
	if len(parts) == 3 {
		s, ok := parseNumber(parts[2])
		if !ok || (s != 1 && s != 2 && s != 4 && s != 8) {
			return Location{}, fmt.Errorf("scale %s is not 1, 2, 4 or 8", quote(parts[2]))
		}
		loc.Scale = int(s)
	}
	isIP := loc.Base.Canonical == "rip" || loc.Base.Canonical == "eip"
	switch {
	case isIP && !loc.Index.IsZero():
		return Location{}, fmt.Errorf("%s-relative operand %s cannot have an index", loc.Base.Name, quote(op))
	case isIP && sym != "":
		// sym+off(%rip) is the address sym+off: the assembler encodes the
		// displacement from the next instruction, which a nop does not have.
		loc.Base, loc.Absolute = Register{}, true
	case sym != "":
		// glob(,%rax,8), glob(%rbx): a symbol plus registers (non-PIC code).
		loc.Absolute = true
	}
	return loc, nil
}

func isSegment(r Register) bool {
	switch r.Canonical {
	case "fs", "gs", "es", "ds", "cs", "ss":
		return true
	}
	return false
}

// parseX86Segment parses segment-relative operands: TLS "%fs:sym@tpoff",
// "%fs:sym@tpoff+8" (x86-64), "%gs:sym@ntpoff" (i386) and thread-pointer
// offsets "%fs:16".
func parseX86Segment(op string, regs map[string]Register) (Location, error) {
	colon := strings.IndexByte(op, ':')
	seg, ok := regs[op[:colon]]
	if !ok || (seg.Canonical != "fs" && seg.Canonical != "gs") {
		return Location{}, fmt.Errorf("unsupported segment %s", quote(op[:colon]))
	}
	rest := op[colon+1:]
	if n, ok := parseNumber(rest); ok {
		return Location{Kind: LocTLS, Reg: seg, Offset: n}, nil
	}
	reloc := "@tpoff"
	i := strings.Index(rest, reloc)
	if i < 0 {
		reloc = "@ntpoff"
		i = strings.Index(rest, reloc)
	}
	if i <= 0 {
		return Location{}, fmt.Errorf("unsupported segment operand %s", quote(op))
	}
	sym, off, ok := parseDisp(rest[:i] + rest[i+len(reloc):])
	if !ok || sym == "" {
		return Location{}, fmt.Errorf("unsupported segment operand %s", quote(op))
	}
	return Location{Kind: LocTLS, Reg: seg, Symbol: sym, Offset: off}, nil
}

func parseARM64(op string) (Location, error) {
	if r, ok := regsARM64()[op]; ok {
		return Location{Kind: LocRegister, Reg: r}, nil
	}
	if op == "xzr" || op == "wzr" {
		return Location{Kind: LocConstant}, nil
	}
	if n, ok := parseNumber(strings.TrimPrefix(op, "#")); ok {
		return Location{Kind: LocConstant, Value: n}, nil
	}
	if op[0] != '[' || !strings.HasSuffix(op, "]") {
		return Location{}, fmt.Errorf("unrecognized operand %s", quote(op))
	}
	parts := strings.Split(op[1:len(op)-1], ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	base, ok := regsARM64()[parts[0]]
	if !ok || base.Vector || base.Size != 8 {
		return Location{}, fmt.Errorf("bad base register %s in %s", quote(parts[0]), quote(op))
	}
	loc := Location{Kind: LocMemory, Base: base}
	if len(parts) == 1 {
		return loc, nil
	}
	second := strings.TrimPrefix(parts[1], "#")
	switch {
	case len(parts) > 3:
		return Location{}, fmt.Errorf("unrecognized operand %s", quote(op))
	case strings.HasPrefix(second, ":lo12:"):
		sym, off, ok := parseDisp(second[len(":lo12:"):])
		if !ok || sym == "" || len(parts) != 2 {
			return Location{}, fmt.Errorf("bad :lo12: operand %s", quote(op))
		}
		loc.Symbol, loc.Offset = sym, off
		return loc, nil
	}
	if n, ok := parseNumber(second); ok {
		if len(parts) != 2 {
			return Location{}, fmt.Errorf("unrecognized operand %s", quote(op))
		}
		loc.Offset = n
		return loc, nil
	}
	idx, ok := regsARM64()[parts[1]]
	if !ok || idx.Vector || idx.Canonical == "sp" {
		return Location{}, fmt.Errorf("bad index register %s in %s", quote(parts[1]), quote(op))
	}
	loc.Index, loc.Scale = idx, 1
	if len(parts) == 3 {
		// [xN, xM, lsl #k]
		shift, ok := strings.CutPrefix(parts[2], "lsl")
		k, okn := parseNumber(strings.TrimPrefix(strings.TrimSpace(shift), "#"))
		if !ok || !okn || k < 0 || k > 3 {
			return Location{}, fmt.Errorf("unsupported index extension %s in %s", quote(parts[2]), quote(op))
		}
		loc.Scale = 1 << k
	}
	if idx.Size != 8 {
		return Location{}, fmt.Errorf("index register %s needs an extension (sxtw/uxtw), which is not supported", parts[1])
	}
	return loc, nil
}
