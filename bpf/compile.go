package bpf

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/cilium/ebpf/asm"

	"github.com/usdtkit/usdtkit/elf"
)

// The record a program writes to the ring buffer for one hit: a header,
// one 16-byte slot per argument, then the string and byte buffers. All
// fields are in host byte order.
//
//	 0 u64 time (CLOCK_MONOTONIC, ns)
//	 8 u64 tgid<<32 | tid
//	16 u32 site id (the BPF cookie)
//	20 u32 zero
//	24 [16]byte comm
//	40 slots: u64 value, s32 operand error (0 or -errno), s32 read result
//	   (bpf_probe_read_user_str's length or bpf_probe_read_user's 0, or -errno)
const (
	offTime    = 0
	offPIDTGID = 8
	offSite    = 16
	offComm    = 24
	headerSize = 40
	slotSize   = 16
	slotErr    = 8
	slotRet    = 12
)

// Map references in the generated code, resolved when the programs load.
const (
	refRing     = "ring"
	refCounters = "counters"
	refScratch  = "scratch" // aggregation: the per-CPU buffer a hit is read into
	refAgg      = "agg"     // aggregation: the rows
)

// Limits that keep every program well below the verifier's: a program
// dispatches to at most sitesPerProgram call sites and has at most
// insnsPerProgram instructions.
const (
	sitesPerProgram = 64
	insnsPerProgram = 8192
)

// site is one call site as compiled: its id (the BPF cookie), its
// arguments and the layout of its record.
type site struct {
	id         uint32
	tracepoint int // the probe's index in Options.Probes
	probe      *elf.Probe
	name       string // probe.ID()
	index      int    // the call site's index in probe.CallSites
	cs         *elf.CallSite
	args       []argPlan
	size       int  // record size in bytes
	bias       bool // some operand needs the load bias
	// kernelHits: the program counts the site's hits. A site that sends
	// every hit it does not lose leaves that to the reader, which counts
	// the records it reads (hits are those and the lost).
	kernelHits bool
}

// argPlan is how one argument is read.
type argPlan struct {
	arg  elf.Arg
	read ArgRead
	// static is why the operand cannot be read at all; no code reads it.
	static  error
	dataOff int // record offset of the string or byte buffer
	dataLen int // its size: the bytes the helper may write
}

func slotOff(i int) int16 { return int16(headerSize + slotSize*i) }

// planSite lays out the record of call site index of p and finds the
// operands that cannot be read.
func planSite(t *regTable, id uint32, p *elf.Probe, index int, reads []ArgRead) *site {
	cs := &p.CallSites[index]
	s := &site{id: id, probe: p, name: p.ID(), index: index, cs: cs}
	off := headerSize + slotSize*len(cs.Args)
	for i, a := range cs.Args {
		pl := argPlan{arg: a}
		if i < len(reads) {
			pl.read = reads[i]
		}
		pl.static = t.unreadable(&a)
		if pl.static == nil && a.Loc.Absolute {
			s.bias = true
		}
		if pl.static == nil {
			switch pl.read.Kind {
			case ReadString:
				// Two bytes more than asked: one for the NUL, one to tell
				// a string of exactly MaxLen bytes from a longer one.
				pl.dataLen = pl.read.MaxLen + 2
			case ReadBytes:
				pl.dataLen = pl.read.MaxLen
			}
			pl.dataOff = off
			off += (pl.dataLen + 7) &^ 7
		}
		s.args = append(s.args, pl)
	}
	s.size = off
	return s
}

