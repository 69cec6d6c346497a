package elf_test

import (
	"bytes"
	goelf "debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

func open(t *testing.T, s elftest.Spec) *elf.File { return elftest.Open(t, s, elf.NewFile) }

func TestClassesAndByteOrders(t *testing.T) {
	for _, m := range []goelf.Machine{goelf.EM_X86_64, goelf.EM_386, goelf.EM_AARCH64, goelf.EM_PPC64} {
		for _, class := range []goelf.Class{goelf.ELFCLASS32, goelf.ELFCLASS64} {
			for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
				name := m.String() + "/" + class.String() + "/" + bo.String()
				t.Run(name, func(t *testing.T) {
					f := open(t, elftest.Spec{Class: class, ByteOrder: bo, Machine: m, Notes: []elftest.Note{
						{Provider: "p", Name: "a", Args: "-4@%eax", PC: elftest.TextAddr + 0x10, Semaphore: elftest.DataAddr + 2},
						{Provider: "p", Name: "b", PC: elftest.TextAddr + 0x20},
						{Provider: "p", Name: "a", Args: "-8@x1", PC: elftest.TextAddr + 0x30, Semaphore: elftest.DataAddr + 2},
					}})
					if f.Machine != m || f.Class != class || f.ByteOrder != bo || f.Notes != 3 || len(f.Probes) != 2 {
						t.Fatalf("got machine %v class %v order %v, %d notes, %d probes", f.Machine, f.Class, f.ByteOrder, f.Notes, len(f.Probes))
					}
					a := f.Probes[0]
					if a.ID() != "p:a" || len(a.CallSites) != 2 || f.Probes[1].ID() != "p:b" {
						t.Fatalf("probes %s (%d sites), %s", a.ID(), len(a.CallSites), f.Probes[1].ID())
					}
					for i, want := range []uint64{0x10, 0x30} {
						cs := a.CallSites[i]
						if cs.Location != elftest.TextAddr+want || cs.Address != cs.Location || cs.Err != nil || cs.FileOffset != 0x1000+want {
							t.Errorf("site %d: %+v", i, cs)
						}
						if cs.Args[0].Size == 0 {
							t.Errorf("site %d: size prefix not decoded: %+v", i, cs.Args[0])
						}
					}
					if s := a.Semaphore; s == nil || s.Address != elftest.DataAddr+2 || s.Err != nil || s.FileOffset != 0x2002 {
						t.Errorf("semaphore %+v", s)
					}
					if f.Probes[1].Semaphore != nil || len(f.Probes[1].CallSites[0].Args) != 0 {
						t.Errorf("p:b: %+v", f.Probes[1])
					}
				})
			}
		}
	}
}

// Decoding follows the file's e_machine, never the host's.
func TestDecodeByTarget(t *testing.T) {
	f := open(t, elftest.Spec{Machine: goelf.EM_AARCH64, Notes: []elftest.Note{{Provider: "p", Name: "n", Args: "-8@x25 8@[x0, #:lo12:anchor] -4@%eax", PC: elftest.TextAddr}},
		Symbols: []elftest.Symbol{{Name: "anchor", Value: elftest.DataAddr + 0x18}}})
	args := f.Probes[0].CallSites[0].Args
	if args[0].Err != nil || args[0].Loc.Reg.Canonical != "x25" {
		t.Errorf("x25: %+v", args[0])
	}
	if args[1].Err != nil || args[1].Loc.Offset != 0x18 || args[1].Loc.Base.Name != "x0" || args[1].Loc.SymbolAddr != elftest.DataAddr+0x18 {
		t.Errorf(":lo12: not resolved to the low 12 bits: %+v", args[1])
	}
	if args[2].Err == nil {
		t.Errorf("an x86 register decoded in an aarch64 file: %+v", args[2])
	}
}

