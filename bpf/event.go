package bpf

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"syscall"
	"time"

	"github.com/usdtkit/usdtkit/elf"
)

// Event is one hit of a tracepoint at one call site.
type Event struct {
	Time time.Time
	PID  int // process (thread group) id
	TID  int // thread id
	Comm string

	// Probe is the tracepoint, "provider:name"; CallSite is the index of
	// the call site that fired in the probe's CallSites.
	Probe    string
	CallSite int

	// Args has one value per argument of the call site's note.
	Args []Value
}

// Value is one argument of an event.
type Value struct {
	// Raw is the value the spec describes: Size bytes, sign-extended to 64
	// bits when Signed and zero-extended otherwise. For a float it holds
	// the IEEE 754 bits (of a float32 when Size is 4). For ReadString and
	// ReadBytes it is the pointer.
	Raw    uint64
	Size   int
	Signed bool
	Float  bool

	// Read is how the argument was read.
	Read ReadKind
	// Str is the string a ReadString argument points to.
	Str string
	// Bytes is the buffer a ReadBytes argument points to.
	Bytes []byte
	// Truncated is set when Str or Bytes was cut at the read's MaxLen.
	Truncated bool
	// Hex and Reversed are the read's: how String and JSON show it.
	Hex      bool
	Reversed bool

	// Err is why the value could not be read, an *ArgError; nil when it
	// was. A value with an Err is never a silent zero or empty string:
	// when Raw was read but the string or buffer it points to was not,
	// Raw is kept.
	Err error
}

// Int returns the value as a signed integer.
func (v Value) Int() int64 { return int64(v.Raw) }

// Uint returns the value as an unsigned integer.
func (v Value) Uint() uint64 { return v.Raw }

// Float64 returns a float value; it is NaN when the value is not a float.
func (v Value) Float64() float64 {
	switch {
	case !v.Float:
		return math.NaN()
	case v.Size == 4:
		return float64(math.Float32frombits(uint32(v.Raw)))
	}
	return math.Float64frombits(v.Raw)
}

// String formats the value for people: a quoted string, hex bytes (in
// reverse order when the read says so), a float, a hex integer when the
// read says so, or a signed or unsigned integer; "..." follows a string
// or buffer cut at its read's length, and "<error: ...>" is a value that
// could not be read.
func (v Value) String() string {
	if v.Err != nil {
		return "<error: " + v.Err.Error() + ">"
	}
	trunc := ""
	if v.Truncated {
		trunc = "..."
	}
	switch {
	case v.Read == ReadString:
		return strconv.Quote(v.Str) + trunc
	case v.Read == ReadBytes:
		return hex.EncodeToString(v.shownBytes()) + trunc
	case v.Float:
		return strconv.FormatFloat(v.Float64(), 'g', -1, v.Size*8)
	case v.Hex:
		return "0x" + strconv.FormatUint(v.Raw, 16)
	case v.Signed:
		return strconv.FormatInt(v.Int(), 10)
	}
	return strconv.FormatUint(v.Raw, 10)
}

// AppendJSON appends the value's JSON to b, without allocating: a
// string, hex bytes (reversed when the read says so), a float, or an
// integer; null for a value that could not be read, and for a float JSON
// cannot hold (NaN, an infinity), when ok is false.
func (v Value) AppendJSON(b []byte) (_ []byte, ok bool) {
	switch {
	case v.Err != nil:
		return append(b, "null"...), true
	case v.Read == ReadString:
		return elf.AppendJSONString(b, v.Str), true
	case v.Read == ReadBytes:
		b = append(b, '"')
		if v.Reversed {
			for i := len(v.Bytes) - 1; i >= 0; i-- {
				b = append(b, hexDigits[v.Bytes[i]>>4], hexDigits[v.Bytes[i]&0xf])
			}
		} else {
			b = hex.AppendEncode(b, v.Bytes)
		}
		return append(b, '"'), true
	case v.Float:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(b, "null"...), false
		}
		return appendJSONFloat(b, f), true
	case v.Signed:
		return strconv.AppendInt(b, v.Int(), 10), true
	}
	return strconv.AppendUint(b, v.Raw, 10), true
}

func (v Value) shownBytes() []byte {
	if !v.Reversed {
		return v.Bytes
	}
	r := make([]byte, len(v.Bytes))
	for i, c := range v.Bytes {
		r[len(r)-1-i] = c
	}
	return r
}

// ArgError is why one argument of an event could not be read.
type ArgError struct {
	Index int    // 0-based argument index
	Spec  string // the argument's spec, "8@(%rax)"
	// What failed: "operand" for the value itself, "string" or "bytes"
	// for the memory it points to.
	What string
	// Err is a syscall.Errno for a failed read of user memory (EFAULT for
	// an address that is not mapped, or not yet paged in), or an error
	// wrapping ErrUnreadable.
	Err error
}