// unreadable says why a's operand cannot be read, or nil.
func (t *regTable) unreadable(a *elf.Arg) error {
	if a.Err != nil {
		return fmt.Errorf("%w: %w", ErrUnreadable, a.Err)
	}
	reg := func(r elf.Register) error {
		if r.IsZero() {
			return nil
		}
		if r.Vector {
			return fmt.Errorf("%w: vector register %s is not among the registers a uprobe sees", ErrUnreadable, r.Name)
		}
		if _, ok := t.off[r.Canonical]; !ok {
			return fmt.Errorf("%w: register %s is not among the registers a uprobe sees", ErrUnreadable, r.Name)
		}
		return nil
	}
	switch a.Loc.Kind {
	case elf.LocRegister:
		if r := a.Loc.Reg; !r.Vector && r.Size > 0 && r.Size < a.Size {
			// i386 keeps a 64-bit value in a register pair, and the
			// spec names only the low register.
			return fmt.Errorf("%w: a %d-byte value does not fit in %s; the spec does not say where its high bytes are", ErrUnreadable, a.Size, r.Name)
		}
		return reg(a.Loc.Reg)
	case elf.LocMemory:
		if err := reg(a.Loc.Base); err != nil {
			return err
		}
		return reg(a.Loc.Index)
	case elf.LocConstant:
		return nil
	case elf.LocTLS:
		return fmt.Errorf("%w: thread-local storage (%s)", ErrUnreadable, a.Operand())
	}
	return fmt.Errorf("%w: unknown operand %q", ErrUnreadable, a.Operand())
}

// builder collects instructions and resolves labels; a label placed where
// another already waits becomes an alias of it.
type builder struct {
	insns   asm.Instructions
	pending string
	alias   map[string]string
}

func (b *builder) emit(ins ...asm.Instruction) {
	for _, in := range ins {
		if b.pending != "" {
			in = in.WithSymbol(b.pending)
			b.pending = ""
		}
		b.insns = append(b.insns, in)
	}
}

func (b *builder) label(name string) {
	if b.pending != "" {
		if b.alias == nil {
			b.alias = map[string]string{}
		}
		b.alias[name] = b.pending
		return
	}
	b.pending = name
}

func (b *builder) finish() asm.Instructions {
	if len(b.alias) > 0 {
		for i := range b.insns {
			if to, ok := b.alias[b.insns[i].Reference()]; ok && !b.insns[i].IsLoadFromMap() {
				b.insns[i] = b.insns[i].WithReference(to)
			}
		}
	}
	return b.insns
}

// storeZero64 emits *(u64 *)(dst + off) = 0; asm.StoreImm does not
// emit the DWord form the kernel accepts.
func storeZero64(dst asm.Register, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off}
}

func mapPtr(dst asm.Register, ref string) asm.Instruction {
	return asm.LoadMapPtr(dst, 0).WithReference(ref)
}

// Stack slots of the generated programs.
const (
	stackSite = -8  // u64: the site id
	stackKey  = -16 // u32: key into the counters map
)

const labelExit = "exit"

// progConfig is what a program is generated for.
type progConfig struct {
	// PID, when not 0, makes the program drop hits from other processes.
	PID int
	// Sleepable programs read user memory with bpf_copy_from_user, which
	// faults pages in, and retry a string read that hit a page not yet
	// faulted in. Others cannot fault: such a read fails with EFAULT.
	Sleepable bool
	// agg, when not nil, makes the programs aggregate instead of sending
	// records.
	agg *Aggregation
	// filter holds, by tracepoint, the predicate a hit must pass to be
	// sent.
	filter map[string]*Pred
	// wakeAt is how many bytes may wait in the ring buffer before a
	// record wakes the reader; below it records are submitted without a
	// wakeup, and the reader polls (readPoll). 0 wakes on every record.
	wakeAt int32
}

// Flags of bpf_ringbuf_submit and bpf_ringbuf_discard, and what
// bpf_ringbuf_query reports (include/uapi/linux/bpf.h).
const (
	rbNoWakeup    = 1
	rbForceWakeup = 2
	rbAvailData   = 0
)

// ringRecord is the room a record of size bytes takes in the ring buffer:
// an 8-byte header, and the data padded to 8 bytes.
func ringRecord(size int) int { return 8 + (size+7)&^7 }

