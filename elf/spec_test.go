package elf

import (
	goelf "debug/elf"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	x64, x86, a64 := goelf.EM_X86_64, goelf.EM_386, goelf.EM_AARCH64
	tests := []struct {
		m    goelf.Machine
		spec string
		want string // Arg.String(), or "error: <substring>"
	}{
		// Registers of every width, and the high bytes.
		{x64, "8@%rax", "uint64 %rax"},
		{x64, "-4@%eax", "int32 %eax"},
		{x64, "-2@%ax", "int16 %ax"},
		{x64, "-1@%al", "int8 %al"},
		{x64, "1@%ah", "uint8 %ah"},
		{x64, "1@%sil", "uint8 %sil"},
		{x64, "-4@%r8d", "int32 %r8d"},
		{x64, "2@%r8w", "uint16 %r8w"},
		{x64, "1@%r15b", "uint8 %r15b"},
		{x64, "8@%r9", "uint64 %r9"},
		{x86, "-4@%esi", "int32 %esi"},
		{x86, "1@%dh", "uint8 %dh"},
		{x86, "1@%sil", "error: unknown register"},
		{x86, "8@%rax", "error: unknown register"},
		// Memory.
		{x64, "8@192(%rsp)", "uint64 *(%rsp+192)"},
		{x64, "-8@-80(%rbx)", "int64 *(%rbx-80)"},
		{x64, "8@(%r12)", "uint64 *(%r12)"},
		{x64, "8@0(%r13)", "uint64 *(%r13)"},
		{x64, "-8@16(%rsp,%rax,8)", "int64 *(%rsp+%rax*8+16)"},
		{x64, "-8@(%rsp,%rax,8)", "int64 *(%rsp+%rax*8)"},
		{x64, "8@16(%rax,%rbx)", "uint64 *(%rax+%rbx+16)"},
		{x64, "8@(%rax,%rbx)", "uint64 *(%rax+%rbx)"},
		{x64, "8@-8(,%rcx,4)", "uint64 *(%rcx*4-8)"},
		{x64, "8@0x10(%rax)", "uint64 *(%rax+16)"},
		{x64, "8@(%eax)", "uint64 *(%eax)"},
		{x64, "8@16(%rsp,%rax,3)", "error: scale"},
		{x64, "8@16(%rsp,%rsp,8)", "error: cannot be an index"},
		{x64, "8@(%al)", "error: cannot be a base"},
		{x64, "8@(%xmm0)", "error: cannot be a base"},
		{x64, "8@()", "error: has no register"},
		{x64, "8@16(%rax", "error: unrecognized"},
		// RIP-relative and absolute symbols.
		{x64, "8@glob64(%rip)", "uint64 *(glob64)"},
		{x64, "-4@glob+8(%rip)", "int32 *(glob+8)"},
		{x64, "-4@8+glob(%rip)", "int32 *(glob+8)"},
		{x64, "-4@glob-8(%rip)", "int32 *(glob-8)"},
		{x64, "8@glob(%rip,%rax,8)", "error: cannot have an index"},
		{x86, "-4@glob32", "int32 *(glob32)"},
		{x86, "-4@garr(,%eax,4)", "int32 *(%eax*4+garr)"},
		{x64, "8@0x601040", "uint64 *(6295616)"},
		// Constants.
		{x64, "8@$7", "uint64 $7"},
		{x64, "-4@$-9", "int32 $-9"},
		{x64, "8@$0x10", "uint64 $16"},
		{x64, "8@$0xffffffffffffffff", "uint64 $-1"},
		{x64, "8@$glob", "uint64 $glob"},
		{x64, "8@$", "error: bad immediate"},
		{x64, "8@$1_000", "error: bad immediate"},
		// TLS and floats.
		{x64, "8@%fs:tls64@tpoff", "uint64 *(%fs:tls64@tpoff)"},
		{x64, "8@%fs:16", "uint64 *(%fs:16)"},
		{x86, "-4@%gs:tls@ntpoff", "int32 *(%gs:tls@tpoff)"},
		{x64, "8@%es:foo", "error: unsupported segment"},
		{x64, "4f@%xmm1", "float32 %xmm1"},
		{x64, "8f@-16(%rbp)", "float64 *(%rbp-16)"},
		{x64, "-8f@%rax", "float64 %rax"},
		{x64, "1f@%al", "error: float size 1"},
		// Sizes and prefixes.
		{x64, "3@%rax", "error: size 3"},
		{x64, "16@%xmm0", "error: size 16"},
		{x64, "@%rax", "error: bad size prefix"},
		{x64, "x@%rax", "error: bad size prefix"},
		{x64, "%rax", "error: no size prefix"},
		{x64, "8@", "error: empty operand"},
		{x64, "8@%foo", "error: unknown register"},
		{x64, "8@%rip", "error: does not hold a value"},
		// aarch64.
		{a64, "-8@x1", "int64 x1"},
		{a64, "-4@w3", "int32 w3"},
		{a64, "8@sp", "uint64 sp"},
		{a64, "8@[x0]", "uint64 *(x0)"},
		{a64, "-4@[x0, 8]", "int32 *(x0+8)"},
		{a64, "-4@[sp, -16]", "int32 *(sp-16)"},
		{a64, "-4@[x29, #-16]", "int32 *(x29-16)"},
		{a64, "8@[x0, x1]", "uint64 *(x0+x1)"},
		{a64, "8@[x0, x1, lsl #3]", "uint64 *(x0+x1*8)"},
		{a64, "8@[x0, #:lo12:sym]", "uint64 *(x0+#:lo12:sym)"},
		{a64, "-2@-7", "int16 $-7"},
		{a64, "4@#5", "uint32 $5"},
		{a64, "-8@v0", "int64 v0"},
		{a64, "8f@d1", "float64 d1"},
		{a64, "8@xzr", "uint64 $0"},
		{a64, "8@[x0, w1]", "error: needs an extension"},
		{a64, "8@[w0]", "error: bad base register"},
		{a64, "8@[x0, x1, asr #3]", "error: unsupported index extension"},
		{a64, "8@[x0", "error: unrecognized"},
		{a64, "8@%rax", "error: unrecognized"},
		{x64, "8@x1", "uint64 *(x1)"}, // a symbol named x1
		// Other machines: sizes only.
		{goelf.EM_PPC64, "-8@r3", "error: operands of EM_PPC64 are not decoded"},
	}
	for _, tt := range tests {
		args := ParseArgs(tt.m, tt.spec)
		if len(args) != 1 {
			t.Errorf("%v %q: %d args, want 1", tt.m, tt.spec, len(args))
			continue
		}
		a := args[0]
		if msg, ok := strings.CutPrefix(tt.want, "error: "); ok {
			if a.Err == nil || !strings.Contains(a.Err.Error(), msg) {
				t.Errorf("%v %q: err %v, want one containing %q (decoded %s)", tt.m, tt.spec, a.Err, msg, a.String())
			}
			continue
		}
		if a.Err != nil {
			t.Errorf("%v %q: %v", tt.m, tt.spec, a.Err)
			continue
		}
		if got := a.String(); got != tt.want {
			t.Errorf("%v %q = %q, want %q", tt.m, tt.spec, got, tt.want)
		}
	}
}

