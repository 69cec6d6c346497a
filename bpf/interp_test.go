package bpf

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// interp runs a generated program the way the kernel would run it from a
// uprobe, without a kernel: the context is the register block the kernel
// passes (built by the test, at the offsets of the kernel's struct), user
// memory is a set of regions only the read helpers reach, and the helpers
// the programs call are modelled. It runs only the instructions the
// generator emits and fails on anything else, so a program that reads
// a register at a wrong offset, or user memory without a helper, or that
// reads a register it never set or that a call clobbered (which the
// verifier refuses), gives a wrong value or an error.
type interp struct {
	ctx     []byte            // the uprobe's context
	user    map[uint64][]byte // user memory, by start address
	cookie  uint64            // the BPF cookie: the site id
	pidTgid uint64

	kernel    []*region // ctx, stack, map values, ring buffer records
	counters  map[uint32]*region
	records   []*region // reserved records, in order
	submitted []*region
	steps     int
}

type region struct {
	base uint64
	data []byte
}

// Where the interpreter puts kernel memory; user addresses are below.
const (
	ctxBase     = 0xffff_8000_0000_0000
	stackBase   = 0xffff_8000_0001_0000
	stackSize   = 512
	mapsBase    = 0xffff_8000_0002_0000
	ringBase    = 0xffff_8000_1000_0000
	ringStep    = 0x10000
	clobbered   = 0xdead_beef_dead_beef
	interpSteps = 1 << 20
)

var mapAddr = map[string]uint64{refRing: mapsBase, refCounters: mapsBase + 0x100}

func (m *interp) find(addr uint64, size int) ([]byte, error) {
	for _, r := range m.kernel {
		if addr >= r.base && addr+uint64(size) <= r.base+uint64(len(r.data)) && addr+uint64(size) >= addr {
			return r.data[addr-r.base : addr-r.base+uint64(size)], nil
		}
	}
	return nil, fmt.Errorf("access of %d bytes at %#x: not kernel memory the program may touch", size, addr)
}

// readUser copies user memory as bpf_probe_read_user does: all or nothing.
func (m *interp) readUser(addr uint64, size int) ([]byte, bool) {
	for base, data := range m.user {
		if addr >= base && addr+uint64(size) <= base+uint64(len(data)) {
			return data[addr-base : addr-base+uint64(size)], true
		}
	}
	return nil, false
}

func sizeBytes(s asm.Size) int {
	switch s {
	case asm.Byte:
		return 1
	case asm.Half:
		return 2
	case asm.Word:
		return 4
	case asm.DWord:
		return 8
	}
	return 0
}

