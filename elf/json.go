package elf

import (
	"bytes"
	"io"
)

// The JSON form of the tracepoints of a file, as usdtkit list --json
// writes them; documented in docs/list.md.

// ProbeJSON is one tracepoint of one file.
type ProbeJSON struct {
	File      string         `json:"file"`
	Provider  string         `json:"provider"`
	Name      string         `json:"name"`
	Semaphore *SemaphoreJSON `json:"semaphore"`
	CallSites []CallSiteJSON `json:"call_sites"`
	Warnings  []string       `json:"warnings"`
}

// SemaphoreJSON is a tracepoint's semaphore; Value is its current value
// in a process, when the file was read from one.
type SemaphoreJSON struct {
	Address    uint64  `json:"address"`
	FileOffset *uint64 `json:"file_offset"`
	Value      *uint16 `json:"value,omitempty"`
	Error      *string `json:"error"`
}

// CallSiteJSON is one call site: Address is the one representation of a
// call site in every command's JSON (audit's and attach's call_site).
type CallSiteJSON struct {
	Location   uint64    `json:"location"`
	Base       uint64    `json:"base"`
	Address    uint64    `json:"address"`
	FileOffset *uint64   `json:"file_offset"`
	ArgsRaw    string    `json:"args_raw"`
	Args       []ArgJSON `json:"args"`
	Error      *string   `json:"error"`
}

// ArgJSON is one decoded argument spec.
type ArgJSON struct {
	Index    int           `json:"index"`
	Raw      string        `json:"raw"`
	Type     string        `json:"type"`
	Size     int           `json:"size"`
	Signed   bool          `json:"signed"`
	Float    bool          `json:"float"`
	Location *LocationJSON `json:"location"`
	Error    *string       `json:"error"`
}

// LocationJSON is where an argument's value is.
type LocationJSON struct {
	Kind          string        `json:"kind"`
	Text          string        `json:"text"`
	Register      *RegisterJSON `json:"register"`
	Base          *RegisterJSON `json:"base"`
	Index         *RegisterJSON `json:"index"`
	Scale         int           `json:"scale"`
	Offset        int64         `json:"offset"`
	Symbol        *string       `json:"symbol"`
	SymbolAddress *uint64       `json:"symbol_address"`
	Absolute      bool          `json:"absolute"`
	Value         *int64        `json:"value"`
}

// RegisterJSON is a register an operand names.
type RegisterJSON struct {
	Name      string `json:"name"`
	Canonical string `json:"canonical"`
	Size      int    `json:"size"`
	Shift     int    `json:"shift"`
	Vector    bool   `json:"vector"`
}

func registerJSON(r Register) *RegisterJSON {
	if r.IsZero() {
		return nil
	}
	return &RegisterJSON{Name: r.Name, Canonical: r.Canonical, Size: r.Size, Shift: r.Shift, Vector: r.Vector}
}

func errText(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// JSON is the JSON form of p, a tracepoint of the file shown as file;
// obj, when not nil, is the file mapped into a process, whose semaphore
// values are read.
func (p *Probe) JSON(file string, obj *Object) ProbeJSON {
	jt := p.jsonHead(file, obj)
	for i := range p.CallSites {
		jt.CallSites = append(jt.CallSites, p.CallSites[i].JSON())
	}
	return jt
}

// jsonHead is p's JSON form without its call sites.
func (p *Probe) jsonHead(file string, obj *Object) ProbeJSON {
	jt := ProbeJSON{File: file, Provider: p.Provider, Name: p.Name, CallSites: []CallSiteJSON{}, Warnings: p.Warnings}
	if jt.Warnings == nil {
		jt.Warnings = []string{}
	}
	if s := p.Semaphore; s != nil {
		js := &SemaphoreJSON{Address: s.Address, Error: errText(s.Err)}
		if s.Err == nil {
			off := s.FileOffset
			js.FileOffset = &off
		}
		if obj != nil {
			if v, err := obj.ReadSemaphore(s); err == nil {
				js.Value = &v
			} else {
				js.Error = errText(err)
			}
		}
		jt.Semaphore = js
	}
	return jt
}

// jsonChunk is how much WriteJSON gathers before it writes.
const jsonChunk = 16 << 10

// AppendJSON appends p's JSON form, as json.Marshal writes the ProbeJSON
// of p.JSON, to b, writing b to w (and starting it again) whenever it
// holds more than 16 KiB: a tracepoint with a million call sites costs
// no more memory than one.
func (p *Probe) AppendJSON(w io.Writer, b []byte, file string, obj *Object) ([]byte, error) {
	jt := p.jsonHead(file, obj)
	jt.CallSites = nil
	head := jt.AppendJSON(nil)
	// The call sites go where the null list is: JSON strings escape
	// every quote, so the key is found only as the key.
	const key = `"call_sites":`
	at := bytes.Index(head, []byte(key+"null")) + len(key)
	b = append(append(b, head[:at]...), '[')
	for i := range p.CallSites {
		if i > 0 {
			b = append(b, ',')
		}
		cs := p.CallSites[i].JSON()
		b = cs.AppendJSON(b)
		if len(b) > jsonChunk {
			if _, err := w.Write(b); err != nil {
				return b[:0], err
			}
			b = b[:0]
		}
	}
	b = append(b, ']')
	return append(b, head[at+len("null"):]...), nil
}

// JSON is the JSON form of the call site cs.
func (cs *CallSite) JSON() CallSiteJSON {
	jc := CallSiteJSON{Location: cs.Location, Base: cs.Base, Address: cs.Address, ArgsRaw: cs.ArgsRaw, Args: []ArgJSON{}, Error: errText(cs.Err)}
	if cs.Err == nil {
		off := cs.FileOffset
		jc.FileOffset = &off
	}
	for _, a := range cs.Args {
		jc.Args = append(jc.Args, a.JSON())
	}
	return jc
}

// JSON is the JSON form of the argument spec a.
func (a Arg) JSON() ArgJSON {
	ja := ArgJSON{Index: a.Index, Raw: a.Raw, Type: a.Type(), Size: a.Size, Signed: a.Signed, Float: a.Float, Error: errText(a.Err)}
	l := a.Loc
	if l.Kind == LocInvalid {
		return ja
	}
	jl := &LocationJSON{Kind: l.Kind.String(), Text: l.String(), Register: registerJSON(l.Reg), Base: registerJSON(l.Base),
		Index: registerJSON(l.Index), Offset: l.Offset, Absolute: l.Absolute}
	if !l.Index.IsZero() {
		jl.Scale = l.Scale
	}
	if l.Symbol != "" {
		sym := l.Symbol
		jl.Symbol = &sym
		if a.Err == nil {
			v := l.SymbolAddr
			jl.SymbolAddress = &v
		}
	}
	if l.Kind == LocConstant {
		v := l.Value
		jl.Value = &v
	}
	ja.Location = jl
	return ja
}
