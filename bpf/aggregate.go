package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Aggregation makes a session count in the kernel instead of sending
// events: every hit that passes the predicate adds to the row of its
// key, a struct of the tracepoint and the Fields, in a per-CPU hash map
// of at most MaxKeys rows. A hit whose key finds no room is counted as
// dropped (Stats' Lost), never silently.
type Aggregation struct {
	// Fields are the key's fields after the tracepoint, the same for
	// every tracepoint.
	Fields []Field
	// Value is what is aggregated besides the count.
	Value ValueKind
	// Linear buckets, for ValueLinear: [Min, Max) in steps of Step.
	Min, Max, Step int64
	// MaxKeys bounds the rows.
	MaxKeys int
	// Tracepoints say, by "provider:name", which argument each field and
	// the value take, and which hits count. Every attached tracepoint has
	// one.
	Tracepoints map[string]AggTracepoint
}

// FieldKind is what one field of a key holds.
type FieldKind uint8

const (
	FieldArg  FieldKind = iota // an argument, read as its ArgRead says
	FieldPID                   // the process id
	FieldTID                   // the thread id
	FieldComm                  // the thread's name, 16 bytes
)

// Field is one field of a key.
type Field struct {
	Kind FieldKind
	// Size is a FieldArg's room in the key: 8 for an integer; for a
	// string or buffer the bytes kept of what is read (its read's MaxLen
	// and two more keep a string whole and tell one cut at MaxLen), zero
	// after its end.
	Size int
}

// ValueKind is what is aggregated of a value argument.
type ValueKind uint8

const (
	ValueCount  ValueKind = iota // the count only
	ValueSum                     // count and sum
	ValueStats                   // count, sum, min and max
	ValueHist                    // count, sum, min, max and power-of-two buckets
	ValueLinear                  // count, sum, min, max and linear buckets
)

// AggTracepoint is how one tracepoint fills the key and the value.
type AggTracepoint struct {
	// Args are, for each Field of kind FieldArg in order, the index of
	// the argument it takes.
	Args []int
	// Value is the index of the argument aggregated, -1 without one;
	// Signed compares and buckets it as signed.
	Value  int
	Signed bool
	// Where, when not nil, decides which hits count.
	Where *Pred
}

// PredOp is a predicate's operation.
type PredOp uint8

const (
	PredCmp PredOp = iota // Arg Cmp Int (or Str)
	PredAnd
	PredOr
	PredNot
	PredTrue  // always: a comparison decided before the program runs
	PredFalse // never
)

// CmpOp is a comparison.
type CmpOp uint8

const (
	CmpEq CmpOp = iota
	CmpNe
	CmpLt
	CmpLe
	CmpGt
	CmpGe
)

// Pred is a predicate over one hit's arguments (and pid, tid, comm),
// compiled to BPF: comparisons of integers with constants and equality
// of strings with constants, joined by and, or and not.
type Pred struct {
	Op   PredOp
	L, R *Pred // the operands of And, Or (both) and Not (L)
	// For PredCmp: the field compared (Kind FieldArg with Arg its index,
	// or FieldPID, FieldTID), the comparison, and the constant: Int for
	// an integer, Str for a string (Eq and Ne only; the argument must be
	// read as a string).
	Field  FieldKind
	Arg    int
	Cmp    CmpOp
	Int    int64
	Str    string
	IsStr  bool
	Signed bool // compare Int as signed
}

// Buckets of ValueHist: one for negative values, one for zero, and one
// per power of two: [1,2), [2,4), ... [2^63, 2^64).
const histBuckets = 2 + 64

// Limits of the kernel's maps that keys and the scratch area must fit.
const (
	maxKeySize     = 512      // MAX_BPF_STACK: a hash map's key
	maxScratchSize = 32 << 10 // PCPU_MIN_UNIT_SIZE: a per-CPU value
	maxLinear      = 1024     // linear buckets
)

// Value layout in the aggregation map: count, sum, min, max (8 bytes
// each), then the buckets' counts.
const (
	valCount   = 0
	valSum     = 8
	valMin     = 16
	valMax     = 24
	valBuckets = 32
)

