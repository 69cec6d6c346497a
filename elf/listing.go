package elf

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Listed is one file's tracepoints that a listing selected, with the
// process mapping it when it was found in one (nil for a file named).
type Listed struct {
	File   *File
	Obj    *Object
	Probes []*Probe
}

// OpenProcess opens the files process pid maps that have USDT notes,
// each named as the process maps it. A file that cannot be read is
// skipped and told to skip (files that are not ELF are skipped in
// silence).
func OpenProcess(pid int, skip func(path string, err error)) ([]Listed, error) {
	objs, err := ProcessObjects(pid)
	if err != nil {
		return nil, err
	}
	var out []Listed
	for _, o := range objs {
		f, err := o.Open()
		if err != nil {
			if !errors.Is(err, ErrNotELF) {
				skip(o.Path, err)
			}
			continue
		}
		if f.Notes > 0 {
			f.Path = o.Path
			out = append(out, Listed{File: f, Obj: o})
		}
	}
	return out, nil
}

// Select keeps, in each listed file, the tracepoints matching the
// patterns (all of them when there are none), and says how many.
func Select(ls []Listed, patterns ...string) int {
	n := 0
	for i := range ls {
		ls[i].Probes = nil
		for j := range ls[i].File.Probes {
			if p := &ls[i].File.Probes[j]; p.Match(patterns...) {
				ls[i].Probes = append(ls[i].Probes, p)
				n++
			}
		}
	}
	return n
}

// SemaphoreText is p's semaphore address, with its value now in the
// process when the file is mapped by one ("?" when it cannot be read);
// "-" for none.
func (l Listed) SemaphoreText(p *Probe) string {
	s := p.Semaphore
	if s == nil {
		return "-"
	}
	text := fmt.Sprintf("%#x", s.Address)
	if l.Obj != nil {
		if v, err := l.Obj.ReadSemaphore(s); err == nil {
			text += fmt.Sprintf(" = %d", v)
		} else {
			text += " = ?"
		}
	}
	return text
}

// ArgsSummary describes p's arguments: the decoded specs when every call
// site has the same ones, else their types, saying they differ by site.
func (p *Probe) ArgsSummary() string {
	first := p.CallSites[0].Args
	same := true
	for _, cs := range p.CallSites[1:] {
		if cs.ArgsRaw != p.CallSites[0].ArgsRaw {
			same = false
		}
	}
	parts := make([]string, len(first))
	for i := range first {
		if same {
			parts[i] = first[i].String()
		} else {
			parts[i] = first[i].Type()
		}
	}
	s := strings.Join(parts, ", ")
	if !same {
		s += " (specs differ by site: -v)"
	}
	return s
}

// WriteJSON writes the selected tracepoints as a JSON array of ProbeJSON,
// one compact tracepoint per line (easy to grep as well as to parse). It
// is written as it is made, in chunks of 16 KiB, so a file with a million
// notes costs no more memory than one.
func WriteJSON(w io.Writer, ls []Listed) error {
	b := append(make([]byte, 0, 32<<10), '[')
	n := 0
	var err error
	for _, l := range ls {
		for _, p := range l.Probes {
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			n++
			if b, err = p.AppendJSON(w, b, l.File.Path, l.Obj); err != nil {
				return err
			}
		}
	}
	if n > 0 {
		b = append(b, '\n')
	}
	b = append(b, "]\n"...)
	_, err = w.Write(b)
	return err
}
