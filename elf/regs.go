package elf

import (
	goelf "debug/elf"
	"fmt"
	"strconv"
	"sync"
)

// x86Regs maps an AT&T register name (with '%') to its register, for x86-64
// (wide) or i386 (!wide).
func x86Regs(wide bool) map[string]Register {
	m := make(map[string]Register, 128)
	add := func(name, canon string, size, shift int) {
		m["%"+name] = Register{Name: "%" + name, Canonical: canon, Size: size, Shift: shift}
	}
	// The legacy registers: 64/32/16/8-bit low, and 8-bit high.
	for _, r := range []struct{ q, d, w, b, h string }{
		{"rax", "eax", "ax", "al", "ah"},
		{"rbx", "ebx", "bx", "bl", "bh"},
		{"rcx", "ecx", "cx", "cl", "ch"},
		{"rdx", "edx", "dx", "dl", "dh"},
		{"rsi", "esi", "si", "sil", ""},
		{"rdi", "edi", "di", "dil", ""},
		{"rbp", "ebp", "bp", "bpl", ""},
		{"rsp", "esp", "sp", "spl", ""},
	} {
		canon := r.q
		if !wide {
			canon = r.d
		} else {
			add(r.q, canon, 8, 0)
		}
		add(r.d, canon, 4, 0)
		add(r.w, canon, 2, 0)
		if r.h != "" {
			add(r.b, canon, 1, 0)
			add(r.h, canon, 1, 8)
		} else if wide {
			// %sil, %dil, %bpl, %spl need a REX prefix: x86-64 only.
			add(r.b, canon, 1, 0)
		}
	}
	if wide {
		for i := 8; i <= 15; i++ {
			q := "r" + strconv.Itoa(i)
			add(q, q, 8, 0)
			add(q+"d", q, 4, 0)
			add(q+"w", q, 2, 0)
			add(q+"b", q, 1, 0)
			add(q+"l", q, 1, 0) // Intel's spelling of the low byte, accepted by gas
		}
		add("rip", "rip", 8, 0)
		add("eip", "rip", 4, 0)
	} else {
		add("eip", "eip", 4, 0)
	}
	nx := 8
	if wide {
		nx = 32
	}
	for i := 0; i < nx; i++ {
		n := strconv.Itoa(i)
		m["%xmm"+n] = Register{Name: "%xmm" + n, Canonical: "xmm" + n, Size: 16, Vector: true}
		m["%ymm"+n] = Register{Name: "%ymm" + n, Canonical: "xmm" + n, Size: 32, Vector: true}
	}
	for _, s := range []string{"fs", "gs", "es", "ds", "cs", "ss"} {
		m["%"+s] = Register{Name: "%" + s, Canonical: s, Size: 2}
	}
	return m
}

// The register tables, built on first use: a run that reads only x86-64
// files never builds the others.
var (
	regsX8664 = sync.OnceValue(func() map[string]Register { return x86Regs(true) })
	regsI386  = sync.OnceValue(func() map[string]Register { return x86Regs(false) })
	regsARM64 = sync.OnceValue(arm64Regs)
)

func arm64Regs() map[string]Register {
	m := make(map[string]Register, 256)
	for i := 0; i <= 30; i++ {
		x := "x" + strconv.Itoa(i)
		w := "w" + strconv.Itoa(i)
		m[x] = Register{Name: x, Canonical: x, Size: 8}
		m[w] = Register{Name: w, Canonical: x, Size: 4}
	}
	m["fp"] = Register{Name: "fp", Canonical: "x29", Size: 8}
	m["lr"] = Register{Name: "lr", Canonical: "x30", Size: 8}
	m["sp"] = Register{Name: "sp", Canonical: "sp", Size: 8}
	m["wsp"] = Register{Name: "wsp", Canonical: "sp", Size: 4}
	for i := 0; i <= 31; i++ {
		v := "v" + strconv.Itoa(i)
		for _, p := range []struct {
			prefix string
			size   int
		}{{"v", 16}, {"q", 16}, {"d", 8}, {"s", 4}, {"h", 2}, {"b", 1}} {
			name := p.prefix + strconv.Itoa(i)
			m[name] = Register{Name: name, Canonical: v, Size: p.size, Vector: true}
		}
	}
	return m
}

// ErrUnsupportedMachine is the reason given on every argument of a file whose
// e_machine has no operand decoder. Sizes and signedness are still decoded.
type unsupportedMachine goelf.Machine

func (u unsupportedMachine) Error() string {
	return fmt.Sprintf("operands of %v are not decoded (x86-64, i386 and aarch64 are)", goelf.Machine(u))
}
