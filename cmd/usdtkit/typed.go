package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
)

// argType is how attach and verify read and show one argument: from its
// documented type, an --arg override, or else its spec.
type argType struct {
	Read bpf.ArgRead
	Doc  *docs.Type // nil without docs
	// Name is the documented description, "" without docs.
	Name string
	// Reversed shows a 32-byte buffer as Bitcoin Core shows hashes: its
	// bytes in reverse order.
	Reversed bool
	// Hex shows an integer in hex (--arg N=hex).
	Hex bool
}

// typesFor decides how to read each argument of a probe: by the documented
// type when the doc has the tracepoint, then --arg overrides.
func typesFor(p *elf.Probe, doc *docs.Doc, strlen, bytesCap int, overrides map[int]argOverride) []argType {
	n := len(p.CallSites[0].Args)
	types := make([]argType, n)
	var tp *docs.Tracepoint
	if doc != nil {
		tp = doc.Tracepoint(p.ID())
	}
	for i := range types {
		t := &types[i]
		if tp == nil || i >= len(tp.Args) || tp.Args[i].Err != nil {
			continue
		}
		da := &tp.Args[i]
		dt := da.Type
		t.Doc, t.Name = &dt, da.Description
		switch dt.Kind {
		case docs.CString:
			max := strlen
			if dt.MaxLen > 0 {
				max = dt.MaxLen + 1 // the NUL
			}
			t.Read = bpf.ArgRead{Kind: bpf.ReadString, MaxLen: max}
		case docs.Bytes:
			switch {
			case dt.Size > 0:
				t.Read = bpf.ArgRead{Kind: bpf.ReadBytes, MaxLen: dt.Size}
				t.Reversed = dt.Size == 32
			default:
				if l := lengthArg(tp, i); l >= 0 {
					t.Read = bpf.ArgRead{Kind: bpf.ReadBytes, LenArg: l + 1, MaxLen: bytesCap}
				} else {
					t.Read = bpf.ArgRead{Kind: bpf.ReadBytes, MaxLen: bytesCap}
				}
			}
		}
	}
	for i, o := range overrides {
		if i < n {
			types[i].Read, types[i].Hex, types[i].Reversed = o.read, o.hex, false
		}
	}
	return types
}

// lengthArg finds the argument that holds the length of the byte buffer at
// index i: the nearest integer argument before it (else after it) whose
// description speaks of a size or length, as in Bitcoin Core's
// "Message Size in bytes" followed by "Message Bytes".
func lengthArg(tp *docs.Tracepoint, i int) int {
	isLen := func(a *docs.Arg) bool {
		d := strings.ToLower(a.Description)
		return (a.Type.Kind == docs.Int || a.Type.Kind == docs.Uint) && (strings.Contains(d, "size") || strings.Contains(d, "length") || strings.Contains(d, "len"))
	}
	for j := i - 1; j >= 0; j-- {
		if isLen(&tp.Args[j]) {
			return j
		}
	}
	for j := i + 1; j < len(tp.Args); j++ {
		if isLen(&tp.Args[j]) {
			return j
		}
	}
	return -1
}

// argOverride is one --arg N=str[:LEN]|bytes:LEN|hex.
type argOverride struct {
	read bpf.ArgRead
	hex  bool
}

func parseArgOverrides(specs []string) (map[int]argOverride, error) {
	out := map[int]argOverride{}
	for _, s := range specs {
		idx, how, ok := strings.Cut(s, "=")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || n < 0 || n >= elf.MaxArgs {
			return nil, usagef("bad --arg %q: want N=str[:LEN], N=bytes:LEN or N=hex with N from 0 to 11", s)
		}
		kind, lenText, hasLen := strings.Cut(how, ":")
		length := 0
		if hasLen {
			if length, err = strconv.Atoi(lenText); err != nil || length <= 0 || length > bpf.MaxReadLen {
				return nil, usagef("bad --arg %q: length must be 1 to %d", s, bpf.MaxReadLen)
			}
		}
		switch {
		case kind == "str":
			out[n] = argOverride{read: bpf.ArgRead{Kind: bpf.ReadString, MaxLen: length}}
		case kind == "bytes" && hasLen:
			out[n] = argOverride{read: bpf.ArgRead{Kind: bpf.ReadBytes, MaxLen: length}}
		case kind == "hex" && !hasLen:
			out[n] = argOverride{hex: true}
		default:
			return nil, usagef("bad --arg %q: want N=str[:LEN], N=bytes:LEN or N=hex", s)
		}
	}
	return out, nil
}