// NumBuckets is how many buckets a row's value has: 66 for ValueHist,
// the linear ones and one below and one above for ValueLinear, else 0.
func (a *Aggregation) NumBuckets() int {
	switch a.Value {
	case ValueHist:
		return histBuckets
	case ValueLinear:
		return int((a.Max-a.Min+a.Step-1)/a.Step) + 2
	}
	return 0
}

func (a *Aggregation) valueSize() int { return valBuckets + 8*a.NumBuckets() }

// keySize is the size of a key: the tracepoint (8 bytes) and the fields.
func (a *Aggregation) keySize() int {
	n := 8
	for _, f := range a.Fields {
		n += a.fieldRoom(f)
	}
	return n
}

func (a *Aggregation) fieldRoom(f Field) int {
	switch f.Kind {
	case FieldComm:
		return 16
	case FieldArg:
		return (f.Size + 7) &^ 7
	}
	return 8
}

// check validates the aggregation against the attached probes' reads.
func (a *Aggregation) check(sites []*site) error {
	if a.Value == ValueLinear {
		if a.Step <= 0 || a.Max <= a.Min {
			return fmt.Errorf("aggregate: linear buckets need MIN < MAX and STEP > 0")
		}
		if n := (a.Max - a.Min + a.Step - 1) / a.Step; n > maxLinear || n < 0 {
			return fmt.Errorf("aggregate: %d linear buckets; at most %d", n, maxLinear)
		}
	}
	if a.MaxKeys <= 0 {
		return fmt.Errorf("aggregate: the map needs room for at least one key")
	}
	if n := a.keySize(); n > maxKeySize {
		return fmt.Errorf("aggregate: a key takes %d bytes, the kernel allows %d: read shorter strings (--strlen) or use fewer keys", n, maxKeySize)
	}
	for _, s := range sites {
		at, ok := a.Tracepoints[s.probe.ID()]
		if !ok {
			return fmt.Errorf("aggregate: no key for tracepoint %s", s.probe.ID())
		}
		nargs := 0
		for _, f := range a.Fields {
			if f.Kind == FieldArg {
				nargs++
			}
		}
		if len(at.Args) != nargs {
			return fmt.Errorf("aggregate: tracepoint %s names %d arguments for %d fields", s.probe.ID(), len(at.Args), nargs)
		}
		for _, i := range at.Args {
			if i < 0 || i >= len(s.args) {
				return fmt.Errorf("aggregate: tracepoint %s has no argument %d", s.probe.ID(), i)
			}
		}
		if at.Value >= len(s.args) || (at.Value >= 0 && s.args[at.Value].read.Kind != ReadInt) {
			return fmt.Errorf("aggregate: tracepoint %s: argument %d is no integer to aggregate", s.probe.ID(), at.Value)
		}
		if err := checkPred(at.Where, s); err != nil {
			return fmt.Errorf("aggregate: tracepoint %s: %w", s.probe.ID(), err)
		}
		if n := s.scratchSize(a); n > maxScratchSize {
			return fmt.Errorf("aggregate: tracepoint %s reads %d bytes per hit, at most %d: read shorter strings or buffers", s.probe.ID(), n, maxScratchSize)
		}
	}
	return nil
}

