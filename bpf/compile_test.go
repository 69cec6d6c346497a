package bpf

import (
	goelf "debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

func synthetic(t *testing.T, s elftest.Spec) *elf.File { return elftest.Open(t, s, elf.NewFile) }

// TestCompileFixtures generates the programs for the elf package's
// fixtures of every machine, by each file's e_machine, in both kinds.
func TestCompileFixtures(t *testing.T) {
	for _, fx := range elftest.Fixtures {
		if strings.HasSuffix(fx.Name, ".o") {
			continue
		}
		t.Run(fx.Name, func(t *testing.T) {
			f, err := elf.Open(elftest.Path(t, fx.Name))
			if err != nil {
				t.Fatal(err)
			}
			tab, err := tableFor(f.Machine)
			if err != nil {
				t.Fatal(err)
			}
			sites, err := planSites(tab, f.Probes, nil)
			if err != nil {
				t.Fatal(err)
			}
			readable := 0
			for _, s := range sites {
				for _, pl := range s.args {
					a := pl.arg
					want := a.Err != nil || a.Loc.Kind == elf.LocTLS || a.Loc.Reg.Vector || (a.Loc.Kind == elf.LocRegister && a.Loc.Reg.Size < a.Size)
					if (pl.static != nil) != want {
						t.Errorf("%s %s: unreadable %v, want %v", s.probe.ID(), a.Raw, pl.static, want)
					}
					if pl.static == nil {
						readable++
					}
				}
			}
			if readable == 0 {
				t.Error("no readable argument")
			}
			for _, sleepable := range []bool{false, true} {
				insns, err := compileProgram(tab, sites, progConfig{Sleepable: sleepable, PID: 42})
				if err != nil {
					t.Fatal(err)
				}
				if err := insns.Marshal(io.Discard, binary.LittleEndian); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestRegisterTables(t *testing.T) {
	for _, tc := range []struct {
		m    goelf.Machine
		reg  string
		off  int16
		ipOf int16
	}{
		{goelf.EM_X86_64, "r15", 0, 128},
		{goelf.EM_X86_64, "rax", 80, 128},
		{goelf.EM_X86_64, "rdi", 112, 128},
		{goelf.EM_X86_64, "rsp", 152, 128},
		{goelf.EM_386, "eax", 80, 128},
		{goelf.EM_386, "esp", 152, 128},
		{goelf.EM_AARCH64, "x0", 0, 256},
		{goelf.EM_AARCH64, "x30", 240, 256},
		{goelf.EM_AARCH64, "sp", 248, 256},
	} {
		tab, err := tableFor(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if off, ok := tab.off[tc.reg]; !ok || off != tc.off || tab.ip != tc.ipOf {
			t.Errorf("%v %s: offset %d (%v), ip %d; want %d, %d", tc.m, tc.reg, off, ok, tab.ip, tc.off, tc.ipOf)
		}
	}
	if _, err := tableFor(goelf.EM_PPC64); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ppc64: %v", err)
	}
}

func TestExtendConst(t *testing.T) {
	for _, tc := range []struct {
		v      int64
		size   int
		signed bool
		want   int64
	}{
		{-56, 1, false, 200},
		{-1, 1, true, -1},
		{0x1ff, 1, false, 0xff},
		{0x8000, 2, true, -0x8000},
		{-1, 4, false, 0xffffffff},
		{-9, 4, true, -9},
		{-9, 8, false, -9},
	} {
		if got := extendConst(tc.v, tc.size, tc.signed); got != tc.want {
			t.Errorf("extendConst(%d, %d, %v) = %d, want %d", tc.v, tc.size, tc.signed, got, tc.want)
		}
	}
}

func TestReads(t *testing.T) {
	p := &elf.Probe{Provider: "net", Name: "msg", CallSites: []elf.CallSite{
		{Args: elf.ParseArgs(goelf.EM_X86_64, "-8@%rdi 8@%rsi 8@%rdx 8@%rcx")},
	}}
	for _, tc := range []struct {
		reads []ArgRead
		err   string
	}{
		{nil, ""},
		{[]ArgRead{{}, {Kind: ReadString}, {Kind: ReadBytes, LenArg: 4}, {}}, ""},
		{[]ArgRead{{Kind: ReadBytes, MaxLen: 32}}, ""},
		{[]ArgRead{{Kind: ReadBytes}}, "needs a length"},
		{[]ArgRead{{Kind: ReadBytes, LenArg: 1}}, "the buffer itself"},
		{[]ArgRead{{Kind: ReadBytes, LenArg: 5}}, "not in 1..4"},
		{[]ArgRead{{Kind: ReadString, LenArg: 2}}, "no length argument"},
		{[]ArgRead{{Kind: ReadString, MaxLen: MaxReadLen + 1}}, "not in 1.."},
		{[]ArgRead{{Kind: ReadBytes, LenArg: 2}, {Kind: ReadString}}, "read as string"},
		{[]ArgRead{{}, {}, {}, {}, {Kind: ReadString}}, "has 4 arguments"},
		{[]ArgRead{{Kind: 9}}, "unknown read kind"},
	} {
		got, err := readsFor(p, tc.reads)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%v: %v", tc.reads, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: error %v, want %q", tc.reads, err, tc.err)
		case err == nil && len(got) != 4:
			t.Errorf("%v: %d reads", tc.reads, len(got))
		}
	}
	got, _ := readsFor(p, []ArgRead{{}, {Kind: ReadString}, {Kind: ReadBytes, LenArg: 4}})
	if got[1].MaxLen != DefaultStringLen || got[2].MaxLen != DefaultBytesCap {
		t.Errorf("defaults: %v", got)
	}
	_, err := planSites(regsX8664(), []elf.Probe{*p}, map[string][]ArgRead{"net:other": nil})
	if err == nil || !strings.Contains(err.Error(), "net:other") {
		t.Errorf("reads for a tracepoint not attached: %v", err)
	}
}

// record builds a ring buffer record for site s.
type record []byte

func newRecord(s *site) record {
	r := make(record, s.size)
	native.PutUint32(r[offSite:], s.id)
	native.PutUint64(r[offPIDTGID:], 1234<<32|1235)
	copy(r[offComm:], "proc")
	return r
}

func (r record) slot(i int, value uint64, opErr, ret int32) {
	o := slotOff(i)
	native.PutUint64(r[o:], value)
	native.PutUint32(r[o+slotErr:], uint32(opErr))
	native.PutUint32(r[o+slotRet:], uint32(ret))
}

func TestDecode(t *testing.T) {
	p := &elf.Probe{Provider: "net", Name: "msg", CallSites: []elf.CallSite{{
		Args: elf.ParseArgs(goelf.EM_X86_64, "-8@%rdi 8@%rsi 8@(%rdx) 8@%rcx 8@%r8 -8@%r9 8@%fs:x@tpoff 8@%rax 4f@%eax"),
	}}}
	reads := map[string][]ArgRead{"net:msg": {
		{},
		{Kind: ReadString, MaxLen: 4},
		{Kind: ReadString},
		{Kind: ReadBytes, LenArg: 6, MaxLen: 3},
		{Kind: ReadBytes, LenArg: 6},
		{},
		{},
		{Kind: ReadBytes, MaxLen: 2},
	}}
	sites, err := planSites(regsX8664(), []elf.Probe{*p}, reads)
	if err != nil {
		t.Fatal(err)
	}
	s := sites[0]
	rec := newRecord(s)
	rec.slot(0, uint64(0xfffffffffffffff6), 0, 0) // -10
	rec.slot(1, 0x1000, 0, 6)                     // "hello" and more: 5 bytes + NUL
	copy(rec[s.args[1].dataOff:], "hello\x00")
	rec.slot(2, 0, -int32(syscall.EFAULT), 0) // the operand itself failed
	rec.slot(3, 0x2000, 0, 0)                 // 5 bytes asked, capped at 3
	copy(rec[s.args[3].dataOff:], "abc")
	rec.slot(4, 0x3000, 0, -int32(syscall.EFAULT))
	rec.slot(5, 5, 0, 0)
	rec.slot(7, 0x4000, 0, 0)
	copy(rec[s.args[7].dataOff:], "xy")
	rec.slot(8, 0x3fc00000, 0, 0) // 1.5
	ev, _, ok := (&decoder{}).decode(sites, rec, 1e9)
	if !ok {
		t.Fatal("not decoded")
	}
	if ev.PID != 1234 || ev.TID != 1235 || ev.Comm != "proc" || ev.Probe != "net:msg" || ev.Time.UnixNano() != 1e9 {
		t.Errorf("header: %+v", ev)
	}
	a := ev.Args
	check := func(i int, ok bool, what string) {
		t.Helper()
		if !ok {
			t.Errorf("arg%d: %s: %+v (%v)", i, what, a[i], a[i].Err)
		}
	}
	check(0, a[0].Err == nil && a[0].Int() == -10 && a[0].String() == "-10", "int")
	check(1, a[1].Err == nil && a[1].Str == "hell" && a[1].Truncated && a[1].Raw == 0x1000, "truncated string")
	var ae *ArgError
	check(2, errors.As(a[2].Err, &ae) && ae.What == "operand" && errors.Is(a[2].Err, syscall.EFAULT) && strings.Contains(a[2].Err.Error(), "EFAULT"), "operand EFAULT")
	check(3, a[3].Err == nil && string(a[3].Bytes) == "abc" && a[3].Truncated, "capped bytes")
	check(4, errors.Is(a[4].Err, syscall.EFAULT) && a[4].Raw == 0x3000, "bytes EFAULT keeps the pointer")
	check(6, errors.Is(a[6].Err, ErrUnreadable), "tls")
	check(7, a[7].Err == nil && string(a[7].Bytes) == "xy" && !a[7].Truncated, "fixed bytes")
	check(8, a[8].Err == nil && a[8].Float64() == 1.5 && a[8].String() == "1.5", "float")

	// A negative length.
	rec.slot(5, uint64(0xffffffffffffffff), 0, 0)
	ev, _, _ = (&decoder{}).decode(sites, rec, 0)
	if v := ev.Args[3]; v.Err == nil || !strings.Contains(v.Err.Error(), "negative") {
		t.Errorf("negative length: %+v", v)
	}
	// A length argument that could not be read.
	rec.slot(5, 0, -int32(syscall.EFAULT), 0)
	ev, _, _ = (&decoder{}).decode(sites, rec, 0)
	if v := ev.Args[3]; !errors.Is(v.Err, syscall.EFAULT) || !strings.Contains(v.Err.Error(), "length argument 6") {
		t.Errorf("unreadable length: %v", v.Err)
	}

	// Malformed records are dropped.
	for _, bad := range []record{rec[:10], rec[:s.size-1]} {
		if _, _, ok := (&decoder{}).decode(sites, bad, 0); ok {
			t.Errorf("decoded a record of %d bytes", len(bad))
		}
	}
	native.PutUint32(rec[offSite:], 7)
	if _, _, ok := (&decoder{}).decode(sites, rec, 0); ok {
		t.Error("decoded a record of an unknown site")
	}
}

// manyFile is a synthetic file with n call sites of 12 arguments in every
// operand form, spread over n/4 tracepoints.
func manyFile(t *testing.T, n int) *elf.File {
	spec := elftest.Spec{Symbols: []elftest.Symbol{{Name: "glob", Value: elftest.DataAddr + 8}}}
	for i := 0; i < n; i++ {
		spec.Notes = append(spec.Notes, elftest.Note{
			Provider: "many", Name: fmt.Sprintf("tp%d", i/4), PC: elftest.TextAddr + uint64(i),
			Semaphore: elftest.DataAddr + uint64(2*(i/4)%64),
			Args:      "8@%rdi 8@(%rsi) 8@%rdx -8@%rcx 8@%r8 -4@%r9d 8@-8(%rsp,%rax,8) -1@%ah -8@glob(%rip) 8@$glob 8@glob(,%rbx,4) -2@$-3",
		})
	}
	return synthetic(t, spec)
}

var manyReads = []ArgRead{
	{Kind: ReadString, MaxLen: MaxReadLen},
	{Kind: ReadString},
	{Kind: ReadBytes, LenArg: 4, MaxLen: MaxReadLen},
	{},
	{Kind: ReadBytes, MaxLen: 32},
}

func TestChunks(t *testing.T) {
	f := manyFile(t, 531)
	reads := map[string][]ArgRead{}
	for _, p := range f.Probes {
		reads[p.ID()] = manyReads
	}
	sites, err := planSites(regsX8664(), f.Probes, reads)
	if err != nil {
		t.Fatal(err)
	}
	groups, code, err := chunks(regsX8664(), sites, progConfig{Sleepable: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, g := range groups {
		if len(g) > sitesPerProgram || len(code[i]) > insnsPerProgram {
			t.Errorf("program %d: %d sites, %d instructions", i, len(g), len(code[i]))
		}
		n += len(g)
	}
	if n != 531 {
		t.Errorf("%d sites in programs, want 531", n)
	}
	t.Logf("531 call sites of 12 arguments: %d programs", len(groups))
}

// TestVerifierWorstCase loads the largest programs: 64 call sites of 12
// arguments, with the longest string and buffer reads.
func TestVerifierWorstCase(t *testing.T) {
	bpftest.Require(t)
	f := manyFile(t, sitesPerProgram)
	reads := map[string][]ArgRead{}
	for _, p := range f.Probes {
		reads[p.ID()] = manyReads
	}
	sites, err := planSites(regsX8664(), f.Probes, reads)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.RingBuf, MaxEntries: 1 << 24})
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	counters, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: uint32(2 * len(sites))})
	if err != nil {
		t.Fatal(err)
	}
	defer counters.Close()
	for _, sleepable := range []bool{false, true} {
		groups, code, err := chunks(regsX8664(), sites, progConfig{Sleepable: sleepable, PID: 1}, false)
		if err != nil {
			t.Fatal(err)
		}
		for i, insns := range code {
			insns.AssociateMap(refRing, ring)
			insns.AssociateMap(refCounters, counters)
			spec := &ebpf.ProgramSpec{Type: ebpf.Kprobe, AttachType: ebpf.AttachTraceUprobeMulti, Instructions: insns, License: "Dual MIT/GPL"}
			if sleepable {
				spec.Flags = 1 << 4 // BPF_F_SLEEPABLE
			}
			prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats})
			if err != nil {
				t.Fatalf("sleepable %v, program %d of %d sites: %v", sleepable, i, len(groups[i]), err)
			}
			t.Logf("sleepable %v: %d sites, %d instructions: %s", sleepable, len(groups[i]), len(insns), lastLine(prog.VerifierLog))
			prog.Close()
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func TestBuilderAliases(t *testing.T) {
	b := &builder{}
	b.emit(asm.Ja.Label("b"))
	b.label("a")
	b.label("b")
	b.emit(asm.Return())
	insns := b.finish()
	if insns[0].Reference() != "a" || insns[1].Symbol() != "a" {
		t.Errorf("%v", insns)
	}
}