func TestParseArgsHighByte(t *testing.T) {
	a := ParseArgs(goelf.EM_X86_64, "1@%ah")[0]
	if r := a.Loc.Reg; r.Canonical != "rax" || r.Shift != 8 || r.Size != 1 {
		t.Errorf("%%ah = %+v, want rax shifted by 8", r)
	}
	a = ParseArgs(goelf.EM_386, "1@%ch")[0]
	if r := a.Loc.Reg; r.Canonical != "ecx" || r.Shift != 8 {
		t.Errorf("i386 %%ch = %+v, want ecx shifted by 8", r)
	}
	a = ParseArgs(goelf.EM_AARCH64, "-4@w7")[0]
	if r := a.Loc.Reg; r.Canonical != "x7" || r.Size != 4 {
		t.Errorf("w7 = %+v, want the low half of x7", r)
	}
}

// A bad operand is reported on its own argument and never moves the others.
func TestParseArgsKeepsPositions(t *testing.T) {
	args := ParseArgs(goelf.EM_X86_64, "4f@%eax 8@%fs:tls@tpoff 9@%rcx 1@%dl  -8@%bogus  8@$1")
	if len(args) != 6 {
		t.Fatalf("%d args, want 6", len(args))
	}
	wantErr := []bool{false, false, true, false, true, false}
	for i, a := range args {
		if a.Index != i {
			t.Errorf("arg %d has index %d", i, a.Index)
		}
		if (a.Err != nil) != wantErr[i] {
			t.Errorf("arg %d %q: err %v, want error %v", i, a.Raw, a.Err, wantErr[i])
		}
	}
	if args[3].String() != "uint8 %dl" {
		t.Errorf("arg 3 = %s", args[3].String())
	}
}