// compileProgram generates one program for the sites. With one site it
// needs no cookie; with several it dispatches on the BPF cookie, the
// site id.
//
// Registers: R6 the context (pt_regs), R7 the ring buffer record, R8 the
// load bias, R9 the current tgid<<32|tid.
func compileProgram(t *regTable, sites []*site, cfg progConfig) (asm.Instructions, error) {
	b := &builder{}
	b.emit(
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.FnGetCurrentPidTgid.Call(),
		asm.Mov.Reg(asm.R9, asm.R0),
	)
	if cfg.PID > 0 {
		b.emit(
			asm.RSh.Imm(asm.R0, 32),
			asm.JNE.Imm(asm.R0, int32(cfg.PID), labelExit),
		)
	}
	if len(sites) == 1 {
		b.emit(asm.Mov.Imm(asm.R0, int32(sites[0].id)))
	} else {
		b.emit(
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.FnGetAttachCookie.Call(),
		)
	}
	// Count the hit under key 2*id, where the reader cannot.
	b.emit(asm.StoreMem(asm.RFP, stackSite, asm.R0, asm.DWord))
	if slices.ContainsFunc(sites, func(s *site) bool { return s.kernelHits }) {
		count(b, 0, "hit")
	}
	b.emit(asm.LoadMem(asm.R0, asm.RFP, stackSite, asm.DWord))
	if len(sites) > 1 {
		dispatch(b, sites)
	}
	for _, s := range sites {
		compile := compileSite
		if cfg.agg != nil {
			compile = compileAggSite
		}
		if err := compile(b, t, s, cfg); err != nil {
			return nil, fmt.Errorf("call site %d of %s: %w", s.index, s.probe.ID(), err)
		}
	}
	// A full ring buffer (or a full aggregation map): count the lost
	// event (or dropped key) under key 2*id+1.
	b.label("lost")
	count(b, 1, "lost")
	b.label(labelExit)
	b.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	insns := b.finish()
	if len(insns) > math.MaxInt16 {
		return nil, fmt.Errorf("program of %d instructions is too long", len(insns))
	}
	return insns, nil
}

// count adds one to the counter 2*id+add of the site id on the stack.
func count(b *builder, add int32, name string) {
	skip := "count_" + name
	b.emit(
		asm.LoadMem(asm.R1, asm.RFP, stackSite, asm.DWord),
		asm.LSh.Imm(asm.R1, 1),
	)
	if add != 0 {
		b.emit(asm.Add.Imm(asm.R1, add))
	}
	b.emit(
		asm.StoreMem(asm.RFP, stackKey, asm.R1, asm.Word),
		mapPtr(asm.R1, refCounters),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stackKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, skip),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
	)
	b.label(skip)
}

func siteLabel(id uint32) string { return fmt.Sprintf("site_%d", id) }

// dispatch jumps to the site whose id is in R0 by binary search; ids are
// ascending. An unknown id exits.
func dispatch(b *builder, sites []*site) {
	var tree func(lo, hi int)
	tree = func(lo, hi int) {
		if hi-lo <= 2 {
			for _, s := range sites[lo:hi] {
				b.emit(asm.JEq.Imm(asm.R0, int32(s.id), siteLabel(s.id)))
			}
			b.emit(asm.Ja.Label(labelExit))
			return
		}
		mid := (lo + hi) / 2
		right := fmt.Sprintf("ge_%d", sites[mid].id)
		b.emit(asm.JGE.Imm(asm.R0, int32(sites[mid].id), right))
		tree(lo, mid)
		b.label(right)
		tree(mid, hi)
	}
	tree(0, len(sites))
}

