package elf

import (
	"bytes"
	goelf "debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
)

// Limits on what a file may make this package read or allocate.
const (
	maxNoteSection = 64 << 20 // a .note.stapsdt larger than this is malformed
	maxBuildIDNote = 4 << 10
	maxNotes       = 1 << 20
	// maxArgSpecs bounds the memory of the decoded Args (some 300 bytes
	// each): a probe has at most 12, and no real file has a few
	// thousand.
	maxArgSpecs = 1 << 18
)

// Open reads the USDT tracepoints of the ELF file at path. Its errors
// name the path: "open PATH: ..." or "read PATH: ...".
func Open(path string) (*File, error) {
	f, _, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	file, err := NewFile(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	file.Path = path
	return file, nil
}

// NewFile reads the USDT tracepoints of the ELF file r.
func NewFile(r io.ReaderAt) (file *File, err error) {
	defer func() {
		if p := recover(); p != nil {
			file, err = nil, &FormatError{Off: -1, Msg: fmt.Sprintf("unexpected input (%v)", p), Err: fmt.Errorf("%s", debug.Stack())}
		}
	}()
	return newFile(r)
}

func newFile(r io.ReaderAt) (*File, error) {
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n < 4 || string(magic[:]) != goelf.ELFMAG {
		return nil, ErrNotELF
	}
	ef, err := goelf.NewFile(r)
	if err != nil {
		var fe *goelf.FormatError
		if errors.As(err, &fe) {
			return nil, &FormatError{Off: -1, Msg: "bad headers", Err: err}
		}
		return nil, &FormatError{Off: -1, Msg: "read headers", Err: err}
	}
	f := &File{
		Machine:   ef.Machine,
		Class:     ef.Class,
		ByteOrder: ef.ByteOrder,
		Type:      ef.Type,
	}
	if f.Class != goelf.ELFCLASS32 && f.Class != goelf.ELFCLASS64 {
		return nil, &FormatError{Off: 4, Msg: fmt.Sprintf("unknown ELF class %v", f.Class)}
	}
	f.BuildID, f.BuildIDPending, err = readBuildID(ef)
	if err != nil {
		return nil, err
	}
	g := &grouper{f: f, ef: ef, index: map[string]int{}, probes: []Probe{}, mismatch: map[int]*semMismatch{}}
	if s := ef.Section(".stapsdt.base"); s != nil {
		g.base = s.Addr
	}
	for i, s := range ef.Sections {
		if s.Name != ".note.stapsdt" || s.Type != goelf.SHT_NOTE {
			continue
		}
		if err := g.readSection(s, i); err != nil {
			return nil, err
		}
	}
	f.Probes = g.finish()
	if err := resolveSymbols(f, ef); err != nil {
		return nil, err
	}
	return f, nil
}

// note is one stapsdt note, its fields still in the section's data.
type note struct {
	off           int64 // file offset of the note header
	pc, base, sem uint64
	id            []byte // provider, NUL, name
	providerLen   int
	args          []byte // the argument string
}

// grouper turns notes into probes, keeping the order of first appearance.
// What it keeps per note is one CallSite, in a slice of the size needed,
// and the argument text when it differs from the call site before it.
type grouper struct {
	f     *File
	ef    *goelf.File
	base  uint64         // the address of .stapsdt.base, or 0
	index map[string]int // provider NUL name -> index in probes
	// probes are the probes so far; specs counts the argument specs decoded.
	probes []Probe
	specs  int
	// mismatch holds, per probe, the call sites that name another
	// semaphore than the first: one warning each probe says so.
	mismatch map[int]*semMismatch
}

type semMismatch struct {
	pc, sem uint64 // the first call site that differs
	n       int
}

// readSection reads the notes of one SHT_NOTE section in two passes over
// its data: the first finds the new probes and counts the call sites of
// every probe, the second fills them in, so that no slice grows past its
// size on the way.
func (g *grouper) readSection(s *goelf.Section, idx int) error {
	data, err := readNotes(g.ef, s, idx)
	if err != nil {
		return err
	}
	secOff := int64(s.Offset)
	var ids []string // of the probes this section adds
	counts := make([]int, len(g.probes))
	err = parseNotes(data, secOff, g.ef.ByteOrder, g.ef.Class, s.Addralign, func(n *note) error {
		if g.f.Notes++; g.f.Notes > maxNotes {
			return &FormatError{Off: secOff, Msg: fmt.Sprintf("more than %d stapsdt notes", maxNotes)}
		}
		if g.specs += countArgs(n.args); g.specs > maxArgSpecs {
			return &FormatError{Off: n.off, Msg: fmt.Sprintf("more than %d argument specs in stapsdt notes", maxArgSpecs)}
		}
		i, ok := g.index[string(n.id)]
		if !ok {
			id := string(n.id) // one allocation; the probe's provider and name share it
			i = len(counts)
			g.index[id] = i
			ids = append(ids, id)
			counts = append(counts, 0)
		}
		counts[i]++
		return nil
	})
	if err != nil {
		return err
	}
	old := len(g.probes)
	for i, c := range counts[:old] {
		if c > 0 {
			g.probes[i].CallSites = slices.Grow(g.probes[i].CallSites, c)
		}
	}
	g.probes = slices.Grow(g.probes, len(ids))
	return parseNotes(data, secOff, g.ef.ByteOrder, g.ef.Class, s.Addralign, func(n *note) error {
		i := g.index[string(n.id)]
		if i == len(g.probes) {
			g.newProbe(n, ids[i-old], counts[i])
		}
		g.add(i, n)
		return nil
	})
}

// newProbe appends the probe whose first note is n, with room for its
// call sites.
func (g *grouper) newProbe(n *note, id string, sites int) {
	p := Probe{Provider: id[:n.providerLen], Name: id[n.providerLen+1:], CallSites: make([]CallSite, 0, sites)}
	if n.sem != 0 {
		s := &Semaphore{Address: n.sem, Adjusted: g.adjust(n, n.sem)}
		s.FileOffset, s.Err = fileOffset(g.ef, s.Adjusted, false)
		p.Semaphore = s
	}
	g.probes = append(g.probes, p)
}

// adjust applies SystemTap's prelink adjustment: the note's base is where
// .stapsdt.base was at link time; the section says where it is now.
func (g *grouper) adjust(n *note, a uint64) uint64 {
	if a != 0 && g.base != 0 && n.base != 0 {
		return a + g.base - n.base
	}
	return a
}

// add appends n as a call site of probe i.
func (g *grouper) add(i int, n *note) {
	p := &g.probes[i]
	cs := CallSite{
		Location:         n.pc,
		Base:             n.base,
		Address:          g.adjust(n, n.pc),
		SemaphoreAddress: n.sem,
		NoteOffset:       n.off,
	}
	if k := len(p.CallSites) - 1; k >= 0 && p.CallSites[k].ArgsRaw == string(n.args) {
		// The same specs as the call site before: share its text.
		cs.ArgsRaw, cs.Args, cs.ArgCount = parseArgs(g.f.Machine, p.CallSites[k].ArgsRaw)
	} else {
		cs.ArgsRaw, cs.Args, cs.ArgCount = parseArgs(g.f.Machine, n.args)
	}
	cs.FileOffset, cs.Err = fileOffset(g.ef, cs.Address, true)
	if len(p.CallSites) > 0 {
		var have uint64
		if p.Semaphore != nil {
			have = p.Semaphore.Address
		}
		if have != n.sem {
			m := g.mismatch[i]
			if m == nil {
				m = &semMismatch{pc: n.pc, sem: n.sem}
				g.mismatch[i] = m
			}
			m.n++
		}
	}
	p.CallSites = append(p.CallSites, cs)
}

// finish returns the probes, with their warnings.
func (g *grouper) finish() []Probe {
	for i, m := range g.mismatch {
		p := &g.probes[i]
		w := fmt.Sprintf("call site at %#x names semaphore %#x, the first names %#x", m.pc, m.sem, p.Semaphore.addressOrZero())
		if m.n > 1 {
			w += fmt.Sprintf("; %d more call sites name another semaphore than the first", m.n-1)
		}
		p.Warnings = append(p.Warnings, w)
	}
	return g.probes
}

func (s *Semaphore) addressOrZero() uint64 {
	if s == nil {
		return 0
	}
	return s.Address
}

// readNotes reads the contents of one SHT_NOTE section.
func readNotes(ef *goelf.File, s *goelf.Section, idx int) ([]byte, error) {
	if err := readable(s); err != nil {
		return nil, err
	}
	if s.Size > maxNoteSection {
		return nil, &FormatError{Off: int64(s.Offset), Msg: fmt.Sprintf(".note.stapsdt claims %d bytes (limit %d)", s.Size, maxNoteSection)}
	}
	data := make([]byte, s.Size)
	if n, err := s.ReadAt(data, 0); uint64(n) != s.Size {
		return nil, &FormatError{Off: int64(s.Offset), Msg: fmt.Sprintf(".note.stapsdt of %d bytes is cut short at %d", s.Size, n), Err: err}
	}
	if ef.Type == goelf.ET_REL {
		if err := relocateNotes(ef, idx, data); err != nil {
			return nil, err
		}
	}
	return data, nil
}

// parseNotes parses the stapsdt notes in data, the contents of a note
// section at file offset secOff, and calls fn with each; other notes are
// skipped. The note fn gets is valid only during the call.
func parseNotes(data []byte, secOff int64, bo binary.ByteOrder, class goelf.Class, align uint64, fn func(*note) error) error {
	ptr := 8
	if class == goelf.ELFCLASS32 {
		ptr = 4
	}
	if align != 8 {
		align = 4
	}
	pad := func(n uint64) uint64 { return (n + align - 1) &^ (align - 1) }
	var n note
	for off := uint64(0); off < uint64(len(data)); {
		at := secOff + int64(off)
		rest := uint64(len(data)) - off
		if rest < 12 {
			return &FormatError{Off: at, Msg: fmt.Sprintf("note header needs 12 bytes, %d left", rest)}
		}
		namesz := uint64(bo.Uint32(data[off:]))
		descsz := uint64(bo.Uint32(data[off+4:]))
		typ := bo.Uint32(data[off+8:])
		nameEnd := 12 + pad(namesz)
		descEnd := nameEnd + pad(descsz)
		if nameEnd > rest || 12+namesz > rest || nameEnd+descsz > rest {
			return &FormatError{Off: at, Msg: fmt.Sprintf("note claims name %d and desc %d bytes, %d left", namesz, descsz, rest-12)}
		}
		name := data[off+12 : off+12+namesz]
		desc := data[off+nameEnd : off+nameEnd+descsz]
		if descEnd > rest {
			descEnd = rest // the last note's padding may be missing
		}
		off += descEnd
		if typ != 3 || string(name) != "stapsdt\x00" {
			continue
		}
		if err := parseStapsdt(&n, desc, ptr, class, bo); err != nil {
			return &FormatError{Off: at, Msg: "bad stapsdt note", Err: err}
		}
		n.off = at
		if err := fn(&n); err != nil {
			return err
		}
	}
	return nil
}

func parseStapsdt(n *note, desc []byte, ptr int, class goelf.Class, bo binary.ByteOrder) error {
	if len(desc) < 3*ptr {
		return fmt.Errorf("desc of %d bytes is shorter than its three addresses", len(desc))
	}
	addr := func(b []byte) uint64 {
		if class == goelf.ELFCLASS32 {
			return uint64(bo.Uint32(b))
		}
		return bo.Uint64(b)
	}
	n.pc, n.base, n.sem = addr(desc), addr(desc[ptr:]), addr(desc[2*ptr:])
	strs := desc[3*ptr:]
	var lens [2]int
	for i := range lens {
		end := bytes.IndexByte(strs, 0)
		if end < 0 {
			return fmt.Errorf("%s is not NUL-terminated", [...]string{"provider", "name"}[i])
		}
		lens[i], strs = end, strs[end+1:]
	}
	if lens[0] == 0 || lens[1] == 0 {
		return errors.New("empty provider or name")
	}
	// An argument string may lack its NUL, or be missing.
	if end := bytes.IndexByte(strs, 0); end >= 0 {
		strs = strs[:end]
	}
	n.id, n.providerLen, n.args = desc[3*ptr:3*ptr+lens[0]+1+lens[1]], lens[0], strs
	return nil
}

// fileOffset maps a virtual address to its offset in the file through the
// PT_LOAD program headers. Code addresses must be in an executable segment.
func fileOffset(ef *goelf.File, addr uint64, code bool) (uint64, error) {
	if ef.Type == goelf.ET_REL {
		return 0, errRelocatable
	}
	inMemOnly := false
	for _, p := range ef.Progs {
		if p.Type != goelf.PT_LOAD || addr < p.Vaddr {
			continue
		}
		if addr-p.Vaddr < p.Filesz {
			if code && p.Flags&goelf.PF_X == 0 {
				continue
			}
			return addr - p.Vaddr + p.Off, nil
		}
		if addr-p.Vaddr < p.Memsz {
			inMemOnly = true
		}
	}
	switch {
	case inMemOnly:
		return 0, &addrError{addr, "is in memory not backed by the file (.bss)"}
	case code:
		return 0, &addrError{addr, "is in no executable loadable segment"}
	}
	return 0, &addrError{addr, "is in no loadable segment"}
}

var errRelocatable = errors.New("relocatable object: addresses are not final until linked")

// addrError says why an address has no file offset. Its message is made
// when asked for: a file may have a million call sites with one.
type addrError struct {
	addr uint64
	why  string
}

func (e *addrError) Error() string { return fmt.Sprintf("address %#x %s", e.addr, e.why) }

// readBuildID reads the GNU build-id. pending is set when the note is
// there but still all zero, as GNU ld leaves it until the end of the link.
func readBuildID(ef *goelf.File) (id string, pending bool, err error) {
	s := ef.Section(".note.gnu.build-id")
	if s == nil || s.Type != goelf.SHT_NOTE || s.Size > maxBuildIDNote || readable(s) != nil {
		return "", false, nil
	}
	data := make([]byte, s.Size)
	if n, _ := s.ReadAt(data, 0); uint64(n) != s.Size {
		return "", false, &FormatError{Off: int64(s.Offset), Msg: ".note.gnu.build-id is cut short"}
	}
	if len(data) < 16 {
		return "", false, nil
	}
	if allZero(data) {
		return "", true, nil
	}
	namesz := uint64(ef.ByteOrder.Uint32(data))
	descsz := uint64(ef.ByteOrder.Uint32(data[4:]))
	start := 12 + (namesz+3)&^3
	if namesz > uint64(len(data)) || start+descsz > uint64(len(data)) {
		return "", false, &FormatError{Off: int64(s.Offset), Msg: "bad build-id note"}
	}
	desc := data[start : start+descsz]
	if allZero(desc) {
		return "", true, nil
	}
	return hex.EncodeToString(desc), false, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