func TestStapsdtBaseAdjustment(t *testing.T) {
	// The file was prelinked: .stapsdt.base moved from 0x1000 to
	// TextAddr+0x800, so every note address moves by the same amount.
	f := open(t, elftest.Spec{StapsdtBase: elftest.TextAddr + 0x800, Notes: []elftest.Note{
		{Provider: "p", Name: "n", PC: 0x500, Base: 0x1000, Semaphore: 0x1000 + elftest.DataAddr - elftest.TextAddr - 0x800 + 4},
	}})
	cs := f.Probes[0].CallSites[0]
	delta := uint64(elftest.TextAddr + 0x800 - 0x1000)
	if cs.Location != 0x500 || cs.Base != 0x1000 || cs.Address != 0x500+delta {
		t.Errorf("call site %+v, want address %#x", cs, 0x500+delta)
	}
	if cs.Err != nil || cs.FileOffset != cs.Address-elftest.VAddr {
		t.Errorf("file offset %#x (%v)", cs.FileOffset, cs.Err)
	}
	if s := f.Probes[0].Semaphore; s.Adjusted != elftest.DataAddr+4 || s.FileOffset != 0x2004 {
		t.Errorf("semaphore %+v", s)
	}
	// Without a .stapsdt.base section, nothing is adjusted.
	f = open(t, elftest.Spec{Notes: []elftest.Note{{Provider: "p", Name: "n", PC: elftest.TextAddr, Base: 0x1000}}})
	if cs := f.Probes[0].CallSites[0]; cs.Address != elftest.TextAddr {
		t.Errorf("adjusted without .stapsdt.base: %+v", cs)
	}
}

func TestSymbols(t *testing.T) {
	syms := []elftest.Symbol{
		{Name: "glob", Value: elftest.DataAddr + 8},
		{Name: "dup", Value: elftest.DataAddr + 16, Local: true},
		{Name: "dup", Value: elftest.DataAddr + 24, Local: true},
		{Name: "same", Value: elftest.DataAddr + 32, Local: true},
		{Name: "same", Value: elftest.DataAddr + 32},
		{Name: "xglob", Value: 1}, // "glob" is a suffix of this name in the string table
	}
	f := open(t, elftest.Spec{Symbols: syms, Notes: []elftest.Note{{Provider: "p", Name: "n", PC: elftest.TextAddr,
		Args: "8@glob+8(%rip) 8@dup(%rip) 8@same(%rip) 8@missing(%rip) 8@$glob 8@%fs:glob@tpoff"}}})
	args := f.Probes[0].CallSites[0].Args
	if a := args[0]; a.Err != nil || a.Loc.SymbolAddr != elftest.DataAddr+8 || a.Loc.Offset != 8 || !a.Loc.Absolute {
		t.Errorf("glob+8: %+v", a)
	}
	if a := args[1]; a.Err == nil || !strings.Contains(a.Err.Error(), "ambiguous") {
		t.Errorf("dup: want ambiguous, got %+v", a)
	}
	if a := args[2]; a.Err != nil || a.Loc.SymbolAddr != elftest.DataAddr+32 {
		t.Errorf("same: %+v", a)
	}
	if a := args[3]; a.Err == nil || !strings.Contains(a.Err.Error(), "not in .symtab") {
		t.Errorf("missing: %+v", a)
	}
	if a := args[4]; a.Err != nil || a.Loc.Kind != elf.LocConstant || a.Loc.SymbolAddr != elftest.DataAddr+8 {
		t.Errorf("$glob: %+v", a)
	}
	if a := args[5]; a.Err != nil || a.Loc.Kind != elf.LocTLS {
		t.Errorf("tls: %+v", a)
	}
	// A stripped file says so on the argument.
	f = open(t, elftest.Spec{Notes: []elftest.Note{{Provider: "p", Name: "n", PC: elftest.TextAddr, Args: "8@glob(%rip) -4@%eax"}}})
	args = f.Probes[0].CallSites[0].Args
	if a := args[0]; a.Err == nil || !strings.Contains(a.Err.Error(), "stripped") {
		t.Errorf("stripped: %+v", a)
	}
	if args[1].Err != nil {
		t.Errorf("-4@%%eax: %v", args[1].Err)
	}
}