// compileSite generates the code of one call site: reserve its record,
// fill the header, read every argument, submit.
func compileSite(b *builder, t *regTable, s *site, cfg progConfig) error {
	got := fmt.Sprintf("got_%d", s.id)
	b.label(siteLabel(s.id))
	b.emit(
		mapPtr(asm.R1, refRing),
		asm.Mov.Imm(asm.R2, int32(s.size)),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
		asm.JNE.Imm(asm.R0, 0, got),
		asm.Ja.Label("lost"),
	)
	b.label(got)
	b.emit(
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.StoreMem(asm.R7, offPIDTGID, asm.R9, asm.DWord),
		asm.StoreImm(asm.R7, offSite, int64(s.id), asm.Word),
		asm.StoreImm(asm.R7, offSite+4, 0, asm.Word),
		asm.FnKtimeGetNs.Call(),
		asm.StoreMem(asm.R7, offTime, asm.R0, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.R7),
		asm.Add.Imm(asm.R1, offComm),
		asm.Mov.Imm(asm.R2, 16),
		asm.FnGetCurrentComm.Call(),
	)
	if s.bias {
		// The load bias: where the call site is now minus where the file
		// says it is. A uprobe sees the instruction pointer at the probe.
		b.emit(
			asm.LoadMem(asm.R8, asm.R6, t.ip, asm.DWord),
			asm.LoadImm(asm.R1, int64(s.cs.Address), asm.DWord),
			asm.Sub.Reg(asm.R8, asm.R1),
		)
	}
	for i := range s.args {
		if err := compileArg(b, t, &s.args[i], slotOff(i), cfg); err != nil {
			return err
		}
	}
	filter := cfg.filter[s.probe.ID()]
	for i := range s.args {
		if pl := &s.args[i]; filter != nil && pl.static == nil && pl.read.Kind == ReadString {
			zero(b, asm.R7, pl.dataOff, pl.dataLen) // compared with the bytes after its end
		}
		compileRead(b, s, i, cfg)
	}
	if filter != nil {
		// A hit the filter does not pass is discarded, not sent.
		pass, drop := fmt.Sprintf("send_%d", s.id), fmt.Sprintf("discard_%d", s.id)
		if err := compilePred(b, s, filter, pass, drop, fmt.Sprintf("f%d", s.id)); err != nil {
			return err
		}
		b.label(drop)
		b.emit(
			asm.Mov.Reg(asm.R1, asm.R7),
			asm.Mov.Imm(asm.R2, rbNoWakeup),
			asm.FnRingbufDiscard.Call(),
			asm.Ja.Label(labelExit),
		)
		b.label(pass)
	}
	// A wakeup costs the traced thread more than the rest of the hit, so
	// records go in quietly, and the one that brings the waiting bytes
	// (its own included) to wakeAt wakes the reader. A reader awake reads
	// until the ring is empty; one that misses a wakeup (two CPUs
	// crossing at once) still polls.
	if cfg.wakeAt > 0 {
		quiet := fmt.Sprintf("quiet_%d", s.id)
		b.emit(
			mapPtr(asm.R1, refRing),
			asm.Mov.Imm(asm.R2, rbAvailData),
			asm.FnRingbufQuery.Call(),
			asm.Mov.Imm(asm.R2, rbNoWakeup),
			asm.JLT.Imm(asm.R0, cfg.wakeAt, quiet),
			asm.JGE.Imm(asm.R0, cfg.wakeAt+int32(ringRecord(s.size)), quiet),
			asm.Mov.Imm(asm.R2, rbForceWakeup),
		)
		b.label(quiet)
	} else {
		b.emit(asm.Mov.Imm(asm.R2, 0))
	}
	b.emit(
		asm.Mov.Reg(asm.R1, asm.R7),
		asm.FnRingbufSubmit.Call(),
		asm.Ja.Label(labelExit),
	)
	return nil
}

// loadReg loads register r, shifted down to its named part (%ah), into dst.
func loadReg(b *builder, t *regTable, dst asm.Register, r elf.Register) error {
	off, ok := t.off[r.Canonical]
	if !ok {
		return fmt.Errorf("register %s is not in the %s table", r.Name, t.arch)
	}
	b.emit(asm.LoadMem(dst, asm.R6, off, asm.DWord))
	if r.Shift > 0 {
		b.emit(asm.RSh.Imm(dst, int32(r.Shift)))
	}
	return nil
}

// extend keeps the low size bytes of dst, sign- or zero-extended.
func extend(b *builder, dst asm.Register, size int, signed bool) {
	if size <= 0 || size >= 8 {
		return
	}
	sh := int32(64 - 8*size)
	if signed {
		b.emit(asm.LSh.Imm(dst, sh), asm.ArSh.Imm(dst, sh))
		return
	}
	if size == 4 {
		b.emit(asm.Mov.Reg32(dst, dst))
		return
	}
	b.emit(asm.And.Imm(dst, int32(1)<<(8*size)-1))
}

