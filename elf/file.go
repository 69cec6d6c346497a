package elf

import (
	"bytes"
	goelf "debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Limits on what a file may make this package read or allocate.
const (
	maxNoteSection = 64 << 20 // a .note.stapsdt larger than this is malformed
	maxBuildIDNote = 4 << 10
	maxNotes       = 1 << 20
)

// Open reads the USDT tracepoints of the ELF file at path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open %s: not a regular file", path)
	}
	file, err := NewFile(f)
	if err != nil {
		return nil, err
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
	var base uint64
	if s := ef.Section(".stapsdt.base"); s != nil {
		base = s.Addr
	}
	var notes []note
	for i, s := range ef.Sections {
		if s.Name != ".note.stapsdt" || s.Type != goelf.SHT_NOTE {
			continue
		}
		n, err := readNotes(ef, s, i)
		if err != nil {
			return nil, err
		}
		notes = append(notes, n...)
		if len(notes) > maxNotes {
			return nil, &FormatError{Off: int64(s.Offset), Msg: fmt.Sprintf("more than %d stapsdt notes", maxNotes)}
		}
	}
	f.Notes = len(notes)
	f.Probes = group(f, ef, notes, base)
	if err := resolveSymbols(f, ef); err != nil {
		return nil, err
	}
	return f, nil
}

// note is one stapsdt note as stored.
type note struct {
	off            int64 // file offset of the note header
	pc, base, sem  uint64
	provider, name string
	args           []byte // the argument string, in the section's data
}

// readNotes parses the notes of one SHT_NOTE section.
func readNotes(ef *goelf.File, s *goelf.Section, idx int) ([]note, error) {
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
	return parseNotes(data, int64(s.Offset), ef.ByteOrder, ef.Class, s.Addralign)
}

// parseNotes parses the stapsdt notes in data, the contents of a note
// section at file offset secOff. Other notes are skipped.
func parseNotes(data []byte, secOff int64, bo binary.ByteOrder, class goelf.Class, align uint64) ([]note, error) {
	ptr := 8
	if class == goelf.ELFCLASS32 {
		ptr = 4
	}
	if align != 8 {
		align = 4
	}
	pad := func(n uint64) uint64 { return (n + align - 1) &^ (align - 1) }
	var notes []note
	for off := uint64(0); off < uint64(len(data)); {
		at := secOff + int64(off)
		rest := uint64(len(data)) - off
		if rest < 12 {
			return nil, &FormatError{Off: at, Msg: fmt.Sprintf("note header needs 12 bytes, %d left", rest)}
		}
		namesz := uint64(bo.Uint32(data[off:]))
		descsz := uint64(bo.Uint32(data[off+4:]))
		typ := bo.Uint32(data[off+8:])
		nameEnd := 12 + pad(namesz)
		descEnd := nameEnd + pad(descsz)
		if nameEnd > rest || 12+namesz > rest || nameEnd+descsz > rest {
			return nil, &FormatError{Off: at, Msg: fmt.Sprintf("note claims name %d and desc %d bytes, %d left", namesz, descsz, rest-12)}
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
		n, err := parseStapsdt(desc, ptr, class, bo)
		if err != nil {
			return nil, &FormatError{Off: at, Msg: "bad stapsdt note", Err: err}
		}
		n.off = at
		notes = append(notes, n)
	}
	return notes, nil
}

func parseStapsdt(desc []byte, ptr int, class goelf.Class, bo binary.ByteOrder) (note, error) {
	if len(desc) < 3*ptr {
		return note{}, fmt.Errorf("desc of %d bytes is shorter than its three addresses", len(desc))
	}
	addr := func(b []byte) uint64 {
		if class == goelf.ELFCLASS32 {
			return uint64(bo.Uint32(b))
		}
		return bo.Uint64(b)
	}
	n := note{pc: addr(desc), base: addr(desc[ptr:]), sem: addr(desc[2*ptr:])}
	strs := desc[3*ptr:]
	var fields [2][]byte
	for i := range fields {
		end := bytes.IndexByte(strs, 0)
		if end < 0 {
			return note{}, fmt.Errorf("%s is not NUL-terminated", [...]string{"provider", "name"}[i])
		}
		fields[i], strs = strs[:end], strs[end+1:]
	}
	if len(fields[0]) == 0 || len(fields[1]) == 0 {
		return note{}, errors.New("empty provider or name")
	}
	// An argument string may lack its NUL, or be missing.
	if end := bytes.IndexByte(strs, 0); end >= 0 {
		strs = strs[:end]
	}
	ids := string(desc[3*ptr : 3*ptr+len(fields[0])+len(fields[1])+1]) // one allocation; both share it
	n.provider, n.name, n.args = ids[:len(fields[0])], ids[len(fields[0])+1:], strs
	return n, nil
}

// group turns notes into probes, keeping the order of first appearance.
func group(f *File, ef *goelf.File, notes []note, base uint64) []Probe {
	probes := []Probe{}
	index := map[[2]string]int{}
	for _, n := range notes {
		adjust := func(a uint64) uint64 {
			// SystemTap's prelink adjustment: the note's base is where
			// .stapsdt.base was at link time; the section says where it is now.
			if a != 0 && base != 0 && n.base != 0 {
				return a + base - n.base
			}
			return a
		}
		cs := CallSite{
			Location:         n.pc,
			Base:             n.base,
			Address:          adjust(n.pc),
			SemaphoreAddress: n.sem,
			NoteOffset:       n.off,
		}
		cs.ArgsRaw, cs.Args, cs.ArgCount = parseArgs(f.Machine, n.args)
		cs.FileOffset, cs.Err = fileOffset(ef, cs.Address, true)
		id := [2]string{n.provider, n.name}
		i, ok := index[id]
		if !ok {
			i = len(probes)
			index[id] = i
			p := Probe{Provider: n.provider, Name: n.name}
			if n.sem != 0 {
				s := &Semaphore{Address: n.sem, Adjusted: adjust(n.sem)}
				s.FileOffset, s.Err = fileOffset(ef, s.Adjusted, false)
				p.Semaphore = s
			}
			probes = append(probes, p)
		}
		p := &probes[i]
		if ok {
			var have uint64
			if p.Semaphore != nil {
				have = p.Semaphore.Address
			}
			if have != n.sem {
				p.Warnings = append(p.Warnings, fmt.Sprintf("call site at %#x names semaphore %#x, the first names %#x", n.pc, n.sem, have))
			}
		}
		p.CallSites = append(p.CallSites, cs)
	}
	return probes
}

// fileOffset maps a virtual address to its offset in the file through the
// PT_LOAD program headers. Code addresses must be in an executable segment.
func fileOffset(ef *goelf.File, addr uint64, code bool) (uint64, error) {
	if ef.Type == goelf.ET_REL {
		return 0, errors.New("relocatable object: addresses are not final until linked")
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
	if inMemOnly {
		return 0, fmt.Errorf("address %#x is in memory not backed by the file (.bss)", addr)
	}
	if code {
		return 0, fmt.Errorf("address %#x is in no executable loadable segment", addr)
	}
	return 0, fmt.Errorf("address %#x is in no loadable segment", addr)
}

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