func checkPred(p *Pred, s *site) error {
	if p == nil {
		return nil
	}
	switch p.Op {
	case PredAnd, PredOr:
		if p.L == nil || p.R == nil {
			return errors.New("predicate: and/or needs two operands")
		}
		if err := checkPred(p.L, s); err != nil {
			return err
		}
		return checkPred(p.R, s)
	case PredNot:
		if p.L == nil {
			return errors.New("predicate: not needs an operand")
		}
		return checkPred(p.L, s)
	case PredTrue, PredFalse:
		return nil
	case PredCmp:
		if p.Field != FieldArg {
			if p.IsStr || p.Field == FieldComm && !p.IsStr {
				if p.Field == FieldComm && p.IsStr && (p.Cmp == CmpEq || p.Cmp == CmpNe) {
					return nil
				}
				return errors.New("predicate: pid and tid compare with integers, comm with strings (== or !=)")
			}
			return nil
		}
		if p.Arg < 0 || p.Arg >= len(s.args) {
			return fmt.Errorf("predicate: no argument %d", p.Arg)
		}
		read := s.args[p.Arg].read
		switch {
		case p.IsStr && read.Kind != ReadString:
			return fmt.Errorf("predicate: argument %d is not read as a string", p.Arg)
		case p.IsStr && p.Cmp != CmpEq && p.Cmp != CmpNe:
			return errors.New("predicate: strings compare with == and != only")
		case !p.IsStr && read.Kind != ReadInt:
			return fmt.Errorf("predicate: argument %d is not an integer", p.Arg)
		}
		return nil
	}
	return fmt.Errorf("predicate: unknown operation %d", p.Op)
}

// Offsets in a site's scratch area, the per-CPU buffer the aggregation
// programs read arguments into and build keys in: the record as a
// streaming program writes it (slots, strings and buffers), then the key,
// then a zero value for new rows, zeroed before each use: sites share the
// area, and a larger site's record or key overlaps a smaller one's zero
// value.
func (s *site) keyOff() int { return (s.size + 7) &^ 7 }

func (s *site) zeroOff(a *Aggregation) int { return s.keyOff() + a.keySize() }

func (s *site) scratchSize(a *Aggregation) int { return s.zeroOff(a) + a.valueSize() }

// needed are the arguments an aggregation site reads.
func (at *AggTracepoint) needed(n int) []bool {
	need := make([]bool, n)
	for _, i := range at.Args {
		need[i] = true
	}
	if at.Value >= 0 {
		need[at.Value] = true
	}
	var walk func(p *Pred)
	walk = func(p *Pred) {
		if p == nil {
			return
		}
		if p.Op == PredCmp && p.Field == FieldArg {
			need[p.Arg] = true
		}
		walk(p.L)
		walk(p.R)
	}
	walk(at.Where)
	return need
}

// Stack slot of the aggregation programs: the key (0) of the scratch map.
const stackScratchKey = -24