// extendConst does what extend does, at compile time.
func extendConst(v int64, size int, signed bool) int64 {
	if size <= 0 || size >= 8 {
		return v
	}
	sh := uint(64 - 8*size)
	if signed {
		return v << sh >> sh
	}
	return int64(uint64(v) << sh >> sh)
}

// addConst adds a 64-bit constant to dst, using scratch when it does not
// fit an immediate.
func addConst(b *builder, dst, scratch asm.Register, v int64) {
	switch {
	case v == 0:
	case v >= math.MinInt32 && v <= math.MaxInt32:
		b.emit(asm.Add.Imm(dst, int32(v)))
	default:
		b.emit(asm.LoadImm(scratch, v, asm.DWord), asm.Add.Reg(dst, scratch))
	}
}

// compileArg reads one argument's value into its slot.
func compileArg(b *builder, t *regTable, pl *argPlan, slot int16, cfg progConfig) error {
	a := &pl.arg
	zeroErr := []asm.Instruction{
		asm.StoreImm(asm.R7, slot+slotErr, 0, asm.Word),
		asm.StoreImm(asm.R7, slot+slotRet, 0, asm.Word),
	}
	if pl.static != nil {
		b.emit(storeZero64(asm.R7, slot))
		b.emit(zeroErr...)
		return nil
	}
	loc := &a.Loc
	switch loc.Kind {
	case elf.LocRegister:
		if err := loadReg(b, t, asm.R1, loc.Reg); err != nil {
			return err
		}
		extend(b, asm.R1, a.Size, a.Signed)
		b.emit(asm.StoreMem(asm.R7, slot, asm.R1, asm.DWord))
		b.emit(zeroErr...)
	case elf.LocConstant:
		if loc.Absolute {
			b.emit(asm.LoadImm(asm.R1, loc.Value+int64(loc.SymbolAddr), asm.DWord), asm.Add.Reg(asm.R1, asm.R8))
			extend(b, asm.R1, a.Size, a.Signed)
		} else {
			b.emit(asm.LoadImm(asm.R1, extendConst(loc.Value, a.Size, a.Signed), asm.DWord))
		}
		b.emit(asm.StoreMem(asm.R7, slot, asm.R1, asm.DWord))
		b.emit(zeroErr...)
	case elf.LocMemory:
		// The address, in R3: base + index*scale + offset (+ symbol + bias).
		wrap32 := t.addr32
		if loc.Base.IsZero() {
			b.emit(asm.Mov.Imm(asm.R3, 0))
		} else {
			if err := loadReg(b, t, asm.R3, loc.Base); err != nil {
				return err
			}
			wrap32 = wrap32 || loc.Base.Size == 4
		}
		if !loc.Index.IsZero() {
			if err := loadReg(b, t, asm.R2, loc.Index); err != nil {
				return err
			}
			if loc.Scale > 1 {
				b.emit(asm.LSh.Imm(asm.R2, int32(bits.TrailingZeros(uint(loc.Scale)))))
			}
			b.emit(asm.Add.Reg(asm.R3, asm.R2))
			wrap32 = wrap32 || loc.Index.Size == 4
		}
		disp := loc.Offset
		if loc.Absolute {
			disp += int64(loc.SymbolAddr)
		}
		addConst(b, asm.R3, asm.R2, disp)
		if loc.Absolute {
			b.emit(asm.Add.Reg(asm.R3, asm.R8))
		}
		if wrap32 {
			b.emit(asm.Mov.Reg32(asm.R3, asm.R3))
		}
		b.emit(
			storeZero64(asm.R7, slot),
			asm.Mov.Reg(asm.R1, asm.R7),
			asm.Add.Imm(asm.R1, int32(slot)),
			asm.Mov.Imm(asm.R2, int32(a.Size)),
			readUser(cfg).Call(),
			asm.StoreMem(asm.R7, slot+slotErr, asm.R0, asm.Word),
			asm.StoreImm(asm.R7, slot+slotRet, 0, asm.Word),
		)
		if a.Size < 8 {
			b.emit(asm.LoadMem(asm.R1, asm.R7, slot, asm.DWord))
			extend(b, asm.R1, a.Size, a.Signed)
			b.emit(asm.StoreMem(asm.R7, slot, asm.R1, asm.DWord))
		}
	default:
		return fmt.Errorf("arg%d: no code for %v operands", a.Index, loc.Kind)
	}
	return nil
}

