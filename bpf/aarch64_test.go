package bpf

import (
	goelf "debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/usdtkit/usdtkit/elf/elftest"
)

// The tests in this file check what an aarch64 kernel would run without
// one: the register offsets against the kernel's own header, and the
// generated programs, run by interp, for every aarch64 operand form.

// kernelRegs is the layout of the registers a uprobe program gets as its
// context, read from the kernel's UAPI header by compiling it: name ->
// byte offset, and the size of the whole.
type kernelRegs struct {
	off  map[string]int
	size int
}

var (
	layoutOnce sync.Once
	layouts    map[goelf.Machine]*kernelRegs
	layoutErr  error
)

// kernelLayout compiles the offsets of the context struct with the
// target's C compiler: struct user_pt_regs (asm/ptrace.h, which
// bpf_user_pt_regs_t is on arm64) for aarch64, struct pt_regs for x86-64.
func kernelLayout(t *testing.T, m goelf.Machine) *kernelRegs {
	t.Helper()
	layoutOnce.Do(func() { layouts, layoutErr = compileLayouts(t.TempDir()) })
	if layoutErr != nil {
		elftest.Unavailable(t, layoutErr.Error())
	}
	return layouts[m]
}

func compileLayouts(dir string) (map[goelf.Machine]*kernelRegs, error) {
	type target struct {
		m      goelf.Machine
		cc     string
		typ    string
		fields map[string]string // register name -> member designator
	}
	a64 := map[string]string{"sp": "sp", "pc": "pc", "pstate": "pstate"}
	for i := 0; i <= 30; i++ {
		a64[fmt.Sprintf("x%d", i)] = fmt.Sprintf("regs[%d]", i)
	}
	x64 := map[string]string{}
	for _, r := range x8664Order {
		x64[r] = r
	}
	out := map[goelf.Machine]*kernelRegs{}
	for _, tg := range []target{
		{goelf.EM_AARCH64, "aarch64-linux-gnu-gcc-12", "struct user_pt_regs", a64},
		{goelf.EM_X86_64, "gcc", "struct pt_regs", x64},
	} {
		if _, err := exec.LookPath(tg.cc); err != nil {
			return nil, fmt.Errorf("the kernel's register layout needs %s (make deps installs it)", tg.cc)
		}
		var src strings.Builder
		src.WriteString("#include <stddef.h>\n#include <asm/ptrace.h>\n")
		fmt.Fprintf(&src, "const unsigned long long off_size_ = sizeof(%s);\n", tg.typ)
		for name, field := range tg.fields {
			fmt.Fprintf(&src, "const unsigned long long off_%s = offsetof(%s, %s);\n", name, tg.typ, field)
		}
		c := filepath.Join(dir, tg.m.String()+".c")
		o := filepath.Join(dir, tg.m.String()+".o")
		if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
			return nil, err
		}
		if msg, err := exec.Command(tg.cc, "-c", "-o", o, c).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("compile %s offsets with %s: %v: %s", tg.typ, tg.cc, err, msg)
		}
		f, err := goelf.Open(o)
		if err != nil {
			return nil, err
		}
		syms, err := f.Symbols()
		if err != nil {
			f.Close()
			return nil, err
		}
		kr := &kernelRegs{off: map[string]int{}}
		for _, s := range syms {
			name, ok := strings.CutPrefix(s.Name, "off_")
			if !ok || int(s.Section) >= len(f.Sections) {
				continue
			}
			data, err := f.Sections[s.Section].Data()
			if err != nil || s.Value+8 > uint64(len(data)) {
				f.Close()
				return nil, fmt.Errorf("read %s in %s: %v", s.Name, o, err)
			}
			v := int(binary.LittleEndian.Uint64(data[s.Value:]))
			if name == "size_" {
				kr.size = v
			} else {
				kr.off[name] = v
			}
		}
		f.Close()
		if len(kr.off) != len(tg.fields) || kr.size == 0 {
			return nil, fmt.Errorf("%s: %d offsets of %d read", o, len(kr.off), len(tg.fields))
		}
		out[tg.m] = kr
	}
	return out, nil
}