// compileAggSite generates the code of one call site of an aggregating
// program: read the arguments it needs into the scratch area, test the
// predicate, build the key, and add the hit to its row.
//
// Registers: R6 the context, R7 the scratch area, R8 the load bias and
// then the row's value, R9 the current tgid<<32|tid.
func compileAggSite(b *builder, t *regTable, s *site, cfg progConfig) error {
	a := cfg.agg
	at := a.Tracepoints[s.probe.ID()]
	got := fmt.Sprintf("scratch_%d", s.id)
	b.label(siteLabel(s.id))
	b.emit(
		asm.StoreImm(asm.RFP, stackScratchKey, 0, asm.Word),
		mapPtr(asm.R1, refScratch),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stackScratchKey),
		asm.FnMapLookupElem.Call(),
		asm.JNE.Imm(asm.R0, 0, got),
		asm.Ja.Label(labelExit),
	)
	b.label(got)
	b.emit(asm.Mov.Reg(asm.R7, asm.R0))
	if s.bias {
		b.emit(
			asm.LoadMem(asm.R8, asm.R6, t.ip, asm.DWord),
			asm.LoadImm(asm.R1, int64(s.cs.Address), asm.DWord),
			asm.Sub.Reg(asm.R8, asm.R1),
		)
	}
	need := at.needed(len(s.args))
	for i := range s.args {
		if need[i] {
			if err := compileArg(b, t, &s.args[i], slotOff(i), cfg); err != nil {
				return err
			}
		}
	}
	for i := range s.args {
		pl := &s.args[i]
		if !need[i] || pl.static != nil || pl.read.Kind == ReadInt {
			continue
		}
		// Zeroed first: a string or buffer is compared and keyed with
		// the bytes after its end, which must not be an earlier hit's.
		zero(b, asm.R7, pl.dataOff, pl.dataLen)
		compileRead(b, s, i, cfg)
	}
	skip := fmt.Sprintf("skip_%d", s.id)
	if at.Where != nil {
		pass := fmt.Sprintf("pass_%d", s.id)
		if err := compilePred(b, s, at.Where, pass, skip, fmt.Sprintf("p%d", s.id)); err != nil {
			return err
		}
		b.label(pass)
	}
	// The key.
	key := s.keyOff()
	zero(b, asm.R7, key, a.keySize())
	b.emit(asm.StoreImm(asm.R7, int16(key), int64(s.tracepoint), asm.Word))
	off, argN := key+8, 0
	for _, f := range a.Fields {
		switch f.Kind {
		case FieldPID:
			b.emit(asm.Mov.Reg(asm.R1, asm.R9), asm.RSh.Imm(asm.R1, 32), asm.StoreMem(asm.R7, int16(off), asm.R1, asm.DWord))
		case FieldTID:
			b.emit(asm.Mov.Reg32(asm.R1, asm.R9), asm.StoreMem(asm.R7, int16(off), asm.R1, asm.DWord))
		case FieldComm:
			b.emit(
				asm.Mov.Reg(asm.R1, asm.R7),
				asm.Add.Imm(asm.R1, int32(off)),
				asm.Mov.Imm(asm.R2, 16),
				asm.FnGetCurrentComm.Call(),
			)
		case FieldArg:
			pl := &s.args[at.Args[argN]]
			argN++
			switch {
			case pl.static != nil:
				// Unreadable: the field stays zero; the hit still counts.
			case pl.read.Kind == ReadInt:
				b.emit(asm.LoadMem(asm.R1, asm.R7, slotOff(pl.arg.Index), asm.DWord), asm.StoreMem(asm.R7, int16(off), asm.R1, asm.DWord))
			default:
				copyBytes(b, asm.R7, pl.dataOff, off, min(pl.dataLen, f.Size))
			}
		}
		off += a.fieldRoom(f)
	}
	// The row: looked up, else made from the zero value. Rows are never
	// deleted while the session lasts (Snapshot with reset subtracts), so
	// a row made here is there for the lookup after it.
	have := fmt.Sprintf("have_%d", s.id)
	lookup := func() {
		b.emit(
			mapPtr(asm.R1, refAgg),
			asm.Mov.Reg(asm.R2, asm.R7),
			asm.Add.Imm(asm.R2, int32(key)),
			asm.FnMapLookupElem.Call(),
		)
	}
	lookup()
	b.emit(asm.JNE.Imm(asm.R0, 0, have))
	// The scratch area is every site's: where this site's zero value
	// lies, another may have read its arguments or built its key.
	zero(b, asm.R7, s.zeroOff(a), a.valueSize())
	b.emit(
		mapPtr(asm.R1, refAgg),
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.Add.Imm(asm.R2, int32(key)),
		asm.Mov.Reg(asm.R3, asm.R7),
		asm.Add.Imm(asm.R3, int32(s.zeroOff(a))),
		asm.Mov.Imm(asm.R4, 1), // BPF_NOEXIST: another CPU may have made it
		asm.FnMapUpdateElem.Call(),
	)
	lookup()
	b.emit(
		asm.JNE.Imm(asm.R0, 0, have),
		asm.Ja.Label("lost"), // no room for the key: counted as dropped
	)
	b.label(have)
	b.emit(asm.Mov.Reg(asm.R8, asm.R0))
	if at.Value >= 0 {
		compileValue(b, a, s, at)
	}
	b.emit(
		asm.LoadMem(asm.R1, asm.R8, valCount, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R8, valCount, asm.R1, asm.DWord),
	)
	b.label(skip)
	b.emit(asm.Ja.Label(labelExit))
	return nil
}

