package elf

import (
	"bytes"
	goelf "debug/elf"
	"encoding/binary"
	"testing"
)

// FuzzParseArgs checks that no argument string panics the spec parser, that
// every operand up to the limit yields exactly one argument in order, those
// beyond it one more, and that a decoded argument has a valid size.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"-8@%rbx 8@%rax", "8@192(%rsp)", "-8@16(%rsp,%rax,8)", "8@glob+8(%rip)", "8@%fs:t@tpoff",
		"4f@%xmm0", "8@[x0, #:lo12:.LANCHOR0]", "8@[x0, x1, lsl #3]", "-2@-7", "1@%ah", "8@$0xffffffffffffffff"} {
		for _, m := range []byte{0, 1, 2} {
			f.Add(m, s)
		}
	}
	f.Fuzz(func(t *testing.T, m byte, s string) {
		machine := []goelf.Machine{goelf.EM_X86_64, goelf.EM_386, goelf.EM_AARCH64}[int(m)%3]
		args := ParseArgs(machine, s)
		if n := len(splitArgs(s)); len(args) != min(n, MaxArgs+1) {
			t.Fatalf("%d args for %d operands", len(args), n)
		}
		for i, a := range args {
			if i == MaxArgs {
				if a.Err == nil || len(a.Raw) > MaxExtraText+3 {
					t.Fatalf("the operands beyond the limit: raw %q, err %v", a.Raw, a.Err)
				}
				break
			}
			if a.Index != i {
				t.Fatalf("arg %d has index %d", i, a.Index)
			}
			if a.Err == nil && a.Size != 1 && a.Size != 2 && a.Size != 4 && a.Size != 8 {
				t.Fatalf("%q decoded with size %d", a.Raw, a.Size)
			}
			if a.Err == nil && a.Loc.Kind == LocInvalid {
				t.Fatalf("%q decoded without a location", a.Raw)
			}
			_ = a.String()
		}
	})
}

// FuzzNotes feeds arbitrary bytes to the note-section parser.
func FuzzNotes(f *testing.F) {
	noteOf := func(bo binary.ByteOrder, desc string) []byte {
		var b bytes.Buffer
		w := func(v uint32) { var x [4]byte; bo.PutUint32(x[:], v); b.Write(x[:]) }
		w(8)
		w(uint32(len(desc)))
		w(3)
		b.WriteString("stapsdt\x00")
		b.WriteString(desc)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		return b.Bytes()
	}
	addrs := string(make([]byte, 24))
	f.Add(noteOf(binary.LittleEndian, addrs+"p\x00n\x00-4@%eax\x00"), true, false)
	f.Add(noteOf(binary.BigEndian, addrs+"p\x00n\x00\x00"), true, true)
	f.Add(noteOf(binary.LittleEndian, addrs[:12]+"p\x00n\x00"), false, false)
	f.Add([]byte{1, 0, 0, 0}, true, false)
	f.Fuzz(func(t *testing.T, data []byte, is64, big bool) {
		class, bo := goelf.ELFCLASS32, binary.ByteOrder(binary.LittleEndian)
		if is64 {
			class = goelf.ELFCLASS64
		}
		if big {
			bo = binary.BigEndian
		}
		parseNotes(data, 0, bo, class, 4, func(n *note) error {
			provider, name, ok := bytes.Cut(n.id, []byte{0})
			if !ok || len(provider) != n.providerLen || len(provider) == 0 || len(name) == 0 || bytes.IndexByte(name, 0) >= 0 ||
				n.off < 0 || n.off >= int64(len(data)) {
				t.Fatalf("bad note accepted: %+v", n)
			}
			return nil
		})
	})
}

// FuzzFile feeds arbitrary bytes to the whole reader, without the panic
// recovery of the exported entry point.
func FuzzFile(f *testing.F) {
	for _, seed := range fuzzFileSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := newFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := 0
		for _, p := range file.Probes {
			n += len(p.CallSites)
		}
		if n != file.Notes {
			t.Fatalf("%d call sites for %d notes", n, file.Notes)
		}
	})
}
