package contract

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
)

// How much is read of strings and buffers.
const (
	// DefaultStrlen is how many characters are read of a C string whose
	// doc gives no maximum length.
	DefaultStrlen = 64
	// DefaultBytesCap is the most bytes read of a byte buffer.
	DefaultBytesCap = 1 << 10
	// UnknownBytes is how many bytes are read of a byte buffer whose
	// length neither the doc nor another argument gives.
	UnknownBytes = 32
	// MaxRead is the most bytes read of any string or buffer, whatever
	// the doc says.
	MaxRead = 1 << 16
)

// Limits bound the reads of strings and buffers; the zero value is the
// defaults.
type Limits struct {
	Strlen   int // characters read of a string whose doc gives no maximum
	BytesCap int // most bytes read of a byte buffer
}

func (l Limits) withDefaults() Limits {
	if l.Strlen <= 0 {
		l.Strlen = DefaultStrlen
	}
	if l.BytesCap <= 0 {
		l.BytesCap = DefaultBytesCap
	}
	return l
}

// ReadKind is what is read of an argument besides its value.
type ReadKind uint8

const (
	ReadValue  ReadKind = iota // the value only, by the size and sign of its spec
	ReadString                 // the NUL-terminated string the value points to
	ReadBytes                  // the bytes the value points to
)

// Plan is how one argument is read and shown.
type Plan struct {
	Kind ReadKind
	// MaxLen is, for ReadString, the most characters read, its NUL not
	// counted: a longer string is cut there and marked truncated; for
	// ReadBytes, the length read when LenArg is -1, and the cap on the
	// length another argument gives otherwise.
	MaxLen int
	// LenArg is, for ReadBytes, the index of the argument whose value is
	// the buffer's length, else -1.
	LenArg int
	// Hex shows the value in hex: a pointer.
	Hex bool
	// Reversed shows the bytes in reverse order, as Bitcoin Core shows
	// 32-byte hashes.
	Reversed bool
}

// Plan is how the argument is read, by its type: a C string up to its
// documented maximum length, else l.Strlen characters; a byte
// buffer of its documented size (a 32-byte one, a hash, shown reversed),
// else as long as its length argument says up to l.BytesCap, else
// [UnknownBytes]; a pointer shown in hex; every other value by its spec.
func (a *Arg) Plan(l Limits) Plan {
	l = l.withDefaults()
	p := Plan{LenArg: -1}
	switch t := a.Type; t.Kind {
	case docs.CString:
		p.Kind, p.MaxLen = ReadString, l.Strlen
		if t.MaxLen > 0 {
			p.MaxLen = min(t.MaxLen, MaxRead)
		}
	case docs.Bytes:
		p.Kind = ReadBytes
		switch {
		case t.Size > 0:
			p.MaxLen, p.Reversed = min(t.Size, l.BytesCap, MaxRead), t.Size == 32
		case a.LenArg >= 0:
			p.MaxLen, p.LenArg = min(l.BytesCap, MaxRead), a.LenArg
		default:
			p.MaxLen = min(UnknownBytes, l.BytesCap)
		}
	case docs.Pointer:
		p.Hex = true
	}
	return p
}

// TypeName names an argument's type in output: "string", "bytes",
// "pointer", or the phrase of a scalar ("int64", "uint8", "bool",
// "float64").
func TypeName(t docs.Type) string {
	switch t.Kind {
	case docs.CString:
		return "string"
	case docs.Bytes:
		return "bytes"
	case docs.Pointer:
		return "pointer"
	}
	return t.Phrase()
}

// ParseOverride reads an override of how argument N is read, as --arg
// takes it: "N=str" (a C string of strlen characters), "N=str:LEN",
// "N=bytes:LEN" or "N=hex" (the value in hex), N from 0.
func ParseOverride(s string, strlen int) (int, Plan, error) {
	idx, how, ok := strings.Cut(s, "=")
	n, err := strconv.Atoi(idx)
	if !ok || err != nil || n < 0 || n >= elf.MaxArgs {
		return 0, Plan{}, fmt.Errorf("bad --arg %q: want N=str[:LEN], N=bytes:LEN or N=hex with N from 0 to %d", s, elf.MaxArgs-1)
	}
	kind, lenText, hasLen := strings.Cut(how, ":")
	length := strlen
	if hasLen {
		if length, err = strconv.Atoi(lenText); err != nil || length <= 0 || length > MaxRead {
			return 0, Plan{}, fmt.Errorf("bad --arg %q: length must be 1 to %d", s, MaxRead)
		}
	}
	switch {
	case kind == "str":
		return n, Plan{Kind: ReadString, MaxLen: length, LenArg: -1}, nil
	case kind == "bytes" && hasLen:
		return n, Plan{Kind: ReadBytes, MaxLen: length, LenArg: -1}, nil
	case kind == "hex" && !hasLen:
		return n, Plan{LenArg: -1, Hex: true}, nil
	}
	return 0, Plan{}, fmt.Errorf("bad --arg %q: want N=str[:LEN], N=bytes:LEN or N=hex", s)
}