// compileValue adds the value argument to the row in R8: sum, min, max
// and the bucket. Per-CPU rows need no atomic operations.
func compileValue(b *builder, a *Aggregation, s *site, at AggTracepoint) {
	id := s.id
	v := asm.R1
	b.emit(
		asm.LoadMem(v, asm.R7, slotOff(at.Value), asm.DWord),
		asm.LoadMem(asm.R2, asm.R8, valSum, asm.DWord),
		asm.Add.Reg(asm.R2, v),
		asm.StoreMem(asm.R8, valSum, asm.R2, asm.DWord),
	)
	if a.Value == ValueSum {
		return
	}
	first, notMin, notMax, done := fmt.Sprintf("first_%d", id), fmt.Sprintf("nmin_%d", id), fmt.Sprintf("nmax_%d", id), fmt.Sprintf("mm_%d", id)
	lt, gt := asm.JLT, asm.JGT
	if at.Signed {
		lt, gt = asm.JSLT, asm.JSGT
	}
	b.emit(
		asm.LoadMem(asm.R2, asm.R8, valCount, asm.DWord),
		asm.JEq.Imm(asm.R2, 0, first),
		asm.LoadMem(asm.R2, asm.R8, valMin, asm.DWord),
		lt.Reg(v, asm.R2, "setmin_"+fmt.Sprint(id)),
		asm.Ja.Label(notMin),
	)
	b.label("setmin_" + fmt.Sprint(id))
	b.emit(asm.StoreMem(asm.R8, valMin, v, asm.DWord))
	b.label(notMin)
	b.emit(
		asm.LoadMem(asm.R2, asm.R8, valMax, asm.DWord),
		gt.Reg(v, asm.R2, "setmax_"+fmt.Sprint(id)),
		asm.Ja.Label(notMax),
	)
	b.label("setmax_" + fmt.Sprint(id))
	b.emit(asm.StoreMem(asm.R8, valMax, v, asm.DWord))
	b.label(notMax)
	b.emit(asm.Ja.Label(done))
	b.label(first)
	b.emit(
		asm.StoreMem(asm.R8, valMin, v, asm.DWord),
		asm.StoreMem(asm.R8, valMax, v, asm.DWord),
	)
	b.label(done)
	idx := asm.R2
	bucket := fmt.Sprintf("bucket_%d", id)
	switch a.Value {
	case ValueHist:
		// 0: negative, 1: zero, 2+k: [2^k, 2^(k+1)).
		b.emit(asm.Mov.Imm(idx, 0))
		if at.Signed {
			b.emit(asm.JSLT.Imm(v, 0, bucket))
		}
		b.emit(
			asm.Mov.Imm(idx, 1),
			asm.JEq.Imm(v, 0, bucket),
			asm.Mov.Imm(idx, 2),
		)
		for _, shift := range []int32{32, 16, 8, 4, 2, 1} {
			next := fmt.Sprintf("log_%d_%d", id, shift)
			b.emit(
				asm.Mov.Reg(asm.R3, v),
				asm.RSh.Imm(asm.R3, shift),
				asm.JEq.Imm(asm.R3, 0, next),
				asm.Mov.Reg(v, asm.R3),
				asm.Add.Imm(idx, shift),
			)
			b.label(next)
		}
	case ValueLinear:
		below, above := fmt.Sprintf("below_%d", id), fmt.Sprintf("above_%d", id)
		ltImm, geImm := asm.JLT, asm.JGE
		if at.Signed {
			ltImm, geImm = asm.JSLT, asm.JSGE
		}
		n := int64(a.NumBuckets())
		b.emit(
			asm.LoadImm(asm.R3, a.Min, asm.DWord),
			ltImm.Reg(v, asm.R3, below),
			asm.LoadImm(asm.R4, a.Max, asm.DWord),
			geImm.Reg(v, asm.R4, above),
			asm.Sub.Reg(v, asm.R3),
			asm.LoadImm(asm.R3, a.Step, asm.DWord),
			asm.Div.Reg(v, asm.R3),
			asm.Mov.Reg(idx, v),
			asm.Add.Imm(idx, 1),
			asm.Ja.Label(bucket),
		)
		b.label(below)
		b.emit(asm.Mov.Imm(idx, 0), asm.Ja.Label(bucket))
		b.label(above)
		b.emit(asm.Mov.Imm(idx, int32(n-1)))
	default:
		return
	}
	b.label(bucket)
	// The verifier wants the index bounded before it indexes the value.
	out := fmt.Sprintf("nobucket_%d", id)
	b.emit(
		asm.JGE.Imm(idx, int32(a.NumBuckets()), out),
		asm.LSh.Imm(idx, 3),
		asm.Mov.Reg(asm.R3, asm.R8),
		asm.Add.Reg(asm.R3, idx),
		asm.LoadMem(asm.R4, asm.R3, valBuckets, asm.DWord),
		asm.Add.Imm(asm.R4, 1),
		asm.StoreMem(asm.R3, valBuckets, asm.R4, asm.DWord),
	)
	b.label(out)
}