// compileRead reads the string or buffer argument i points to into its
// data area, and the helper's result into the slot.
func compileRead(b *builder, s *site, i int, cfg progConfig) {
	pl := &s.args[i]
	if pl.static != nil || pl.read.Kind == ReadInt {
		return
	}
	slot := slotOff(i)
	b.emit(
		asm.Mov.Reg(asm.R1, asm.R7),
		asm.Add.Imm(asm.R1, int32(pl.dataOff)),
	)
	fn := readUser(cfg)
	switch {
	case pl.read.Kind == ReadString:
		fn = asm.FnProbeReadUserStr
		b.emit(asm.Mov.Imm(asm.R2, int32(pl.dataLen)))
	case pl.read.LenArg > 0:
		ok := fmt.Sprintf("len_%d_%d", s.id, i)
		b.emit(
			asm.LoadMem(asm.R2, asm.R7, slotOff(pl.read.LenArg-1), asm.DWord),
			asm.JLE.Imm(asm.R2, int32(pl.dataLen), ok),
			asm.Mov.Imm(asm.R2, int32(pl.dataLen)),
		)
		b.label(ok)
	default:
		b.emit(asm.Mov.Imm(asm.R2, int32(pl.dataLen)))
	}
	b.emit(
		asm.LoadMem(asm.R3, asm.R7, slot, asm.DWord),
		fn.Call(),
	)
	if pl.read.Kind == ReadString && cfg.Sleepable {
		faultString(b, s, i)
	}
	b.emit(asm.StoreMem(asm.R7, slot+slotRet, asm.R0, asm.Word))
}

// readUser is the helper that reads user memory: one that faults pages
// in when the program may sleep.
func readUser(cfg progConfig) asm.BuiltinFunc {
	if cfg.Sleepable {
		return asm.FnCopyFromUser
	}
	return asm.FnProbeReadUser
}

const efault = -14

// faultString follows a string read that failed with EFAULT: it faults
// in the page the read stopped in with bpf_copy_from_user of one byte
// and reads again, once per page the string's buffer may span. A page
// that cannot be faulted in ends it with EFAULT.
func faultString(b *builder, s *site, i int) {
	pl := &s.args[i]
	slot := slotOff(i)
	done := fmt.Sprintf("str_%d_%d", s.id, i)
	pages := (pl.dataLen+4094)/4096 + 1
	for k := 0; k < pages; k++ {
		b.emit(
			asm.JNE.Imm(asm.R0, efault, done),
			asm.LoadMem(asm.R3, asm.R7, slot, asm.DWord),
		)
		if k > 0 {
			b.emit(asm.And.Imm(asm.R3, -4096), asm.Add.Imm(asm.R3, int32(4096*k)))
		}
		b.emit(
			asm.Mov.Reg(asm.R1, asm.R7),
			asm.Add.Imm(asm.R1, int32(pl.dataOff)),
			asm.Mov.Imm(asm.R2, 1),
			asm.FnCopyFromUser.Call(),
			asm.JEq.Imm(asm.R0, 0, done+fmt.Sprintf("_retry%d", k)),
			asm.Mov.Imm(asm.R0, efault),
			asm.Ja.Label(done),
		)
		b.label(done + fmt.Sprintf("_retry%d", k))
		b.emit(
			asm.Mov.Reg(asm.R1, asm.R7),
			asm.Add.Imm(asm.R1, int32(pl.dataOff)),
			asm.Mov.Imm(asm.R2, int32(pl.dataLen)),
			asm.LoadMem(asm.R3, asm.R7, slot, asm.DWord),
			asm.FnProbeReadUserStr.Call(),
		)
	}
	b.label(done)
}
