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
// Operands that name a symbol are returned with Loc.Symbol set and
// Loc.SymbolAddr zero: resolving them needs the file's symbol table, which
// [File] does. An empty string, or one that is only whitespace, has no
// arguments.
func ParseArgs(m goelf.Machine, s string) []Arg {
	fields := splitArgs(s)
	args := make([]Arg, len(fields))
	for i, f := range fields {
		args[i] = parseArg(m, i, f)
	}
	return args
}

// splitArgs splits at whitespace outside brackets: aarch64 operands such as
// "[x0, 8]" contain a space.
func splitArgs(s string) []string {
	var out []string
	depth, start := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if depth == 0 && start >= 0 {
				out = append(out, s[start:i])
				start = -1
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
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
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
		return fail("bad size prefix %q", spec[:at])
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
	if idx >= MaxArgs {
		a.Err = &ArgError{Index: idx, Spec: spec, Msg: fmt.Sprintf("argument %d is beyond the SDT limit of %d", idx+1, MaxArgs)}
	}
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
			return Location{}, fmt.Errorf("bad immediate %q", op)
		}
		return Location{Kind: LocConstant, Value: off, Symbol: sym, Absolute: sym != ""}, nil
	case op[0] == '%' && strings.Contains(op, ":"):
		return parseX86Segment(op, regs)
	case op[0] == '%':
		r, ok := regs[op]
		if !ok {
			return Location{}, fmt.Errorf("unknown register %s", op)
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
			return Location{}, fmt.Errorf("unrecognized operand %q", op)
		}
		// An absolute memory reference: "glob", "glob+4", "0x601040".
		return Location{Kind: LocMemory, Symbol: sym, Offset: off, Absolute: sym != ""}, nil
	}
	if !strings.HasSuffix(op, ")") {
		return Location{}, fmt.Errorf("unrecognized operand %q", op)
	}
	sym, off, ok := parseDisp(op[:open])
	if !ok {
		return Location{}, fmt.Errorf("bad displacement %q", op[:open])
	}
	parts := strings.Split(op[open+1:len(op)-1], ",")
	if len(parts) > 3 {
		return Location{}, fmt.Errorf("unrecognized operand %q", op)
	}
	loc := Location{Kind: LocMemory, Offset: off, Symbol: sym}
	addrReg := func(name, what string) (Register, error) {
		r, ok := regs[name]
		switch {
		case !ok:
			return r, fmt.Errorf("unknown %s register %q", what, name)
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
		return Location{}, fmt.Errorf("memory operand %q has no register", op)
	}
	if len(parts) == 3 {
		s, ok := parseNumber(parts[2])
		if !ok || (s != 1 && s != 2 && s != 4 && s != 8) {
			return Location{}, fmt.Errorf("scale %q is not 1, 2, 4 or 8", parts[2])
		}
		loc.Scale = int(s)
	}
	isIP := loc.Base.Canonical == "rip" || loc.Base.Canonical == "eip"
	switch {
	case isIP && !loc.Index.IsZero():
		return Location{}, fmt.Errorf("%s-relative operand %q cannot have an index", loc.Base.Name, op)
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
		return Location{}, fmt.Errorf("unsupported segment %q", op[:colon])
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
		return Location{}, fmt.Errorf("unsupported segment operand %q", op)
	}
	sym, off, ok := parseDisp(rest[:i] + rest[i+len(reloc):])
	if !ok || sym == "" {
		return Location{}, fmt.Errorf("unsupported segment operand %q", op)
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
		return Location{}, fmt.Errorf("unrecognized operand %q", op)
	}
	parts := strings.Split(op[1:len(op)-1], ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	base, ok := regsARM64()[parts[0]]
	if !ok || base.Vector || base.Size != 8 {
		return Location{}, fmt.Errorf("bad base register %q in %q", parts[0], op)
	}
	loc := Location{Kind: LocMemory, Base: base}
	if len(parts) == 1 {
		return loc, nil
	}
	second := strings.TrimPrefix(parts[1], "#")
	switch {
	case len(parts) > 3:
		return Location{}, fmt.Errorf("unrecognized operand %q", op)
	case strings.HasPrefix(second, ":lo12:"):
		sym, off, ok := parseDisp(second[len(":lo12:"):])
		if !ok || sym == "" || len(parts) != 2 {
			return Location{}, fmt.Errorf("bad :lo12: operand %q", op)
		}
		loc.Symbol, loc.Offset = sym, off
		return loc, nil
	}
	if n, ok := parseNumber(second); ok {
		if len(parts) != 2 {
			return Location{}, fmt.Errorf("unrecognized operand %q", op)
		}
		loc.Offset = n
		return loc, nil
	}
	idx, ok := regsARM64()[parts[1]]
	if !ok || idx.Vector || idx.Canonical == "sp" {
		return Location{}, fmt.Errorf("bad index register %q in %q", parts[1], op)
	}
	loc.Index, loc.Scale = idx, 1
	if len(parts) == 3 {
		// [xN, xM, lsl #k]
		shift, ok := strings.CutPrefix(parts[2], "lsl")
		k, okn := parseNumber(strings.TrimPrefix(strings.TrimSpace(shift), "#"))
		if !ok || !okn || k < 0 || k > 3 {
			return Location{}, fmt.Errorf("unsupported index extension %q in %q", parts[2], op)
		}
		loc.Scale = 1 << k
	}
	if idx.Size != 8 {
		return Location{}, fmt.Errorf("index register %s needs an extension (sxtw/uxtw), which is not supported", parts[1])
	}
	return loc, nil
}
