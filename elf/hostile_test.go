package elf_test

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// readCost reads img and returns the file with what reading it cost: the
// bytes and objects allocated, and the bytes the result still holds.
func readCost(t *testing.T, img []byte) (f *elf.File, allocated, mallocs, held uint64) {
	t.Helper()
	var before, after, kept runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := elf.NewFile(bytes.NewReader(img))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&kept)
	runtime.KeepAlive(f)
	if kept.HeapAlloc > before.HeapAlloc {
		held = kept.HeapAlloc - before.HeapAlloc
	}
	return f, after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs, held
}

// A note with far more operands than an SDT probe can have: the first
// MaxArgs are decoded, the others are one error, and neither the reading
// nor the result costs more than a small multiple of the file.
func TestManyOperands(t *testing.T) {
	const n = 600_000
	img, _ := elftest.Build(elftest.Spec{Notes: []elftest.Note{
		{Provider: "p", Name: "wide", PC: elftest.TextAddr, Args: strings.Repeat("8@%rdi ", n)},
		{Provider: "p", Name: "narrow", PC: elftest.TextAddr, Args: "-4@%esi 8@%rdi"},
		{Provider: "p", Name: "long", PC: elftest.TextAddr, Args: "8@" + strings.Repeat("\x1b", 1<<20)},
	}})
	f, allocated, mallocs, held := readCost(t, img)
	cs := f.Probes[0].CallSites[0]
	if cs.ArgCount != n || len(cs.Args) != elf.MaxArgs+1 {
		t.Fatalf("%d operands counted, %d args; want %d and %d", cs.ArgCount, len(cs.Args), n, elf.MaxArgs+1)
	}
	for _, a := range cs.Args[:elf.MaxArgs] {
		if a.Err != nil || a.Loc.Reg.Canonical != "rdi" || a.Raw != "8@%rdi" {
			t.Errorf("arg %d: %+v", a.Index, a)
		}
	}
	last := cs.Args[elf.MaxArgs]
	if last.Index != elf.MaxArgs || last.Err == nil || !strings.Contains(last.Err.Error(), "600000 operands") || len(last.Raw) > elf.MaxExtraText+3 {
		t.Errorf("the operands beyond the limit: raw %q, err %v", last.Raw, last.Err)
	}
	if errs := cs.ArgErrors(); len(errs) != 1 {
		t.Errorf("%d argument errors, want 1", len(errs))
	}
	if max := elf.MaxArgs*len("8@%rdi ") + elf.MaxExtraText + 3; len(cs.ArgsRaw) > max || !strings.HasPrefix(cs.ArgsRaw, "8@%rdi 8@%rdi") {
		t.Errorf("ArgsRaw has %d bytes (at most %d): %.40q", len(cs.ArgsRaw), max, cs.ArgsRaw)
	}
	if cs := f.Probes[1].CallSites[0]; cs.ArgCount != 2 || len(cs.Args) != 2 || cs.ArgsRaw != "-4@%esi 8@%rdi" {
		t.Errorf("the next note: %+v", cs)
	}
	if cs := f.Probes[2].CallSites[0]; len(cs.Args) != 1 || len(cs.ArgsRaw) > elf.MaxExtraText+3 || cs.Args[0].Err == nil || len(cs.Args[0].Err.Error()) > 1000 {
		t.Errorf("a 1 MiB operand: %d args, raw of %d bytes, %.100v", len(cs.Args), len(cs.ArgsRaw), cs.Args)
	}
	size := uint64(len(img))
	if allocated > 3*size || mallocs > 1000 {
		t.Errorf("reading a %d-byte file allocated %d bytes in %d objects", size, allocated, mallocs)
	}
	if held > size/16 {
		t.Errorf("the result of a %d-byte file holds %d bytes", size, held)
	}
}