func (m *interp) load(addr uint64, size asm.Size) (uint64, error) {
	b, err := m.find(addr, sizeBytes(size))
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

func (m *interp) store(addr uint64, size asm.Size, v uint64) error {
	b, err := m.find(addr, sizeBytes(size))
	if err != nil {
		return err
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	copy(b, buf[:])
	return nil
}

// run executes insns and returns R0 at exit.
func (m *interp) run(insns asm.Instructions) (uint64, error) {
	m.kernel = []*region{{base: ctxBase, data: m.ctx}, {base: stackBase, data: make([]byte, stackSize)}}
	m.counters = map[uint32]*region{}
	labels := map[string]int{}
	for i, ins := range insns {
		if s := ins.Symbol(); s != "" {
			labels[s] = i
		}
	}
	var r [11]uint64
	var set [11]bool
	r[asm.R1], set[asm.R1] = ctxBase, true
	r[asm.R10], set[asm.R10] = stackBase+stackSize, true
	var unset error
	get := func(reg asm.Register) uint64 {
		if !set[reg] && unset == nil {
			unset = fmt.Errorf("reads %v, which holds no value here", reg)
		}
		return r[reg]
	}
	last := -1
	for pc := 0; ; {
		if unset != nil {
			return 0, fmt.Errorf("insn %d %v: %w", last, insns[last], unset)
		}
		if m.steps++; m.steps > interpSteps {
			return 0, fmt.Errorf("more than %d steps", interpSteps)
		}
		if pc < 0 || pc >= len(insns) {
			return 0, fmt.Errorf("pc %d out of the program", pc)
		}
		ins := insns[pc]
		op := ins.OpCode
		fail := func(err error) (uint64, error) { return 0, fmt.Errorf("insn %d %v: %w", pc, ins, err) }
		last = pc
		pc++
		switch op.Class() {
		case asm.ALU64Class, asm.ALUClass:
			src := uint64(ins.Constant)
			if op.Source() == asm.RegSource {
				src = get(ins.Src)
			}
			var dst uint64
			if op.ALUOp() != asm.Mov {
				dst = get(ins.Dst)
			}
			wide := op.Class() == asm.ALU64Class
			if !wide {
				src, dst = uint64(uint32(src)), uint64(uint32(dst))
			}
			var v uint64
			switch op.ALUOp() {
			case asm.Mov:
				v = src
			case asm.Add:
				v = dst + src
			case asm.Sub:
				v = dst - src
			case asm.And:
				v = dst & src
			case asm.Or:
				v = dst | src
			case asm.LSh:
				v = dst << (src & 63)
			case asm.RSh:
				v = dst >> (src & 63)
			case asm.ArSh:
				if wide {
					v = uint64(int64(dst) >> (src & 63))
				} else {
					v = uint64(uint32(int32(uint32(dst)) >> (src & 31)))
				}
			default:
				return fail(fmt.Errorf("ALU op %v not modelled", op.ALUOp()))
			}
			if !wide {
				v = uint64(uint32(v))
			}
			r[ins.Dst], set[ins.Dst] = v, true
		case asm.LdClass:
			if !op.IsDWordLoad() {
				return fail(fmt.Errorf("load mode not modelled"))
			}
			if ins.IsLoadFromMap() {
				a, ok := mapAddr[ins.Reference()]
				if !ok {
					return fail(fmt.Errorf("unknown map %q", ins.Reference()))
				}
				r[ins.Dst] = a
			} else {
				r[ins.Dst] = uint64(ins.Constant)
			}
			set[ins.Dst] = true
		case asm.LdXClass:
			if op.Mode() != asm.MemMode {
				return fail(fmt.Errorf("load mode %v not modelled", op.Mode()))
			}
			v, err := m.load(get(ins.Src)+uint64(int64(ins.Offset)), op.Size())
			if err == nil {
				err = unset
			}
			if err != nil {
				return fail(err)
			}
			r[ins.Dst], set[ins.Dst] = v, true
		case asm.StClass:
			if err := m.store(get(ins.Dst)+uint64(int64(ins.Offset)), op.Size(), uint64(ins.Constant)); err != nil {
				return fail(err)
			}
		case asm.StXClass:
			addr, src := get(ins.Dst)+uint64(int64(ins.Offset)), get(ins.Src)
			if unset != nil {
				return fail(unset)
			}
			switch op.Mode() {
			case asm.MemMode:
				if err := m.store(addr, op.Size(), src); err != nil {
					return fail(err)
				}
			case asm.AtomicMode:
				if op.AtomicOp() != asm.AddAtomic {
					return fail(fmt.Errorf("atomic op %v not modelled", op.AtomicOp()))
				}
				v, err := m.load(addr, op.Size())
				if err == nil {
					err = m.store(addr, op.Size(), v+src)
				}
				if err != nil {
					return fail(err)
				}
			default:
				return fail(fmt.Errorf("store mode %v not modelled", op.Mode()))
			}
		case asm.JumpClass:
			jop := op.JumpOp()
			switch jop {
			case asm.Exit:
				return get(asm.R0), unset
			case asm.Call:
				if !ins.IsBuiltinCall() {
					return fail(fmt.Errorf("not a helper call"))
				}
				v, err := m.helper(asm.BuiltinFunc(ins.Constant), r[1:6])
				if err != nil {
					return fail(err)
				}
				r[asm.R0], set[asm.R0] = v, true
				for i := asm.R1; i <= asm.R5; i++ {
					r[i], set[i] = clobbered, false
				}
				continue
			}
			target, ok := labels[ins.Reference()]
			if !ok {
				return fail(fmt.Errorf("jump to unknown label %q", ins.Reference()))
			}
			if jop == asm.Ja {
				pc = target
				continue
			}
			a, b := get(ins.Dst), uint64(ins.Constant)
			if op.Source() == asm.RegSource {
				b = get(ins.Src)
			}
			if unset != nil {
				return fail(unset)
			}
			var taken bool
			switch jop {
			case asm.JEq:
				taken = a == b
			case asm.JNE:
				taken = a != b
			case asm.JGE:
				taken = a >= b
			case asm.JGT:
				taken = a > b
			case asm.JLE:
				taken = a <= b
			case asm.JLT:
				taken = a < b
			default:
				return fail(fmt.Errorf("jump op %v not modelled", jop))
			}
			if taken {
				pc = target
			}
		default:
			return fail(fmt.Errorf("instruction class %v not modelled", op.Class()))
		}
	}
}

const errFault = uint64(1<<64 - 14) // -EFAULT

// helper models the helpers the generated programs call.
func (m *interp) helper(fn asm.BuiltinFunc, a []uint64) (uint64, error) {
	switch fn {
	case asm.FnGetCurrentPidTgid:
		return m.pidTgid, nil
	case asm.FnGetAttachCookie:
		if a[0] != ctxBase {
			return 0, fmt.Errorf("bpf_get_attach_cookie(%#x): not the context", a[0])
		}
		return m.cookie, nil
	case asm.FnKtimeGetNs:
		return 1e9, nil
	case asm.FnMapLookupElem:
		if a[0] != mapAddr[refCounters] {
			return 0, fmt.Errorf("lookup in map %#x", a[0])
		}
		k, err := m.load(a[1], asm.Word)
		if err != nil {
			return 0, err
		}
		key := uint32(k)
		if c, ok := m.counters[key]; ok {
			return c.base, nil
		}
		c := &region{base: mapAddr[refCounters] + 0x1000 + 8*uint64(key), data: make([]byte, 8)}
		m.counters[key] = c
		m.kernel = append(m.kernel, c)
		return c.base, nil
	case asm.FnRingbufReserve:
		if a[0] != mapAddr[refRing] || a[2] != 0 || a[1] == 0 || a[1] > ringStep {
			return 0, fmt.Errorf("bpf_ringbuf_reserve(%#x, %d, %d)", a[0], a[1], a[2])
		}
		rec := &region{base: ringBase + ringStep*uint64(len(m.records)), data: make([]byte, a[1])}
		for i := range rec.data {
			rec.data[i] = 0xa5 // what the ring held before: never zeroed
		}
		m.records = append(m.records, rec)
		m.kernel = append(m.kernel, rec)
		return rec.base, nil
	case asm.FnRingbufSubmit:
		for _, rec := range m.records {
			if rec.base == a[0] {
				m.submitted = append(m.submitted, rec)
				return 0, nil
			}
		}
		return 0, fmt.Errorf("bpf_ringbuf_submit(%#x): not a reserved record", a[0])
	case asm.FnGetCurrentComm:
		dst, err := m.find(a[0], int(a[1]))
		if err != nil {
			return 0, err
		}
		clear(dst)
		copy(dst[:len(dst)-1], "proc")
		return 0, nil
	case asm.FnProbeReadUser, asm.FnCopyFromUser:
		dst, err := m.find(a[0], int(a[1]))
		if err != nil {
			return 0, err
		}
		src, ok := m.readUser(a[2], int(a[1]))
		if !ok {
			clear(dst)
			return errFault, nil
		}
		copy(dst, src)
		return 0, nil
	case asm.FnProbeReadUserStr:
		dst, err := m.find(a[0], int(a[1]))
		if err != nil {
			return 0, err
		}
		if len(dst) == 0 {
			return 0, nil
		}
		for i := 0; i < len(dst)-1; i++ {
			c, ok := m.readUser(a[2]+uint64(i), 1)
			if !ok {
				return errFault, nil
			}
			dst[i] = c[0]
			if c[0] == 0 {
				return uint64(i + 1), nil
			}
		}
		dst[len(dst)-1] = 0
		return uint64(len(dst)), nil
	}
	return 0, fmt.Errorf("helper %v not modelled", fn)
}
