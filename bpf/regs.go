package bpf

import (
	goelf "debug/elf"
	"fmt"
	"runtime"
	"sync"
)

// regTable maps a canonical register name (elf.Register.Canonical) to its
// byte offset in the registers a uprobe program sees as its context: the
// kernel's struct pt_regs on x86-64, struct user_pt_regs on aarch64.
type regTable struct {
	arch string
	off  map[string]int16
	ip   int16 // offset of the instruction pointer
	// addr32 is set for targets whose addresses are 32 bits wide (i386
	// processes on an x86-64 kernel): computed addresses wrap at 2^32.
	addr32 bool
}

// x86-64 struct pt_regs: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx
// rsi rdi orig_rax rip cs eflags rsp ss, 8 bytes each.
var x8664Order = []string{
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
}

// The tables are built on first use: a command that loads no BPF never
// builds them.
var (
	regsX8664   = sync.OnceValue(x8664Table)
	regsI386    = sync.OnceValue(i386Table)
	regsAArch64 = sync.OnceValue(aarch64Table)
)

func x8664Table() *regTable {
	t := &regTable{arch: "x86_64", off: map[string]int16{}}
	for i, r := range x8664Order {
		t.off[r] = int16(8 * i)
	}
	t.ip = t.off["rip"]
	return t
}

// i386Table is for 32-bit processes on an x86-64 kernel, which sees their
// registers in the same struct pt_regs: %eax is the low half of rax.
func i386Table() *regTable {
	x := x8664Table()
	t := &regTable{arch: "i386", off: map[string]int16{}, ip: x.ip, addr32: true}
	for _, r := range []string{"ax", "bx", "cx", "dx", "si", "di", "bp", "sp", "ip"} {
		t.off["e"+r] = x.off["r"+r]
	}
	return t
}

// aarch64 struct user_pt_regs: regs[31], sp, pc, pstate.
func aarch64Table() *regTable {
	t := &regTable{arch: "aarch64", off: map[string]int16{}}
	for i := 0; i <= 30; i++ {
		t.off[fmt.Sprintf("x%d", i)] = int16(8 * i)
	}
	t.off["sp"] = 31 * 8
	t.off["pc"] = 32 * 8
	t.ip = t.off["pc"]
	return t
}

// tableFor picks the register table by the target's e_machine.
func tableFor(m goelf.Machine) (*regTable, error) {
	switch m {
	case goelf.EM_X86_64:
		return regsX8664(), nil
	case goelf.EM_386:
		return regsI386(), nil
	case goelf.EM_AARCH64:
		return regsAArch64(), nil
	}
	return nil, fmt.Errorf("%w: tracing %v files is not supported (x86-64, i386 and aarch64 are)", ErrUnsupported, m)
}

// checkHost reports whether this kernel runs code of the target's machine.
func checkHost(m goelf.Machine) error {
	host := map[goelf.Machine]string{goelf.EM_X86_64: "amd64", goelf.EM_386: "amd64", goelf.EM_AARCH64: "arm64"}[m]
	if runtime.GOARCH != host {
		return fmt.Errorf("%w: %v code does not run on this %s kernel", ErrUnsupported, m, runtime.GOARCH)
	}
	return nil
}