func TestParseArgsLimit(t *testing.T) {
	tests := []struct {
		spec string
		raw  string // the Raw of the Arg that stands for the operands beyond MaxArgs
		msg  string
	}{
		{strings.Repeat("8@%rax ", 13), "8@%rax", "13 operands, and an SDT probe has at most 12 arguments: the last one is not decoded"},
		{strings.Repeat("8@%rax ", 12) + "8@%rbx\t 8@[x0, 8]\n", "8@%rbx\t 8@[x0, 8]", "14 operands, and an SDT probe has at most 12 arguments: the last 2 are not decoded"},
		{strings.Repeat("8@%rax ", 12) + strings.Repeat("1@%al ", 100), strings.Repeat("1@%al ", 100)[:MaxExtraText] + "...", "112 operands"},
	}
	for _, tt := range tests {
		args := ParseArgs(goelf.EM_X86_64, tt.spec)
		if len(args) != MaxArgs+1 {
			t.Fatalf("%d args, want %d", len(args), MaxArgs+1)
		}
		for i, a := range args[:MaxArgs] {
			if a.Err != nil || a.Index != i || a.Raw != "8@%rax" {
				t.Errorf("arg %d: %+v", i, a)
			}
		}
		a := args[MaxArgs]
		if a.Index != MaxArgs || a.Raw != tt.raw || a.Err == nil || !strings.Contains(a.Err.Error(), tt.msg) || a.Loc.Kind != LocInvalid {
			t.Errorf("beyond the limit: raw %q, err %v; want raw %q and %q", a.Raw, a.Err, tt.raw, tt.msg)
		}
	}
	if args := ParseArgs(goelf.EM_X86_64, strings.Repeat("8@%rax ", 12)); len(args) != 12 || len(args[11].Raw) != 6 || args[11].Err != nil {
		t.Errorf("12 operands: %+v", args)
	}
	// An operand longer than any spec is cut, and its error is short.
	long := "8@" + strings.Repeat("\x1b", 1<<20)
	args := ParseArgs(goelf.EM_X86_64, "8@%rax "+long+" -4@%esi")
	if len(args) != 3 || args[0].Err != nil || args[2].Err != nil || args[2].Raw != "-4@%esi" {
		t.Fatalf("args around a long operand: %+v", args)
	}
	if a := args[1]; a.Raw != long[:MaxExtraText]+"..." || a.Err == nil || !strings.Contains(a.Err.Error(), "no argument spec") || len(a.Err.Error()) > 4*MaxExtraText+100 {
		t.Errorf("long operand: raw %q, err %.300v", a.Raw, a.Err)
	}
	// One just short of the limit is decoded; its error message is cut.
	sym := strings.Repeat("\x01", maxOperand-2)
	if a := ParseArgs(goelf.EM_X86_64, "8@"+sym)[0]; len(a.Raw) != maxOperand || a.Err == nil || len(a.Err.Error()) > 8*MaxExtraText+100 {
		t.Errorf("operand of %d bytes: raw of %d bytes, err %.300v", maxOperand, len(a.Raw), a.Err)
	}
}

func TestSplitArgs(t *testing.T) {
	tests := map[string][]string{
		"":                           nil,
		"   ":                        nil,
		"8@%rax -4@%ebx":             {"8@%rax", "-4@%ebx"},
		"\t8@%rax\n":                 {"8@%rax"},
		"8@x1 8@[x0, #:lo12:.LANCH]": {"8@x1", "8@[x0, #:lo12:.LANCH]"},
		"-4@[sp, 16] 8@[x0, x1]":     {"-4@[sp, 16]", "8@[x0, x1]"},
		"8@]x 8@y":                   {"8@]x", "8@y"},
	}
	for in, want := range tests {
		got := splitArgs(in)
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("splitArgs(%q) = %q, want %q", in, got, want)
		}
	}
}

// splitArgs returns every operand of s.
func splitArgs(s string) []string {
	var out []string
	for i := 0; ; {
		start, end := nextOperand(s, i)
		if start < 0 {
			return out
		}
		out = append(out, s[start:end])
		i = end
	}
}