// compilePred jumps to yes when p holds for the hit, else to no.
func compilePred(b *builder, s *site, p *Pred, yes, no, name string) error {
	switch p.Op {
	case PredAnd:
		mid := name + "a"
		if err := compilePred(b, s, p.L, mid, no, name+"l"); err != nil {
			return err
		}
		b.label(mid)
		return compilePred(b, s, p.R, yes, no, name+"r")
	case PredOr:
		mid := name + "o"
		if err := compilePred(b, s, p.L, yes, mid, name+"l"); err != nil {
			return err
		}
		b.label(mid)
		return compilePred(b, s, p.R, yes, no, name+"r")
	case PredNot:
		return compilePred(b, s, p.L, no, yes, name+"n")
	case PredTrue:
		b.emit(asm.Ja.Label(yes))
		return nil
	case PredFalse:
		b.emit(asm.Ja.Label(no))
		return nil
	}
	// A comparison: the value in R1.
	switch p.Field {
	case FieldPID:
		b.emit(asm.Mov.Reg(asm.R1, asm.R9), asm.RSh.Imm(asm.R1, 32))
	case FieldTID:
		b.emit(asm.Mov.Reg32(asm.R1, asm.R9))
	case FieldComm:
		// Read into the key area, which is built after the predicate.
		b.emit(
			asm.Mov.Reg(asm.R1, asm.R7),
			asm.Add.Imm(asm.R1, int32(s.keyOff())),
			asm.Mov.Imm(asm.R2, 16),
			asm.FnGetCurrentComm.Call(),
		)
		return compileStrEq(b, s.keyOff(), 16, p, yes, no)
	case FieldArg:
		pl := &s.args[p.Arg]
		if pl.static != nil {
			b.emit(asm.Ja.Label(no)) // an unreadable argument matches nothing
			return nil
		}
		if p.IsStr {
			return compileStrEq(b, pl.dataOff, pl.read.MaxLen+1, p, yes, no)
		}
		b.emit(asm.LoadMem(asm.R1, asm.R7, slotOff(p.Arg), asm.DWord))
	}
	jumps := map[CmpOp][2]asm.JumpOp{
		CmpEq: {asm.JEq, asm.JEq}, CmpNe: {asm.JNE, asm.JNE},
		CmpLt: {asm.JLT, asm.JSLT}, CmpLe: {asm.JLE, asm.JSLE},
		CmpGt: {asm.JGT, asm.JSGT}, CmpGe: {asm.JGE, asm.JSGE},
	}
	j, ok := jumps[p.Cmp]
	if !ok {
		return fmt.Errorf("predicate: unknown comparison %d", p.Cmp)
	}
	op := j[0]
	if p.Signed {
		op = j[1]
	}
	if p.Int >= math.MinInt32 && p.Int <= math.MaxInt32 {
		b.emit(op.Imm(asm.R1, int32(p.Int), yes))
	} else {
		b.emit(asm.LoadImm(asm.R2, p.Int, asm.DWord), op.Reg(asm.R1, asm.R2, yes))
	}
	b.emit(asm.Ja.Label(no))
	return nil
}

