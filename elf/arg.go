package elf

import (
	"fmt"
	"strconv"
	"strings"
)

// LocKind says where an argument's value is.
type LocKind uint8

const (
	LocInvalid  LocKind = iota // the spec could not be decoded; see Arg.Err
	LocRegister                // in a register
	LocMemory                  // in memory at an address computed from registers, a displacement and a symbol
	LocConstant                // a constant encoded in the spec
	LocTLS                     // in thread-local storage (%fs:sym@tpoff)
)

func (k LocKind) String() string {
	switch k {
	case LocRegister:
		return "register"
	case LocMemory:
		return "memory"
	case LocConstant:
		return "constant"
	case LocTLS:
		return "tls"
	}
	return "invalid"
}

// Register is a register as named in an argument spec.
type Register struct {
	// Name is the register as written: "%eax", "%ah", "w3".
	Name string
	// Canonical is the full-width register Name is part of: "rax" for
	// %eax and %ah on x86-64, "x3" for w3 on aarch64, "v0" for d0.
	Canonical string
	// Size is the width in bytes of the named register.
	Size int
	// Shift is the bit position of the named part in Canonical (8 for %ah).
	Shift int
	// Vector is set for SIMD and floating-point registers (%xmmN, vN), which
	// are not part of the general-purpose register set a uprobe sees.
	Vector bool
}

// IsZero reports whether no register is named.
func (r Register) IsZero() bool { return r.Name == "" }

// Location is where an argument's value is, decoded from its operand.
//
// For LocMemory the address is
//
//	Base + Index*Scale + Offset (+ SymbolAddr + load bias, when Absolute)
//
// and for LocConstant the value is Value (+ SymbolAddr + load bias, when
// Absolute: the operand is the address of a symbol).
type Location struct {
	Kind LocKind

	Reg Register // LocRegister: the register; LocTLS: the segment register

	Base  Register // LocMemory: base register, may be empty
	Index Register // LocMemory: index register, may be empty
	Scale int      // LocMemory: 1, 2, 4 or 8 when Index is set

	// Offset is the displacement of a memory operand. For aarch64
	// "#:lo12:sym" it is the low 12 bits of the symbol's address, already
	// resolved. For LocTLS it is added to the symbol's thread-pointer offset.
	Offset int64

	// Symbol is the symbol the operand names ("glob" in "glob(%rip)",
	// "sym" in "[x0, #:lo12:sym]", "tls" in "%fs:tls@tpoff"), or "".
	Symbol string
	// SymbolAddr is Symbol's value from the symbol table.
	SymbolAddr uint64
	// Absolute is set when the address (LocMemory) or the value
	// (LocConstant) includes SymbolAddr, a link-time address to which the
	// load bias of a PIE or shared library must be added at run time.
	Absolute bool

	Value int64 // LocConstant
}

// Arg is one decoded argument spec: "[-]SIZE[f]@OPERAND".
type Arg struct {
	Index  int    // 0-based position in the note
	Raw    string // the spec's text, e.g. "-8@%rbx"
	Size   int    // 1, 2, 4 or 8 bytes, from the prefix only
	Signed bool   // the prefix had a '-'
	Float  bool   // the prefix had an 'f' (SystemTap's float class)
	Loc    Location
	// Err is an *ArgError when the spec could not be decoded. Size,
	// Signed and Float are still set when the prefix itself was valid.
	Err error
}

// Type names the C type the spec describes: "int64", "uint8", "float64".
// It is "unknown" when the size is not known.
func (a *Arg) Type() string {
	switch {
	case a.Size == 0:
		return "unknown"
	case a.Float:
		return fmt.Sprintf("float%d", a.Size*8)
	case a.Signed:
		return fmt.Sprintf("int%d", a.Size*8)
	}
	return fmt.Sprintf("uint%d", a.Size*8)
}

// Operand returns the operand after the size prefix, as written.
func (a *Arg) Operand() string {
	if i := strings.IndexByte(a.Raw, '@'); i >= 0 {
		return a.Raw[i+1:]
	}
	return a.Raw
}

// String describes the argument for people: "int64 %r12",
// "uint64 *(%rsp+192)", "int32 $-9".
func (a *Arg) String() string {
	if a.Err != nil {
		return "? " + a.Raw
	}
	return a.Type() + " " + a.Loc.String()
}

// String describes the location: "%r12", "*(%rsp+192)", "*(glob+8)",
// "*(x0+#:lo12:sym)", "$-9".
func (l Location) String() string {
	switch l.Kind {
	case LocRegister:
		return regName(l.Reg)
	case LocConstant:
		if l.Symbol != "" {
			return "$" + symPlus(l.Symbol, l.Value)
		}
		return "$" + strconv.FormatInt(l.Value, 10)
	case LocTLS:
		if l.Symbol == "" {
			return "*(" + regName(l.Reg) + ":" + strconv.FormatInt(l.Offset, 10) + ")"
		}
		return "*(" + regName(l.Reg) + ":" + symPlus(l.Symbol, l.Offset) + "@tpoff)"
	case LocMemory:
		var b strings.Builder
		b.WriteString("*(")
		n := 0
		term := func(s string) {
			if n > 0 && !strings.HasPrefix(s, "-") {
				b.WriteByte('+')
			}
			b.WriteString(s)
			n++
		}
		if !l.Base.IsZero() {
			term(regName(l.Base))
		}
		if !l.Index.IsZero() {
			s := regName(l.Index)
			if l.Scale > 1 {
				s += "*" + strconv.Itoa(l.Scale)
			}
			term(s)
		}
		switch {
		case l.Symbol != "" && l.Absolute:
			term(symPlus(l.Symbol, l.Offset))
		case l.Symbol != "":
			term("#:lo12:" + l.Symbol)
		case l.Offset != 0 || n == 0:
			term(strconv.FormatInt(l.Offset, 10))
		}
		b.WriteByte(')')
		return b.String()
	}
	return "?"
}

func symPlus(sym string, off int64) string {
	switch {
	case off > 0:
		return sym + "+" + strconv.FormatInt(off, 10)
	case off < 0:
		return sym + strconv.FormatInt(off, 10)
	}
	return sym
}

func regName(r Register) string { return r.Name }
