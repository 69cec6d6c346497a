package elf

import (
	"bytes"
	goelf "debug/elf"
	"fmt"
	"sort"
	"strings"
)

const (
	maxSymbolName = 4096     // longest symbol name an operand may use
	symChunk      = 64 << 10 // bytes read at a time from the symbol tables
)

// resolveSymbols fills in the symbol addresses of operands that name one
// ("glob(%rip)", "[x0, #:lo12:sym]", "%fs:tls@tpoff"). The symbol and string
// tables are read only when some operand needs them, in bounded chunks.
func resolveSymbols(f *File, ef *goelf.File) error {
	var args []*Arg
	need := map[string]bool{}
	for i := range f.Probes {
		for j := range f.Probes[i].CallSites {
			cs := &f.Probes[i].CallSites[j]
			for k := range cs.Args {
				a := &cs.Args[k]
				if a.Loc.Symbol == "" || a.Loc.Kind == LocInvalid {
					continue
				}
				args = append(args, a)
				need[a.Loc.Symbol] = true
			}
		}
	}
	if len(args) == 0 {
		return nil
	}
	if ef.Type == goelf.ET_REL {
		for _, a := range args {
			setArgErr(a, "symbol %s: addresses in a relocatable object are not final until linked", a.Loc.Symbol)
		}
		return nil
	}
	syms, table, err := lookupSymbols(ef, need)
	if err != nil {
		return err
	}
	for _, a := range args {
		name := a.Loc.Symbol
		cands := syms[name]
		switch {
		case table == "":
			setArgErr(a, "symbol %s: the file has no symbol table (stripped)", name)
			continue
		case len(cands) == 0:
			setArgErr(a, "symbol %s is not in %s", name, table)
			continue
		case len(cands) > 1:
			vals := make([]string, len(cands))
			for i, c := range cands {
				vals[i] = fmt.Sprintf("%#x", c)
			}
			setArgErr(a, "symbol %s is ambiguous: %d definitions in %s (%s)", name, len(cands), table, strings.Join(vals, ", "))
			continue
		}
		v := cands[0]
		a.Loc.SymbolAddr = v
		if a.Loc.Kind == LocMemory && !a.Loc.Absolute {
			// aarch64 "#:lo12:sym": the base register holds the page
			// (ADRP); the operand adds the low 12 bits of sym+off.
			a.Loc.Offset = int64((v + uint64(a.Loc.Offset)) & 0xfff)
		}
	}
	return nil
}

func setArgErr(a *Arg, format string, v ...any) {
	a.Err = &ArgError{Index: a.Index, Spec: a.Raw, Msg: fmt.Sprintf(format, v...)}
}

// lookupSymbols finds the defined symbols with the given names in .symtab,
// or in .dynsym when there is no .symtab. It returns the distinct values per
// name and the table's name ("" when the file has neither).
func lookupSymbols(ef *goelf.File, need map[string]bool) (map[string][]uint64, string, error) {
	var symtab *goelf.Section
	for _, name := range []string{".symtab", ".dynsym"} {
		if s := ef.Section(name); s != nil && (s.Type == goelf.SHT_SYMTAB || s.Type == goelf.SHT_DYNSYM) {
			symtab = s
			break
		}
	}
	if symtab == nil {
		return nil, "", nil
	}
	if int(symtab.Link) >= len(ef.Sections) || symtab.Link == 0 {
		return nil, "", &FormatError{Off: int64(symtab.Offset), Msg: fmt.Sprintf("%s links to string table %d of %d", symtab.Name, symtab.Link, len(ef.Sections))}
	}
	strtab := ef.Sections[symtab.Link]
	for _, s := range []*goelf.Section{symtab, strtab} {
		if err := readable(s); err != nil {
			return nil, "", err
		}
	}
	// Where in the string table each needed name can start.
	offsets, err := findNames(strtab, need)
	if err != nil {
		return nil, "", err
	}
	out := map[string][]uint64{}
	if len(offsets) == 0 {
		return out, symtab.Name, nil
	}
	entsize := uint64(24)
	if ef.Class == goelf.ELFCLASS32 {
		entsize = 16
	}
	bo := ef.ByteOrder
	buf := make([]byte, (symChunk/entsize)*entsize)
	for off := uint64(0); off+entsize <= symtab.Size; {
		n := min(uint64(len(buf)), (symtab.Size-off)/entsize*entsize)
		if got, _ := symtab.ReadAt(buf[:n], int64(off)); uint64(got) != n {
			return nil, "", &FormatError{Off: int64(symtab.Offset + off), Msg: symtab.Name + " is cut short"}
		}
		for e := uint64(0); e < n; e += entsize {
			b := buf[e : e+entsize]
			nameOff := uint64(bo.Uint32(b))
			name, ok := offsets[nameOff]
			if !ok {
				continue
			}
			var value uint64
			var shndx uint16
			if ef.Class == goelf.ELFCLASS32 {
				value, shndx = uint64(bo.Uint32(b[4:])), bo.Uint16(b[14:])
			} else {
				value, shndx = bo.Uint64(b[8:]), bo.Uint16(b[6:])
			}
			if goelf.SectionIndex(shndx) == goelf.SHN_UNDEF {
				continue
			}
			if !containsU64(out[name], value) {
				out[name] = append(out[name], value)
			}
		}
		off += n
	}
	for _, v := range out {
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	}
	return out, symtab.Name, nil
}

// findNames scans a string table in chunks for "name\x00" and returns each
// offset where a needed name starts. Names may be suffixes of longer strings.
func findNames(strtab *goelf.Section, need map[string]bool) (map[uint64]string, error) {
	longest := 0
	for n := range need {
		longest = max(longest, len(n)+1)
	}
	if longest > maxSymbolName {
		longest = maxSymbolName
	}
	out := map[uint64]string{}
	buf := make([]byte, symChunk+longest)
	for start := uint64(0); start < strtab.Size; start += symChunk {
		n := min(uint64(len(buf)), strtab.Size-start)
		if got, _ := strtab.ReadAt(buf[:n], int64(start)); uint64(got) != n {
			return nil, &FormatError{Off: int64(strtab.Offset + start), Msg: strtab.Name + " is cut short"}
		}
		chunk := buf[:n]
		for name := range need {
			pat := append([]byte(name), 0)
			for i := 0; ; {
				j := bytes.Index(chunk[i:], pat)
				if j < 0 {
					break
				}
				at := uint64(i + j)
				if at < symChunk { // matches in the overlap belong to the next chunk
					out[start+at] = name
				}
				i += j + 1
			}
		}
	}
	return out, nil
}

// readable reports whether a section's contents can be read as stored.
func readable(s *goelf.Section) error {
	switch {
	case s.Flags&goelf.SHF_COMPRESSED != 0 || s.ReaderAt == nil:
		return &FormatError{Off: int64(s.Offset), Msg: "compressed " + s.Name + " section"}
	case s.Type == goelf.SHT_NOBITS:
		return &FormatError{Off: int64(s.Offset), Msg: s.Name + " has no contents in the file"}
	}
	return nil
}

func containsU64(s []uint64, v uint64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