// compileStrEq compares the NUL-terminated string at R7+off, zero after
// its end, with p.Str, 8 bytes at a time: room is how long the string
// read can be, its NUL included. The area is 8-byte aligned and at least
// room bytes, rounded up to 8.
func compileStrEq(b *builder, off, room int, p *Pred, yes, no string) error {
	eq, ne := yes, no
	if p.Cmp == CmpNe {
		eq, ne = no, yes
	}
	want := []byte(p.Str + "\x00")
	if len(want) > room {
		b.emit(asm.Ja.Label(ne)) // longer than what is read: never equal
		return nil
	}
	for i := 0; i < len(want); i += 8 {
		var chunk [8]byte
		copy(chunk[:], want[i:])
		b.emit(
			asm.LoadMem(asm.R1, asm.R7, int16(off+i), asm.DWord),
			asm.LoadImm(asm.R2, int64(native.Uint64(chunk[:])), asm.DWord),
			asm.JNE.Reg(asm.R1, asm.R2, ne),
		)
	}
	b.emit(asm.Ja.Label(eq))
	return nil
}

// zero stores zeros over n bytes at dst+off, 8 at a time (n is rounded
// up: areas are 8-byte aligned and sized).
func zero(b *builder, dst asm.Register, off, n int) {
	for i := 0; i < n; i += 8 {
		b.emit(storeZero64(dst, int16(off+i)))
	}
}

// copyBytes copies n bytes (rounded up to 8) from R7+from to R7+to.
func copyBytes(b *builder, r asm.Register, from, to, n int) {
	for i := 0; i < n; i += 8 {
		b.emit(
			asm.LoadMem(asm.R1, r, int16(from+i), asm.DWord),
			asm.StoreMem(r, int16(to+i), asm.R1, asm.DWord),
		)
	}
}

// AggRow is one row of an aggregation, its per-CPU values summed (min
// and max taken).
type AggRow struct {
	// Tracepoint is the index of the tracepoint in Options.Probes.
	Tracepoint int
	// Key is the key's fields after the tracepoint, as the programs
	// wrote them: 8 bytes per integer, pid and tid (host order), 16 for
	// comm, the room of a string or buffer.
	Key []byte
	// Count hits; Sum, Min and Max of the value as 64 bits (signed when
	// the value is): for ValueStats and above.
	Count    uint64
	Sum      uint64
	Min, Max uint64
	Buckets  []uint64
}

// Snapshot reads the aggregation's rows. With reset, each row says what
// came since the last snapshot with reset: the rows stay in the kernel
// and the counts, sums and buckets read before are taken off (deleting a
// row would lose the hits that land between its reading and its
// deletion), so each hit is in exactly one snapshot; Min and Max are
// since the start, and rows with no hit since are left out.
func (s *Session) Snapshot(reset bool) ([]AggRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("snapshot: the session is closed")
	}
	if s.agg == nil || s.aggMap == nil {
		return nil, errors.New("snapshot: the session does not aggregate")
	}
	a := s.agg
	keySize := a.keySize()
	stride := (a.valueSize() + 7) &^ 7
	rows, err := s.snapshotBatch(keySize, stride)
	if err != nil {
		rows, err = s.snapshotEach(keySize, stride)
	}
	if err != nil || !reset {
		return rows, err
	}
	if s.aggBefore == nil {
		s.aggBefore = make(map[string]AggRow, len(rows))
	}
	since := rows[:0]
	for _, r := range rows {
		k := string(binary.NativeEndian.AppendUint32(nil, uint32(r.Tracepoint))) + string(r.Key)
		d := r
		if b, ok := s.aggBefore[k]; ok {
			d.Count -= b.Count
			d.Sum -= b.Sum // modulo 2^64: signed sums too
			d.Buckets = make([]uint64, len(r.Buckets))
			for i := range r.Buckets {
				d.Buckets[i] = r.Buckets[i] - b.Buckets[i]
			}
		}
		s.aggBefore[k] = r
		if d.Count > 0 {
			since = append(since, d)
		}
	}
	return since, nil
}

