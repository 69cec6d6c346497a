package elf

import (
	"strconv"
	"unicode/utf8"
)

// The JSON of the types of json.go is appended by hand: byte for byte
// what encoding/json writes for them (field order, escaping, null,
// omitempty), which jsonenc_test.go checks against json.Marshal. The
// first json.Marshal of a type builds its encoders by reflection, and
// that and the per-value reflection cost more than reading the notes of
// a small binary, at every run of usdtkit list --json.

// AppendJSON appends t as json.Marshal writes it.
func (t *ProbeJSON) AppendJSON(b []byte) []byte {
	b = append(b, `{"file":`...)
	b = AppendJSONString(b, t.File)
	b = append(b, `,"provider":`...)
	b = AppendJSONString(b, t.Provider)
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, t.Name)
	b = append(b, `,"semaphore":`...)
	if t.Semaphore == nil {
		b = append(b, "null"...)
	} else {
		b = t.Semaphore.AppendJSON(b)
	}
	b = append(b, `,"call_sites":`...)
	if t.CallSites == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range t.CallSites {
			if i > 0 {
				b = append(b, ',')
			}
			b = t.CallSites[i].AppendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"warnings":`...)
	b = appendJSONStrings(b, t.Warnings)
	return append(b, '}')
}

// AppendJSON appends s as json.Marshal writes it.
func (s *SemaphoreJSON) AppendJSON(b []byte) []byte {
	b = append(b, `{"address":`...)
	b = strconv.AppendUint(b, s.Address, 10)
	b = append(b, `,"file_offset":`...)
	b = appendJSONUintPtr(b, s.FileOffset)
	if s.Value != nil {
		b = append(b, `,"value":`...)
		b = strconv.AppendUint(b, uint64(*s.Value), 10)
	}
	b = append(b, `,"error":`...)
	b = appendJSONStringPtr(b, s.Error)
	return append(b, '}')
}

// AppendJSON appends c as json.Marshal writes it.
func (c *CallSiteJSON) AppendJSON(b []byte) []byte {
	b = append(b, `{"location":`...)
	b = strconv.AppendUint(b, c.Location, 10)
	b = append(b, `,"base":`...)
	b = strconv.AppendUint(b, c.Base, 10)
	b = append(b, `,"address":`...)
	b = strconv.AppendUint(b, c.Address, 10)
	b = append(b, `,"file_offset":`...)
	b = appendJSONUintPtr(b, c.FileOffset)
	b = append(b, `,"args_raw":`...)
	b = AppendJSONString(b, c.ArgsRaw)
	b = append(b, `,"args":`...)
	if c.Args == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range c.Args {
			if i > 0 {
				b = append(b, ',')
			}
			b = c.Args[i].AppendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"error":`...)
	b = appendJSONStringPtr(b, c.Error)
	return append(b, '}')
}

// AppendJSON appends a as json.Marshal writes it.
func (a *ArgJSON) AppendJSON(b []byte) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(a.Index), 10)
	b = append(b, `,"raw":`...)
	b = AppendJSONString(b, a.Raw)
	b = append(b, `,"type":`...)
	b = AppendJSONString(b, a.Type)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(a.Size), 10)
	b = append(b, `,"signed":`...)
	b = strconv.AppendBool(b, a.Signed)
	b = append(b, `,"float":`...)
	b = strconv.AppendBool(b, a.Float)
	b = append(b, `,"location":`...)
	if a.Location == nil {
		b = append(b, "null"...)
	} else {
		b = a.Location.AppendJSON(b)
	}
	b = append(b, `,"error":`...)
	b = appendJSONStringPtr(b, a.Error)
	return append(b, '}')
}

// AppendJSON appends l as json.Marshal writes it.
func (l *LocationJSON) AppendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = AppendJSONString(b, l.Kind)
	b = append(b, `,"text":`...)
	b = AppendJSONString(b, l.Text)
	b = append(b, `,"register":`...)
	b = l.Register.AppendJSON(b)
	b = append(b, `,"base":`...)
	b = l.Base.AppendJSON(b)
	b = append(b, `,"index":`...)
	b = l.Index.AppendJSON(b)
	b = append(b, `,"scale":`...)
	b = strconv.AppendInt(b, int64(l.Scale), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, l.Offset, 10)
	b = append(b, `,"symbol":`...)
	b = appendJSONStringPtr(b, l.Symbol)
	b = append(b, `,"symbol_address":`...)
	b = appendJSONUintPtr(b, l.SymbolAddress)
	b = append(b, `,"absolute":`...)
	b = strconv.AppendBool(b, l.Absolute)
	b = append(b, `,"value":`...)
	if l.Value == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, *l.Value, 10)
	}
	return append(b, '}')
}

// AppendJSON appends r, or null for a nil r.
func (r *RegisterJSON) AppendJSON(b []byte) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"name":`...)
	b = AppendJSONString(b, r.Name)
	b = append(b, `,"canonical":`...)
	b = AppendJSONString(b, r.Canonical)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(r.Size), 10)
	b = append(b, `,"shift":`...)
	b = strconv.AppendInt(b, int64(r.Shift), 10)
	b = append(b, `,"vector":`...)
	b = strconv.AppendBool(b, r.Vector)
	return append(b, '}')
}

func appendJSONStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, v)
	}
	return append(b, ']')
}

func appendJSONStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return AppendJSONString(b, *s)
}

func appendJSONUintPtr(b []byte, u *uint64) []byte {
	if u == nil {
		return append(b, "null"...)
	}
	return strconv.AppendUint(b, *u, 10)
}

// AppendJSONString appends s as a JSON string the way json.Marshal writes
// it: '"' and '\' escaped, \b \f \n \r \t for those controls and \u00XX
// for the other bytes below 0x20 and for < > & (HTML-safe), U+2028 and
// U+2029 escaped, and each byte of invalid UTF-8 replaced by \ufffd.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
