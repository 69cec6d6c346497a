package elf_test

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

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

// Many small notes: what a note costs is its call site, with no string,
// slice or warning of its own unless it has arguments of its own.
func TestManyNotes(t *testing.T) {
	const n = 1 << 18
	build := func(note func(i int) elftest.Note) []byte {
		notes := make([]elftest.Note, n)
		for i := range notes {
			notes[i] = note(i)
		}
		img, _ := elftest.Build(elftest.Spec{Notes: notes})
		return img
	}
	argSize := uint64(unsafe.Sizeof(elf.Arg{}))
	tests := []struct {
		name string
		img  []byte
		// The bounds, as multiples of the file's size, and the objects
		// allocated per note.
		allocated, held, mallocs float64
		args                     int // argument specs per note
		check                    func(t *testing.T, f *elf.File)
	}{
		{"one tracepoint, semaphores differ", build(func(i int) elftest.Note {
			return elftest.Note{Provider: "p", Name: "n", PC: elftest.TextAddr + uint64(i%4096), Semaphore: elftest.DataAddr + uint64(i%2)*2}
		}), 4, 3, 0.01, 0, func(t *testing.T, f *elf.File) {
			p := f.Probes[0]
			if len(f.Probes) != 1 || len(p.CallSites) != n || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "131071 more call sites") {
				t.Errorf("%d probes, %d call sites, warnings %q", len(f.Probes), len(p.CallSites), p.Warnings)
			}
		}},
		{"a tracepoint each", build(func(i int) elftest.Note {
			return elftest.Note{Provider: "p", Name: "n" + strconv.Itoa(i), PC: elftest.TextAddr}
		}), 12, 5, 2.1, 0, func(t *testing.T, f *elf.File) {
			if len(f.Probes) != n || f.Probes[n-1].Name != "n"+strconv.Itoa(n-1) {
				t.Errorf("%d probes", len(f.Probes))
			}
		}},
		{"addresses outside the file", build(func(i int) elftest.Note {
			return elftest.Note{Provider: "p", Name: "n", PC: uint64(i)}
		}), 4, 3, 1.01, 0, func(t *testing.T, f *elf.File) {
			if cs := f.Probes[0].CallSites[n-1]; cs.Err == nil || !strings.Contains(cs.Err.Error(), "no executable loadable segment") {
				t.Errorf("call site %+v", cs)
			}
		}},
		{"the same arguments", build(func(i int) elftest.Note {
			return elftest.Note{Provider: "p", Name: "n", PC: elftest.TextAddr, Args: "-4@%esi"}
		}), 4, 3, 1.01, 1, func(t *testing.T, f *elf.File) {
			cs := f.Probes[0].CallSites
			if len(cs) != n || len(cs[n-1].Args) != 1 || unsafe.StringData(cs[0].ArgsRaw) != unsafe.StringData(cs[n-1].ArgsRaw) {
				t.Errorf("call sites with the same specs do not share their text")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, allocated, mallocs, held := readCost(t, tt.img)
			tt.check(t, f)
			// The Args are some 300 bytes each; maxArgSpecs bounds them.
			size, args := float64(len(tt.img)), float64(uint64(n*tt.args)*argSize)
			if float64(allocated) > tt.allocated*size+args || float64(held) > tt.held*size+args || float64(mallocs) > tt.mallocs*n+100 {
				t.Errorf("reading %d notes in %d bytes allocated %d bytes in %d objects, and the result holds %d bytes", n, len(tt.img), allocated, mallocs, held)
			}
			t.Logf("%d bytes: allocated %.1fx, held %.1fx (besides %.0f bytes of Args), %.2f objects a note",
				len(tt.img), (float64(allocated)-args)/size, (float64(held)-args)/size, args, float64(mallocs)/n)
		})
	}
}

// The decoded Args of a file are bounded in all: more argument specs than
// any file has is an error.
func TestTooManyArgSpecs(t *testing.T) {
	notes := make([]elftest.Note, 30_000)
	for i := range notes {
		notes[i] = elftest.Note{Provider: "p", Name: "n", PC: elftest.TextAddr, Args: strings.Repeat("1@$0 ", elf.MaxArgs)}
	}
	img, _ := elftest.Build(elftest.Spec{Notes: notes})
	_, err := elf.NewFile(bytes.NewReader(img))
	var fe *elf.FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "argument specs") {
		t.Errorf("360000 argument specs: %v", err)
	}
}
