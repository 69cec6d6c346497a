package elf

import (
	"bytes"
	"encoding/json"
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

// WriteJSON writes the JSON form of p, a tracepoint of the file shown as
// file, as json.Marshal writes a ProbeJSON; obj, when not nil, is the file
// mapped into a process, whose semaphore values are read. It is written a
// call site at a time, so a tracepoint with a million call sites costs no
// more than one.
func (p *Probe) WriteJSON(w io.Writer, file string, obj *Object) error {
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
	data, err := json.Marshal(jt)
	if err != nil {
		return err
	}
	// The call sites go where the empty list is: JSON strings escape
	// every quote, so the key is found only as the key.
	const key = `"call_sites":[`
	at := bytes.Index(data, []byte(key+"]")) + len(key)
	if _, err := w.Write(data[:at]); err != nil {
		return err
	}
	for i := range p.CallSites {
		site, err := json.Marshal(p.CallSites[i].JSON())
		if err != nil {
			return err
		}
		if i > 0 {
			site = append([]byte{','}, site...)
		}
		if _, err := w.Write(site); err != nil {
			return err
		}
	}
	_, err = w.Write(data[at:])
	return err
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
