package elftest

import (
	"bytes"
	goelf "debug/elf"
	"encoding/binary"
)

// Note is one stapsdt note to write.
type Note struct {
	Provider, Name, Args string
	PC, Base, Semaphore  uint64
	// Raw, when set, is written as the note's desc instead of the fields above.
	Raw []byte
}

// Symbol is one .symtab entry.
type Symbol struct {
	Name  string
	Value uint64
	Local bool
	TLS   bool
}

// Spec describes the file to write. Zero values give a little-endian
// x86-64 ET_EXEC.
type Spec struct {
	Class     goelf.Class
	ByteOrder binary.ByteOrder
	Machine   goelf.Machine
	Type      goelf.Type
	Notes     []Note
	Symbols   []Symbol
	// StapsdtBase, when non-zero, adds a .stapsdt.base section at that
	// address (in the loadable segment's address range or not).
	StapsdtBase uint64
}

// VAddr is where the single PT_LOAD segment starts in memory; TextAddr is the
// address of .text, where note PCs should point.
const (
	VAddr    = 0x400000
	TextAddr = VAddr + 0x1000
	textOff  = 0x1000
	textSize = 0x1000
	DataAddr = TextAddr + textSize // a writable area for semaphores
	dataSize = 0x100
)

// Layout says where the parts of a written file are.
type Layout struct {
	NoteOffset int // file offset of .note.stapsdt
	NoteSize   int
	ShOff      int // file offset of the section header table
}