func (e *ArgError) Error() string {
	if errno, ok := e.Err.(syscall.Errno); ok {
		return fmt.Sprintf("arg%d %q: read %s: %v (-%s)", e.Index, e.Spec, e.What, errno, errnoName(errno))
	}
	return fmt.Sprintf("arg%d %q: read %s: %v", e.Index, e.Spec, e.What, e.Err)
}

func (e *ArgError) Unwrap() error { return e.Err }

func errnoName(e syscall.Errno) string {
	switch e {
	case syscall.EFAULT:
		return "EFAULT"
	case syscall.EINVAL:
		return "EINVAL"
	case syscall.E2BIG:
		return "E2BIG"
	case syscall.EPERM:
		return "EPERM"
	case syscall.ENOMEM:
		return "ENOMEM"
	}
	return "errno " + strconv.Itoa(int(e))
}

var native = binary.NativeEndian

// decoder turns records into events, sharing memory between them: the
// argument values of a batch's events come from one slab, and a command
// name seen last is not made again.
type decoder struct {
	values   []Value
	comm     string
	commText []byte
}

// decode turns one ring buffer record into an event. monoToUnix is the
// Unix time in ns of CLOCK_MONOTONIC's zero.
func (d *decoder) decode(sites []*site, rec []byte, monoToUnix int64) (Event, *site, bool) {
	if len(rec) < headerSize {
		return Event{}, nil, false
	}
	id := native.Uint32(rec[offSite:])
	if int(id) >= len(sites) {
		return Event{}, nil, false
	}
	s := sites[id]
	if len(rec) < s.size {
		return Event{}, nil, false
	}
	pt := native.Uint64(rec[offPIDTGID:])
	comm := rec[offComm : offComm+16]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	if !bytes.Equal(comm, d.commText) || d.commText == nil {
		d.comm, d.commText = string(comm), append(d.commText[:0], comm...)
	}
	n := len(s.args)
	if cap(d.values)-len(d.values) < n {
		d.values = make([]Value, 0, max(2*cap(d.values), 8*n, 8))
	}
	args := d.values[len(d.values) : len(d.values)+n : len(d.values)+n]
	d.values = d.values[:len(d.values)+n]
	ev := Event{
		Time:     time.Unix(0, int64(native.Uint64(rec[offTime:]))+monoToUnix),
		PID:      int(pt >> 32),
		TID:      int(uint32(pt)),
		Comm:     d.comm,
		Probe:    s.name,
		CallSite: s.index,
		Args:     args,
	}
	for i := range s.args {
		ev.Args[i] = decodeArg(s, rec, i)
	}
	return ev, s, true
}

func decodeArg(s *site, rec []byte, i int) Value {
	pl := &s.args[i]
	a := &pl.arg
	v := Value{Size: a.Size, Signed: a.Signed, Float: a.Float, Read: pl.read.Kind, Hex: pl.read.Hex, Reversed: pl.read.Reversed}
	fail := func(what string, err error) Value {
		v.Err = &ArgError{Index: i, Spec: a.Raw, What: what, Err: err}
		return v
	}
	if pl.static != nil {
		return fail("operand", pl.static)
	}
	slot := rec[slotOff(i):]
	v.Raw = native.Uint64(slot)
	if e := int32(native.Uint32(slot[slotErr:])); e != 0 {
		v.Raw = 0
		return fail("operand", syscall.Errno(-e))
	}
	ret := int32(native.Uint32(slot[slotRet:]))
	data := rec[pl.dataOff : pl.dataOff+pl.dataLen]
	switch pl.read.Kind {
	case ReadString:
		if ret < 0 {
			return fail("string", syscall.Errno(-ret))
		}
		n := min(max(int(ret)-1, 0), pl.dataLen)
		if n > pl.read.MaxLen {
			n, v.Truncated = pl.read.MaxLen, true
		}
		v.Str = string(data[:n])
	case ReadBytes:
		if ret < 0 {
			return fail("bytes", syscall.Errno(-ret))
		}
		n := pl.dataLen
		if pl.read.LenArg > 0 {
			j := pl.read.LenArg - 1
			lv := decodeArg(s, rec, j)
			if lv.Err != nil {
				return fail("bytes", fmt.Errorf("length argument %d: %w", pl.read.LenArg, lv.Err))
			}
			if lv.Signed && lv.Int() < 0 {
				return fail("bytes", fmt.Errorf("length argument %d is negative (%d)", pl.read.LenArg, lv.Int()))
			}
			if lv.Raw < uint64(n) {
				n = int(lv.Raw)
			} else if lv.Raw > uint64(n) {
				v.Truncated = true
			}
		}
		v.Bytes = bytes.Clone(data[:n])
	}
	return v
}