// TestRegisterTablesMatchKernel checks every register offset the programs
// use against the kernel's header: on aarch64 a wrong one would read
// another register, silently, and only an arm64 kernel would show it.
func TestRegisterTablesMatchKernel(t *testing.T) {
	for _, tc := range []struct {
		m  goelf.Machine
		ip string
	}{{goelf.EM_AARCH64, "pc"}, {goelf.EM_X86_64, "rip"}} {
		k := kernelLayout(t, tc.m)
		tab, err := tableFor(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		for name, off := range tab.off {
			if want, ok := k.off[name]; !ok || int(off) != want {
				t.Errorf("%v %s: offset %d, the kernel's %d (%v)", tc.m, name, off, want, ok)
			}
		}
		if int(tab.ip) != k.off[tc.ip] {
			t.Errorf("%v: instruction pointer at %d, the kernel's %s at %d", tc.m, tab.ip, tc.ip, k.off[tc.ip])
		}
		for name := range k.off {
			if _, ok := tab.off[name]; !ok && name != "pstate" && name != "pc" && name != "rip" && name != "orig_rax" && name != "cs" && name != "ss" && name != "eflags" {
				t.Errorf("%v: register %s is not in the table", tc.m, name)
			}
		}
	}
	// i386 processes run on an x86-64 kernel, which gives their registers
	// in its own struct pt_regs.
	k := kernelLayout(t, goelf.EM_X86_64)
	for name, off := range regsI386().off {
		if want := k.off["r"+name[1:]]; int(off) != want {
			t.Errorf("i386 %s: offset %d, the kernel's r%s at %d", name, off, name[1:], want)
		}
	}
}

// userSpace is the memory of the traced process as interp's read helpers
// see it.
type userSpace map[uint64][]byte

func (u userSpace) put(addr uint64, v any) {
	var b []byte
	switch v := v.(type) {
	case uint64:
		b = binary.LittleEndian.AppendUint64(nil, v)
	case uint32:
		b = binary.LittleEndian.AppendUint32(nil, v)
	case uint16:
		b = binary.LittleEndian.AppendUint16(nil, v)
	case string:
		b = []byte(v)
	}
	for base, data := range u {
		if addr >= base && addr+uint64(len(b)) <= base+uint64(len(data)) {
			copy(data[addr-base:], b)
			return
		}
	}
	panic(fmt.Sprintf("no user region at %#x", addr))
}

// argWant is what one argument must decode to.
type argWant struct {
	raw   uint64
	str   string // ReadString
	bytes string // ReadBytes
	fault bool   // EFAULT reading the operand
}

type progCase struct {
	name  string
	args  string
	reads []ArgRead
	want  []argWant
}

// runCases builds a file for machine m with one tracepoint per case, lays
// out its call sites, runs the generated programs under interp with the
// registers regs at the kernel's offsets, and checks every decoded
// argument: each site alone (no cookie) and all in one program (dispatch
// on the cookie), with programs that fault pages in and without.
func runCases(t *testing.T, m goelf.Machine, typ goelf.Type, bias uint64, syms []elftest.Symbol, regs map[string]uint64, user userSpace, cases []progCase) {
	t.Helper()
	k := kernelLayout(t, m)
	spec := elftest.Spec{Machine: m, Type: typ, Symbols: syms}
	reads := map[string][]ArgRead{}
	for i, c := range cases {
		spec.Notes = append(spec.Notes, elftest.Note{Provider: "test", Name: c.name, Args: c.args, PC: elftest.TextAddr + 4*uint64(i)})
		reads["test:"+c.name] = c.reads
	}
	f := synthetic(t, spec)
	tab, err := tableFor(m)
	if err != nil {
		t.Fatal(err)
	}
	sites, err := planSites(tab, f.Probes, reads)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]progCase{}
	for _, c := range cases {
		byName["test:"+c.name] = c
	}
	ctxFor := func(s *site) []byte {
		ctx := make([]byte, k.size)
		for name, v := range regs {
			off, ok := k.off[name]
			if !ok {
				t.Fatalf("no register %s in the kernel's layout", name)
			}
			binary.LittleEndian.PutUint64(ctx[off:], v)
		}
		// The instruction pointer at the probe: where the call site is.
		ip := map[goelf.Machine]string{goelf.EM_AARCH64: "pc", goelf.EM_X86_64: "rip"}[m]
		binary.LittleEndian.PutUint64(ctx[k.off[ip]:], s.cs.Address+bias)
		return ctx
	}
	const pid, tid = 4242, 4243
	check := func(t *testing.T, s *site, m *interp) {
		t.Helper()
		if len(m.submitted) != 1 {
			t.Fatalf("%s: %d records submitted", s.probe.ID(), len(m.submitted))
		}
		ev, got, ok := (&decoder{}).decode(sites, m.submitted[0].data, 0)
		if !ok || got != s {
			t.Fatalf("%s: record not decoded as its own (%v)", s.probe.ID(), ok)
		}
		if ev.PID != pid || ev.TID != tid || ev.Comm != "proc" {
			t.Errorf("%s: header %+v", s.probe.ID(), ev)
		}
		c := byName[s.probe.ID()]
		if len(ev.Args) != len(c.want) {
			t.Fatalf("%s: %d arguments, want %d", s.probe.ID(), len(ev.Args), len(c.want))
		}
		for i, w := range c.want {
			v := ev.Args[i]
			spec := s.args[i].arg.Raw
			switch {
			case w.fault:
				if v.Err == nil || !strings.Contains(v.Err.Error(), "EFAULT") {
					t.Errorf("%s %s: %v, want EFAULT", s.probe.ID(), spec, v)
				}
			case v.Err != nil:
				t.Errorf("%s %s: %v", s.probe.ID(), spec, v.Err)
			case v.Raw != w.raw:
				t.Errorf("%s %s: %#x, want %#x", s.probe.ID(), spec, v.Raw, w.raw)
			case v.Str != w.str || string(v.Bytes) != w.bytes:
				t.Errorf("%s %s: %q %q, want %q %q", s.probe.ID(), spec, v.Str, v.Bytes, w.str, w.bytes)
			}
		}
	}
	for _, sleepable := range []bool{false, true} {
		cfg := progConfig{Sleepable: sleepable, PID: pid}
		name := fmt.Sprintf("sleepable=%v", sleepable)
		t.Run(name+"/one site per program", func(t *testing.T) {
			for _, s := range sites {
				insns, err := compileProgram(tab, []*site{s}, cfg)
				if err != nil {
					t.Fatal(err)
				}
				m := &interp{ctx: ctxFor(s), user: user, cookie: 0xbad, pidTgid: pid<<32 | tid}
				if _, err := m.run(insns); err != nil {
					t.Fatalf("%s: %v", s.probe.ID(), err)
				}
				check(t, s, m)
			}
		})
		t.Run(name+"/all sites in one program", func(t *testing.T) {
			insns, err := compileProgram(tab, sites, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sites {
				m := &interp{ctx: ctxFor(s), user: user, cookie: uint64(s.id), pidTgid: pid<<32 | tid}
				if _, err := m.run(insns); err != nil {
					t.Fatalf("%s: %v", s.probe.ID(), err)
				}
				check(t, s, m)
			}
			// Another process: no record.
			m := &interp{ctx: ctxFor(sites[0]), user: user, cookie: uint64(sites[0].id), pidTgid: (pid+1)<<32 | (pid + 1)}
			if _, err := m.run(insns); err != nil || len(m.records) != 0 {
				t.Errorf("another process: %d records reserved, %v", len(m.records), err)
			}
		})
	}
}

// TestAArch64Programs runs the programs generated for every aarch64
// operand form of docs/operands.md on registers laid out as an arm64
// kernel lays them out, in a PIE whose load bias is not zero.
func TestAArch64Programs(t *testing.T) {
	const (
		bias  = 0x5555_0000_0000
		data  = 0x7fff_0000_1000 // a user buffer
		sym   = elftest.DataAddr + 0x28
		strs  = 0x7fff_0000_4000
		unmap = 0x7fff_00ff_0000
	)
	regs := map[string]uint64{}
	for i := 0; i <= 30; i++ {
		// A distinct value per register, its low half negative as int32.
		regs[fmt.Sprintf("x%d", i)] = 0xa000_0000_0000_0000 | uint64(i)<<40 | 0xffff_ff00 | uint64(i)
	}
	regs["x0"] = data
	regs["x1"] = 0x18
	regs["x2"] = 4
	regs["x7"] = (sym + bias) &^ 0xfff // ADRP: the page of sym, where it is loaded
	regs["x9"] = unmap
	regs["x10"] = strs
	regs["x11"] = data + 0x40
	regs["x12"] = 3
	regs["x13"] = strs + 0x10
	regs["x29"] = data + 0x100
	regs["sp"] = data + 0x200
	regs["pstate"] = 0x6000_0000

	user := userSpace{data: make([]byte, 0x300), strs: make([]byte, 0x40), (sym + bias) &^ 0xfff: make([]byte, 0x1000)}
	user.put(data, uint64(0x1122_3344_5566_7788))
	user.put(data+8, uint32(0xffff_fff9)) // -7
	user.put(data+0x18, uint64(0x0102_0304_0506_0708))
	user.put(data+4*8, uint64(0x0a0b_0c0d_0e0f_1011))
	user.put(data+0x40, uint64(strs+0x20))
	user.put(data+0xf0, uint32(0x8000_0001))
	user.put(data+0x1f0, uint32(0xffff_fffe)) // -2
	user.put(sym+bias, uint64(0xfeed_f00d_cafe_beef))
	user.put(strs, "hello\x00")
	user.put(strs+0x10, "abcdef")
	user.put(strs+0x20, "in memory\x00")

	reg := func(i int) uint64 { return regs[fmt.Sprintf("x%d", i)] }
	sext := func(v uint64, size int) uint64 { return uint64(extendConst(int64(v), size, true)) }
	zext := func(v uint64, size int) uint64 { return uint64(extendConst(int64(v), size, false)) }
	cases := []progCase{
		{name: "registers", args: "-8@x1 -4@w3 4@w3 8@sp -2@x5 1@x6 -1@w6 8@x30 -4@x30 8@x29", want: []argWant{
			{raw: 0x18}, {raw: sext(reg(3), 4)}, {raw: zext(reg(3), 4)}, {raw: data + 0x200},
			{raw: sext(reg(5), 2)}, {raw: zext(reg(6), 1)}, {raw: sext(reg(6), 1)}, {raw: reg(30)}, {raw: sext(reg(30), 4)}, {raw: data + 0x100},
		}},
		{name: "memory", args: "8@[x0] -4@[x0, 8] 4@[x0, 8] -4@[sp, -16] -4@[x29, #-16] 8@[x0, x1] 8@[x0, x2, lsl #3] 8@[x7, #:lo12:sym] -2@[x0, 8] 8@[x9, 8]", want: []argWant{
			{raw: 0x1122_3344_5566_7788}, {raw: sext(0xffff_fff9, 4)}, {raw: 0xffff_fff9}, {raw: sext(0xffff_fffe, 4)},
			{raw: sext(0x8000_0001, 4)}, {raw: 0x0102_0304_0506_0708}, {raw: 0x0a0b_0c0d_0e0f_1011}, {raw: 0xfeed_f00d_cafe_beef},
			{raw: sext(0xfff9, 2)}, {fault: true},
		}},
		{name: "constants", args: "-2@-7 4@#5 8@xzr -4@wzr 8@0x10", want: []argWant{
			{raw: sext(0xfff9, 2)}, {raw: 5}, {raw: 0}, {raw: 0}, {raw: 0x10},
		}},
		{name: "strings", args: "8@x10 8@[x11] -4@x12 8@x13",
			reads: []ArgRead{{Kind: ReadString}, {Kind: ReadString}, {}, {Kind: ReadBytes, LenArg: 3}},
			want:  []argWant{{raw: strs, str: "hello"}, {raw: strs + 0x20, str: "in memory"}, {raw: 3}, {raw: strs + 0x10, bytes: "abc"}},
		},
	}
	runCases(t, goelf.EM_AARCH64, goelf.ET_DYN, bias, []elftest.Symbol{{Name: "sym", Value: sym}}, regs, user, cases)
}

// TestX8664ProgramsInterp runs x86-64 programs, whose behaviour the live
// tests establish on this kernel, under interp too: it checks interp
// against the kernel for the forms both have.
func TestX8664ProgramsInterp(t *testing.T) {
	const (
		bias = 0x5555_0000_0000
		data = 0x7fff_0000_1000
		glob = elftest.DataAddr + 0x10
	)
	regs := map[string]uint64{"rdi": 0xffff_ffff_ffff_fff6, "rsi": data, "rax": 0x1234_5678_9abc_def0, "rsp": data + 0x100, "rbx": 2}
	user := userSpace{data: make([]byte, 0x200), glob + bias: make([]byte, 0x10)}
	user.put(data, uint64(77))
	user.put(data+0x100-8+2*8, uint64(99))
	user.put(glob+bias, uint64(0xffff_ffff_ffff_ff9c)) // -100
	cases := []progCase{
		{name: "forms", args: "-8@%rdi 8@(%rsi) -4@%eax 1@%ah 8@-8(%rsp,%rbx,8) -8@glob(%rip) 8@$glob -2@$-3", want: []argWant{
			{raw: 0xffff_ffff_ffff_fff6}, {raw: 77}, {raw: sext32(0x9abc_def0)}, {raw: 0xde}, {raw: 99},
			{raw: 0xffff_ffff_ffff_ff9c}, {raw: glob + bias}, {raw: 0xffff_ffff_ffff_fffd},
		}},
	}
	runCases(t, goelf.EM_X86_64, goelf.ET_DYN, bias, []elftest.Symbol{{Name: "glob", Value: glob}}, regs, user, cases)
}

func sext32(v uint32) uint64 { return uint64(int64(int32(v))) }