// Build writes the ELF file described by s.
func Build(s Spec) ([]byte, Layout) {
	if s.Class == 0 {
		s.Class = goelf.ELFCLASS64
	}
	if s.ByteOrder == nil {
		s.ByteOrder = binary.LittleEndian
	}
	if s.Machine == 0 {
		s.Machine = goelf.EM_X86_64
	}
	if s.Type == 0 {
		s.Type = goelf.ET_EXEC
	}
	w := &writer{bo: s.ByteOrder, is64: s.Class == goelf.ELFCLASS64}
	ptr := 4
	if w.is64 {
		ptr = 8
	}

	// Section contents.
	var notes bytes.Buffer
	for _, n := range s.Notes {
		desc := n.Raw
		if desc == nil {
			var d bytes.Buffer
			for _, a := range []uint64{n.PC, n.Base, n.Semaphore} {
				d.Write(w.addr(a))
			}
			d.WriteString(n.Provider + "\x00" + n.Name + "\x00" + n.Args + "\x00")
			desc = d.Bytes()
		}
		notes.Write(w.u32(8))
		notes.Write(w.u32(uint32(len(desc))))
		notes.Write(w.u32(3))
		notes.WriteString("stapsdt\x00")
		notes.Write(desc)
		for notes.Len()%4 != 0 {
			notes.WriteByte(0)
		}
	}
	strtab := []byte{0}
	var symtab bytes.Buffer
	symtab.Write(make([]byte, w.symSize())) // the null symbol
	nLocal := 1
	for _, local := range []bool{true, false} {
		for _, sym := range s.Symbols {
			if sym.Local != local {
				continue
			}
			name := uint32(len(strtab))
			strtab = append(strtab, sym.Name...)
			strtab = append(strtab, 0)
			bind, typ := goelf.STB_GLOBAL, goelf.STT_OBJECT
			if local {
				bind = goelf.STB_LOCAL
				nLocal++
			}
			if sym.TLS {
				typ = goelf.STT_TLS
			}
			info := byte(bind)<<4 | byte(typ)
			const shndxText = 1
			if w.is64 {
				symtab.Write(w.u32(name))
				symtab.WriteByte(info)
				symtab.WriteByte(0)
				symtab.Write(w.u16(shndxText))
				symtab.Write(w.u64(sym.Value))
				symtab.Write(w.u64(8))
			} else {
				symtab.Write(w.u32(name))
				symtab.Write(w.u32(uint32(sym.Value)))
				symtab.Write(w.u32(4))
				symtab.WriteByte(info)
				symtab.WriteByte(0)
				symtab.Write(w.u16(shndxText))
			}
		}
	}

	type section struct {
		name      string
		typ       goelf.SectionType
		flags     goelf.SectionFlag
		addr      uint64
		data      []byte
		link, inf uint32
		align     uint64
		entsize   uint64
		off       int
	}
	text := bytes.Repeat([]byte{0x90}, textSize)
	secs := []*section{
		{name: ".text", typ: goelf.SHT_PROGBITS, flags: goelf.SHF_ALLOC | goelf.SHF_EXECINSTR, addr: TextAddr, data: text, align: 16},
		{name: ".probes", typ: goelf.SHT_PROGBITS, flags: goelf.SHF_ALLOC | goelf.SHF_WRITE, addr: DataAddr, data: make([]byte, dataSize), align: 2},
		{name: ".note.stapsdt", typ: goelf.SHT_NOTE, data: notes.Bytes(), align: 4},
	}
	if s.StapsdtBase != 0 {
		secs = append(secs, &section{name: ".stapsdt.base", typ: goelf.SHT_PROGBITS, flags: goelf.SHF_ALLOC, addr: s.StapsdtBase, data: []byte{0}, align: 1})
	}
	if len(s.Symbols) > 0 {
		symIdx := len(secs) + 1
		secs = append(secs,
			&section{name: ".symtab", typ: goelf.SHT_SYMTAB, data: symtab.Bytes(), link: uint32(symIdx + 1), inf: uint32(nLocal), align: uint64(ptr), entsize: uint64(w.symSize())},
			&section{name: ".strtab", typ: goelf.SHT_STRTAB, data: strtab, align: 1})
	}
	shstrtab := []byte{0}
	names := make([]uint32, len(secs)+1)
	for i, sec := range secs {
		names[i] = uint32(len(shstrtab))
		shstrtab = append(shstrtab, sec.name...)
		shstrtab = append(shstrtab, 0)
	}
	names[len(secs)] = uint32(len(shstrtab))
	shstrtab = append(shstrtab, ".shstrtab\x00"...)
	secs = append(secs, &section{name: ".shstrtab", typ: goelf.SHT_STRTAB, data: shstrtab, align: 1})

	// File image: headers, then .text at textOff, .probes right after it,
	// then the non-alloc sections, then the section headers.
	ehsize, phsize, shsize := 52, 32, 40
	if w.is64 {
		ehsize, phsize, shsize = 64, 56, 64
	}
	img := make([]byte, textOff)
	var lay Layout
	for _, sec := range secs {
		if sec.flags&goelf.SHF_ALLOC != 0 && sec.name != ".stapsdt.base" {
			sec.off = int(sec.addr - VAddr)
			for len(img) < sec.off {
				img = append(img, 0)
			}
		} else {
			for len(img)%8 != 0 {
				img = append(img, 0)
			}
			sec.off = len(img)
		}
		img = append(img, sec.data...)
		if sec.name == ".note.stapsdt" {
			lay.NoteOffset, lay.NoteSize = sec.off, len(sec.data)
		}
	}
	for len(img)%8 != 0 {
		img = append(img, 0)
	}
	lay.ShOff = len(img)
	var sh bytes.Buffer
	sh.Write(make([]byte, shsize))
	for i, sec := range secs {
		if w.is64 {
			sh.Write(w.u32(names[i]))
			sh.Write(w.u32(uint32(sec.typ)))
			sh.Write(w.u64(uint64(sec.flags)))
			sh.Write(w.u64(sec.addr))
			sh.Write(w.u64(uint64(sec.off)))
			sh.Write(w.u64(uint64(len(sec.data))))
			sh.Write(w.u32(sec.link))
			sh.Write(w.u32(sec.inf))
			sh.Write(w.u64(sec.align))
			sh.Write(w.u64(sec.entsize))
		} else {
			sh.Write(w.u32(names[i]))
			sh.Write(w.u32(uint32(sec.typ)))
			sh.Write(w.u32(uint32(sec.flags)))
			sh.Write(w.u32(uint32(sec.addr)))
			sh.Write(w.u32(uint32(sec.off)))
			sh.Write(w.u32(uint32(len(sec.data))))
			sh.Write(w.u32(sec.link))
			sh.Write(w.u32(sec.inf))
			sh.Write(w.u32(uint32(sec.align)))
			sh.Write(w.u32(uint32(sec.entsize)))
		}
	}
	img = append(img, sh.Bytes()...)

	// ELF header and the one program header.
	var eh bytes.Buffer
	eh.WriteString(goelf.ELFMAG)
	eh.WriteByte(byte(s.Class))
	if s.ByteOrder == binary.BigEndian {
		eh.WriteByte(byte(goelf.ELFDATA2MSB))
	} else {
		eh.WriteByte(byte(goelf.ELFDATA2LSB))
	}
	eh.WriteByte(byte(goelf.EV_CURRENT))
	eh.Write(make([]byte, 9))
	eh.Write(w.u16(uint16(s.Type)))
	eh.Write(w.u16(uint16(s.Machine)))
	eh.Write(w.u32(uint32(goelf.EV_CURRENT)))
	eh.Write(w.addr(TextAddr))
	eh.Write(w.addr(uint64(ehsize)))    // phoff
	eh.Write(w.addr(uint64(lay.ShOff))) // shoff
	eh.Write(w.u32(0))
	eh.Write(w.u16(uint16(ehsize)))
	eh.Write(w.u16(uint16(phsize)))
	eh.Write(w.u16(1))
	eh.Write(w.u16(uint16(shsize)))
	eh.Write(w.u16(uint16(len(secs) + 1)))
	eh.Write(w.u16(uint16(len(secs))))
	loadEnd := uint64(textOff + textSize + dataSize)
	flags := uint32(goelf.PF_R | goelf.PF_W | goelf.PF_X)
	if w.is64 {
		eh.Write(w.u32(uint32(goelf.PT_LOAD)))
		eh.Write(w.u32(flags))
		eh.Write(w.u64(0))
		eh.Write(w.u64(VAddr))
		eh.Write(w.u64(VAddr))
		eh.Write(w.u64(loadEnd))
		eh.Write(w.u64(loadEnd + 0x1000)) // a .bss tail
		eh.Write(w.u64(0x1000))
	} else {
		eh.Write(w.u32(uint32(goelf.PT_LOAD)))
		eh.Write(w.u32(0))
		eh.Write(w.u32(VAddr))
		eh.Write(w.u32(VAddr))
		eh.Write(w.u32(uint32(loadEnd)))
		eh.Write(w.u32(uint32(loadEnd + 0x1000)))
		eh.Write(w.u32(flags))
		eh.Write(w.u32(0x1000))
	}
	copy(img, eh.Bytes())
	return img, lay
}

type writer struct {
	bo   binary.ByteOrder
	is64 bool
}

func (w *writer) u16(v uint16) []byte { b := make([]byte, 2); w.bo.PutUint16(b, v); return b }
func (w *writer) u32(v uint32) []byte { b := make([]byte, 4); w.bo.PutUint32(b, v); return b }
func (w *writer) u64(v uint64) []byte { b := make([]byte, 8); w.bo.PutUint64(b, v); return b }
func (w *writer) addr(v uint64) []byte {
	if w.is64 {
		return w.u64(v)
	}
	return w.u32(uint32(v))
}
func (w *writer) symSize() int {
	if w.is64 {
		return 24
	}
	return 16
}
