package bpf

import (
	"fmt"

	"github.com/usdtkit/usdtkit/elf"
)

// ReadKind says how an argument is read beyond its integer value.
type ReadKind uint8

const (
	// ReadInt reads the value only, by the size and signedness of its spec.
	ReadInt ReadKind = iota
	// ReadString reads the NUL-terminated string the value points to.
	ReadString
	// ReadBytes reads the byte buffer the value points to.
	ReadBytes
)

func (k ReadKind) String() string {
	switch k {
	case ReadInt:
		return "int"
	case ReadString:
		return "string"
	case ReadBytes:
		return "bytes"
	}
	return fmt.Sprintf("ReadKind(%d)", uint8(k))
}

// Read lengths.
const (
	DefaultStringLen = 64      // ReadString without a MaxLen
	DefaultBytesCap  = 1 << 10 // ReadBytes with a LenArg and no MaxLen
	MaxReadLen       = 1 << 16 // the largest MaxLen
)

// ArgRead says how to read one argument. The zero value is ReadInt.
type ArgRead struct {
	Kind ReadKind

	// MaxLen is, for ReadString, the most bytes of the string to read
	// (DefaultStringLen when 0). For ReadBytes it is the length to read when
	// LenArg is 0, and the cap on the length otherwise (DefaultBytesCap
	// when 0).
	MaxLen int

	// LenArg, for ReadBytes, is the number of the argument whose value is
	// the buffer's length, counted from 1 as in Bitcoin Core's
	// doc/tracing.md; 0 means the length is MaxLen.
	LenArg int

	// Hex shows an integer value in hex (a pointer) in [Value.String].
	Hex bool
	// Reversed shows a ReadBytes buffer in reverse byte order, as Bitcoin
	// Core shows 32-byte hashes, in [Value.String] and [Value.AppendJSON].
	Reversed bool
}

func (r ArgRead) String() string {
	switch {
	case r.Kind == ReadString:
		return fmt.Sprintf("string(%d)", r.withDefaults().MaxLen)
	case r.Kind == ReadBytes && r.LenArg > 0:
		return fmt.Sprintf("bytes(arg%d, cap %d)", r.LenArg, r.withDefaults().MaxLen)
	case r.Kind == ReadBytes:
		return fmt.Sprintf("bytes(%d)", r.MaxLen)
	}
	return r.Kind.String()
}

func (r ArgRead) withDefaults() ArgRead {
	switch {
	case r.Kind == ReadString && r.MaxLen == 0:
		r.MaxLen = DefaultStringLen
	case r.Kind == ReadBytes && r.LenArg > 0 && r.MaxLen == 0:
		r.MaxLen = DefaultBytesCap
	}
	return r
}

// check validates r as the read of argument idx (0-based) of a call site
// with nargs arguments.
func (r ArgRead) check(idx, nargs int) error {
	switch r.Kind {
	case ReadInt:
		return nil
	case ReadString, ReadBytes:
	default:
		return fmt.Errorf("arg%d: unknown read kind %d", idx, r.Kind)
	}
	r = r.withDefaults()
	switch {
	case r.MaxLen < 0 || r.MaxLen > MaxReadLen:
		return fmt.Errorf("arg%d: length %d is not in 1..%d", idx, r.MaxLen, MaxReadLen)
	case r.Kind == ReadBytes && r.LenArg == 0 && r.MaxLen == 0:
		return fmt.Errorf("arg%d: bytes read needs a length (MaxLen) or a length argument (LenArg)", idx)
	case r.Kind == ReadString && r.LenArg != 0:
		return fmt.Errorf("arg%d: a string read takes no length argument", idx)
	case r.LenArg < 0 || r.LenArg > nargs:
		return fmt.Errorf("arg%d: length argument %d is not in 1..%d", idx, r.LenArg, nargs)
	case r.LenArg == idx+1:
		return fmt.Errorf("arg%d: the length argument is the buffer itself", idx)
	}
	return nil
}

// readsFor returns the reads of a probe's arguments, validated against
// every call site, one per argument (ReadInt for those not named).
func readsFor(p *elf.Probe, reads []ArgRead) ([]ArgRead, error) {
	n := 0
	for _, cs := range p.CallSites {
		n = max(n, len(cs.Args))
	}
	if len(reads) > n {
		for _, r := range reads[n:] {
			if r.Kind != ReadInt {
				return nil, fmt.Errorf("tracepoint %s has %d arguments, reads name %d", p.ID(), n, len(reads))
			}
		}
	}
	out := make([]ArgRead, n)
	for i := range out {
		if i >= len(reads) {
			continue
		}
		for _, cs := range p.CallSites {
			if err := reads[i].check(i, len(cs.Args)); err != nil {
				return nil, fmt.Errorf("tracepoint %s: %w", p.ID(), err)
			}
		}
		out[i] = reads[i].withDefaults()
	}
	for i, r := range out {
		if r.LenArg > 0 && out[r.LenArg-1].Kind != ReadInt {
			return nil, fmt.Errorf("tracepoint %s: arg%d: length argument %d is read as %v, not as an integer", p.ID(), i, r.LenArg, out[r.LenArg-1].Kind)
		}
	}
	return out, nil
}
