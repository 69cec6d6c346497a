package elf

import (
	goelf "debug/elf"
	"fmt"
)

const maxRelocSection = 64 << 20

// relocateNotes applies the relocations of a relocatable object's note
// section (index idx) to its contents, as the linker and readelf do, so the
// addresses read are section-relative offsets instead of zeros. Relocation
// types other than the absolute ones a stapsdt note uses are left alone.
func relocateNotes(ef *goelf.File, idx int, data []byte) error {
	var syms []goelf.Symbol
	for _, rs := range ef.Sections {
		if (rs.Type != goelf.SHT_RELA && rs.Type != goelf.SHT_REL) || int(rs.Info) != idx {
			continue
		}
		if err := readable(rs); err != nil {
			return err
		}
		if rs.Size > maxRelocSection {
			return &FormatError{Off: int64(rs.Offset), Msg: fmt.Sprintf("%s claims %d bytes", rs.Name, rs.Size)}
		}
		if syms == nil {
			var err error
			if syms, err = ef.Symbols(); err != nil {
				return &FormatError{Off: -1, Msg: "read symbols for " + rs.Name, Err: err}
			}
		}
		rel := make([]byte, rs.Size)
		if n, _ := rs.ReadAt(rel, 0); uint64(n) != rs.Size {
			return &FormatError{Off: int64(rs.Offset), Msg: rs.Name + " is cut short"}
		}
		if err := applyRelocs(ef, rs, rel, syms, data); err != nil {
			return err
		}
	}
	return nil
}

func applyRelocs(ef *goelf.File, rs *goelf.Section, rel []byte, syms []goelf.Symbol, data []byte) error {
	bo := ef.ByteOrder
	is64 := ef.Class == goelf.ELFCLASS64
	rela := rs.Type == goelf.SHT_RELA
	size := map[[2]bool]int{{true, true}: 24, {true, false}: 16, {false, true}: 12, {false, false}: 8}[[2]bool{is64, rela}]
	for off := 0; off+size <= len(rel); off += size {
		e := rel[off : off+size]
		var where uint64
		var sym, typ uint32
		var addend int64
		if is64 {
			where = bo.Uint64(e)
			info := bo.Uint64(e[8:])
			sym, typ = uint32(info>>32), uint32(info)
			if rela {
				addend = int64(bo.Uint64(e[16:]))
			}
		} else {
			where = uint64(bo.Uint32(e))
			info := bo.Uint32(e[4:])
			sym, typ = info>>8, info&0xff
			if rela {
				addend = int64(int32(bo.Uint32(e[8:])))
			}
		}
		width := 0
		switch {
		case ef.Machine == goelf.EM_X86_64 && typ == uint32(goelf.R_X86_64_64),
			ef.Machine == goelf.EM_AARCH64 && typ == uint32(goelf.R_AARCH64_ABS64):
			width = 8
		case ef.Machine == goelf.EM_386 && typ == uint32(goelf.R_386_32),
			ef.Machine == goelf.EM_X86_64 && typ == uint32(goelf.R_X86_64_32):
			width = 4
		}
		if width == 0 {
			continue
		}
		if where > uint64(len(data)) || uint64(len(data))-where < uint64(width) {
			return &FormatError{Off: int64(rs.Offset) + int64(off), Msg: fmt.Sprintf("relocation at %#x is outside the note section", where)}
		}
		var s uint64
		if sym > 0 {
			if int(sym) > len(syms) {
				return &FormatError{Off: int64(rs.Offset) + int64(off), Msg: fmt.Sprintf("relocation names symbol %d of %d", sym, len(syms))}
			}
			s = syms[sym-1].Value // Symbols() drops the null symbol
		}
		if width == 8 {
			if !rela {
				addend = int64(bo.Uint64(data[where:]))
			}
			bo.PutUint64(data[where:], s+uint64(addend))
		} else {
			if !rela {
				addend = int64(int32(bo.Uint32(data[where:])))
			}
			bo.PutUint32(data[where:], uint32(s+uint64(addend)))
		}
	}
	return nil
}