// typeName names an argument's type in output: the documented type, else
// the spec's.
func (t argType) typeName(a elf.Arg) string {
	if t.Doc != nil {
		switch t.Doc.Kind {
		case docs.CString:
			return "string"
		case docs.Bytes:
			return "bytes"
		case docs.Pointer:
			return "pointer"
		}
		if p := t.Doc.Phrase(); p != "" {
			return p
		}
	}
	switch t.Read.Kind {
	case bpf.ReadString:
		return "string"
	case bpf.ReadBytes:
		return "bytes"
	}
	return a.Type()
}

// format shows a value by its type: integers by the documented size and
// sign, strings quoted, bytes in hex (hashes reversed).
func (t argType) format(v bpf.Value) string {
	if v.Err != nil {
		return "<error: " + v.Err.Error() + ">"
	}
	switch v.Read {
	case bpf.ReadString:
		return v.String()
	case bpf.ReadBytes:
		b := v.Bytes
		if t.Reversed {
			b = reversed(b)
		}
		s := hex.EncodeToString(b)
		if v.Truncated {
			s += "..."
		}
		return s
	}
	if t.Hex {
		return fmt.Sprintf("%#x", v.Raw)
	}
	if t.Doc != nil {
		switch t.Doc.Kind {
		case docs.Int:
			return strconv.FormatInt(signExtend(v.Raw, t.Doc.Size), 10)
		case docs.Uint, docs.Bool:
			return strconv.FormatUint(truncate(v.Raw, t.Doc.Size), 10)
		case docs.Pointer:
			return fmt.Sprintf("%#x", v.Raw)
		}
	}
	return v.String()
}

// jsonValue is the value as JSON: a number, a string, or hex bytes.
func (t argType) jsonValue(v bpf.Value) any {
	if v.Err != nil {
		return nil
	}
	switch v.Read {
	case bpf.ReadString:
		return v.Str
	case bpf.ReadBytes:
		b := v.Bytes
		if t.Reversed {
			b = reversed(b)
		}
		return hex.EncodeToString(b)
	}
	if v.Float {
		return v.Float64()
	}
	if t.Doc != nil {
		switch t.Doc.Kind {
		case docs.Int:
			return signExtend(v.Raw, t.Doc.Size)
		case docs.Uint, docs.Bool:
			return truncate(v.Raw, t.Doc.Size)
		}
	}
	if v.Signed {
		return v.Int()
	}
	return v.Uint()
}

func signExtend(raw uint64, size int) int64 {
	if size <= 0 || size >= 8 {
		return int64(raw)
	}
	shift := 64 - 8*uint(size)
	return int64(raw<<shift) >> shift
}

func truncate(raw uint64, size int) uint64 {
	if size <= 0 || size >= 8 {
		return raw
	}
	return raw & (1<<(8*uint(size)) - 1)
}

func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

func checkPattern(p string) error {
	if err := elf.CheckPattern(p); err != nil {
		return &usageError{err}
	}
	return nil
}

// matchID applies the glob rules of elf.Probe.Match to a tracepoint ID.
func matchID(id string, patterns []string) bool {
	ctx, event, _ := strings.Cut(id, ":")
	p := elf.Probe{Provider: ctx, Name: event}
	return p.Match(patterns...)
}