func TestOffsets(t *testing.T) {
	f := open(t, elftest.Spec{Notes: []elftest.Note{
		{Provider: "p", Name: "outside", PC: 0x10, Semaphore: 0x20},
		{Provider: "p", Name: "bss", PC: elftest.TextAddr, Semaphore: elftest.DataAddr + 0x200},
		{Provider: "p", Name: "sem2", PC: elftest.TextAddr, Semaphore: elftest.DataAddr},
		{Provider: "p", Name: "sem2", PC: elftest.TextAddr + 4, Semaphore: elftest.DataAddr + 2},
	}})
	if cs := f.Probes[0].CallSites[0]; cs.Err == nil || f.Probes[0].Semaphore.Err == nil {
		t.Errorf("addresses outside every segment were mapped: %+v %+v", cs, f.Probes[0].Semaphore)
	}
	if s := f.Probes[1].Semaphore; s.Err == nil || !strings.Contains(s.Err.Error(), ".bss") {
		t.Errorf("semaphore in .bss: %+v", s)
	}
	if w := f.Probes[2].Warnings; len(w) != 1 || !strings.Contains(w[0], "semaphore") {
		t.Errorf("call sites naming two semaphores: warnings %q", w)
	}
	// A relocatable object has no final addresses.
	f = open(t, elftest.Spec{Type: goelf.ET_REL, Notes: []elftest.Note{{Provider: "p", Name: "n", PC: 0x10, Args: "8@glob(%rip)"}},
		Symbols: []elftest.Symbol{{Name: "glob", Value: 8}}})
	cs := f.Probes[0].CallSites[0]
	if cs.Err == nil || !strings.Contains(cs.Err.Error(), "relocatable") || cs.Args[0].Err == nil {
		t.Errorf("ET_REL: %+v", cs)
	}
}

func TestMalformed(t *testing.T) {
	good := elftest.Spec{Notes: []elftest.Note{{Provider: "p", Name: "n", PC: elftest.TextAddr, Args: "8@%rax"}}}
	img, lay := elftest.Build(good)
	put32 := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an ELF file"},
		{"script", []byte("#!/bin/sh\necho hi\n"), "not an ELF file"},
		{"magic only", []byte("\x7fELF"), "malformed ELF"},
		{"truncated headers", img[:100], "malformed ELF"},
		{"truncated notes", img[:lay.NoteOffset+8], "malformed ELF"},
		{"huge namesz", put32(img, lay.NoteOffset, 0xfffffff0), "note claims name"},
		{"huge descsz", put32(img, lay.NoteOffset+4, 0x7fffffff), "note claims"},
		{"short desc", put32(img, lay.NoteOffset+4, 10), "shorter than its three addresses"},
	}
	for _, tt := range tests {
		_, err := elf.NewFile(bytes.NewReader(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tt.name, err)
		}
		var fe *elf.FormatError
		if !errors.Is(err, elf.ErrNotELF) && !errors.As(err, &fe) {
			t.Errorf("%s: %T is neither ErrNotELF nor *FormatError", tt.name, err)
		}
	}
	// Note offsets name where the problem is.
	_, err := elf.NewFile(bytes.NewReader(put32(img, lay.NoteOffset, 0xfffffff0)))
	var fe *elf.FormatError
	if !errors.As(err, &fe) || fe.Off != int64(lay.NoteOffset) {
		t.Errorf("bad note at %#x reported as %v", lay.NoteOffset, err)
	}
}

func TestHugeNoteSection(t *testing.T) {
	img, lay := elftest.Build(elftest.Spec{Notes: []elftest.Note{{Provider: "p", Name: "n", PC: elftest.TextAddr}}})
	// Find the .note.stapsdt section header and make it claim 4 GiB.
	ef, err := goelf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range ef.Sections {
		if s.Name == ".note.stapsdt" {
			sizeOff := lay.ShOff + i*64 + 32
			binary.LittleEndian.PutUint64(img[sizeOff:], 4<<30)
		}
	}
	_, err = elf.NewFile(bytes.NewReader(img))
	if err == nil || !strings.Contains(err.Error(), "claims") {
		t.Errorf("4 GiB note section: %v", err)
	}
}