// snapshotEach reads the rows a key at a time, on kernels without batch
// lookups.
func (s *Session) snapshotEach(keySize, stride int) ([]AggRow, error) {
	var rows []AggRow
	key := make([]byte, keySize)
	var prev any // nil: the first key
	for seen := 0; seen <= 4*s.agg.MaxKeys; seen++ {
		if err := s.aggMap.NextKey(prev, key); err != nil {
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				break
			}
			return rows, fmt.Errorf("snapshot: %w", err)
		}
		k := append([]byte(nil), key...)
		raw, err := s.aggMap.LookupBytes(k)
		prev = k
		if errors.Is(err, ebpf.ErrKeyNotExist) || err == nil && raw == nil {
			continue
		}
		if err != nil {
			return rows, fmt.Errorf("snapshot: %w", err)
		}
		rows = append(rows, mergeRow(s.agg, s.aggSigned(k), k, raw, stride))
	}
	return rows, nil
}

// snapshotBatch reads the rows thousands at a time, in one system call
// each.
func (s *Session) snapshotBatch(keySize, stride int) ([]AggRow, error) {
	// Up to 4096 rows a call, in at most about 4 MiB of values (a row is
	// a stride per CPU), allocated once per session.
	if s.batchValues == nil {
		batch := max(16, min(4096, s.agg.MaxKeys, (4<<20)/(stride*s.ncpu)))
		s.batchKeys = reflect.MakeSlice(reflect.SliceOf(reflect.ArrayOf(keySize, reflect.TypeOf(byte(0)))), batch, batch)
		s.batchValues = make([]byte, batch*stride*s.ncpu)
	}
	keys, values := s.batchKeys, s.batchValues
	var cursor ebpf.MapBatchCursor
	var rows []AggRow
	for {
		n, err := s.aggMap.BatchLookup(&cursor, keys.Interface(), values, nil)
		done := errors.Is(err, ebpf.ErrKeyNotExist)
		if err != nil && !done {
			return nil, err // try a key at a time
		}
		for i := 0; i < n; i++ {
			k := make([]byte, keySize)
			reflect.Copy(reflect.ValueOf(k), keys.Index(i))
			raw := values[i*stride*s.ncpu : (i+1)*stride*s.ncpu]
			rows = append(rows, mergeRow(s.agg, s.aggSigned(k), k, raw, stride))
		}
		if done {
			return rows, nil
		}
	}
}

// aggSigned reports whether the value of the row with key k is signed.
func (s *Session) aggSigned(k []byte) bool {
	tp := int(binary.NativeEndian.Uint32(k))
	if tp < len(s.probes) {
		return s.agg.Tracepoints[s.probes[tp].ID()].Signed
	}
	return false
}

func mergeRow(a *Aggregation, signed bool, key, raw []byte, stride int) AggRow {
	r := AggRow{Tracepoint: int(native.Uint32(key)), Key: key[8:], Buckets: make([]uint64, a.NumBuckets())}
	first := true
	for off := 0; off+stride <= len(raw); off += stride {
		v := raw[off : off+stride]
		n := native.Uint64(v[valCount:])
		if n == 0 {
			continue
		}
		r.Count += n
		r.Sum += native.Uint64(v[valSum:])
		lo, hi := native.Uint64(v[valMin:]), native.Uint64(v[valMax:])
		less := func(x, y uint64) bool {
			if signed {
				return int64(x) < int64(y)
			}
			return x < y
		}
		if first || less(lo, r.Min) {
			r.Min = lo
		}
		if first || less(r.Max, hi) {
			r.Max = hi
		}
		first = false
		for i := range r.Buckets {
			r.Buckets[i] += native.Uint64(v[valBuckets+8*i:])
		}
	}
	return r
}

// Aggregates reports whether the session counts in the kernel; then
// Stats' Lost is, per tracepoint, the hits that found no room for their
// key (dropped keys).
func (s *Session) Aggregates() bool { return s.agg != nil }

// HistBucket gives bucket i of ValueHist: [lo, hi], inclusive; neg is the
// bucket of negative values.
func HistBucket(i int) (lo, hi uint64, neg bool) {
	switch i {
	case 0:
		return 0, 0, true
	case 1:
		return 0, 0, false
	}
	k := uint(i - 2)
	lo = 1 << k
	hi = lo<<1 - 1
	if k == 63 {
		hi = math.MaxUint64
	}
	return lo, hi, false
}
