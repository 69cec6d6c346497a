package elf

import (
	goelf "debug/elf"
	"encoding/binary"
	"fmt"
)

// File is the USDT view of one ELF file.
type File struct {
	Path      string
	Machine   goelf.Machine
	Class     goelf.Class // ELFCLASS32 or ELFCLASS64
	ByteOrder binary.ByteOrder
	Type      goelf.Type // ET_EXEC, ET_DYN or ET_REL
	BuildID   string     // GNU build-id in hex, "" when the file has none
	// BuildIDPending is set when the file has a build-id note whose
	// contents are still zero: GNU ld writes the note last, so a linker is
	// still writing the file.
	BuildIDPending bool

	// Probes are the tracepoints in the order their first note appears.
	Probes []Probe

	// Notes is the number of stapsdt notes read (the sum of all call sites).
	Notes int
}

// PointerSize is the size in bytes of an address in the target.
func (f *File) PointerSize() int {
	if f.Class == goelf.ELFCLASS32 {
		return 4
	}
	return 8
}

// Arch names the target architecture as used in output: "x86_64", "i386",
// "aarch64", or the ELF machine name for others.
func (f *File) Arch() string { return archName(f.Machine) }

// Probe is one tracepoint (context:event in Bitcoin Core's words,
// provider:name in SDT's) with all its call sites.
type Probe struct {
	Provider string
	Name     string

	// Semaphore is nil when the tracepoint has none.
	Semaphore *Semaphore

	CallSites []CallSite

	// Warnings are oddities that do not stop the probe from being used,
	// such as call sites that name different semaphores.
	Warnings []string
}

// ID returns "provider:name".
func (p *Probe) ID() string { return p.Provider + ":" + p.Name }

// Semaphore is the counter a tracer increments so the traced program
// executes a guarded probe.
type Semaphore struct {
	// Address is the semaphore address as the note holds it.
	Address uint64
	// Adjusted is Address after the .stapsdt.base adjustment.
	Adjusted uint64
	// FileOffset is where the semaphore lives in the file: the
	// ref_ctr_offset a uprobe needs. Valid only when Err is nil.
	FileOffset uint64
	// Err says why FileOffset is unknown (relocatable object, address in
	// no loadable segment).
	Err error
}

// CallSite is one note: one place in the code where the probe fires.
type CallSite struct {
	// Location is the probe address as the note holds it.
	Location uint64
	// Base is the .stapsdt.base address as the note holds it.
	Base uint64
	// Address is Location after the .stapsdt.base adjustment (prelink).
	Address uint64
	// FileOffset is the probe's offset in the file: where a uprobe goes.
	// Valid only when Err is nil.
	FileOffset uint64
	// SemaphoreAddress is the semaphore address of this note (0 for none).
	SemaphoreAddress uint64
	// NoteOffset is the file offset of the note, for diagnostics.
	NoteOffset int64
	// ArgsRaw is the argument string exactly as in the note, unless the
	// note has more than MaxArgs operands or one longer than any spec: then
	// it is the operands joined by spaces, with only the first
	// MaxExtraText bytes, followed by "...", of an overlong one and of
	// those beyond the limit.
	ArgsRaw string
	// Args are the decoded argument specs, one per operand, as
	// [ParseArgs] returns them: when the note has more than MaxArgs, the
	// last Arg stands for all those beyond the limit, with an error.
	Args []Arg
	// ArgCount is the number of operands in the note: len(Args), unless
	// the note has more than MaxArgs.
	ArgCount int
	// Err says why FileOffset is unknown.
	Err error
}

// ArgErrors returns the errors of the arguments that could not be decoded.
func (c *CallSite) ArgErrors() []error {
	var errs []error
	for _, a := range c.Args {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// MaxArgs is the most arguments an SDT probe can have (sys/sdt.h's limit,
// and libbpf's BPF_USDT_MAX_ARG_CNT).
const MaxArgs = 12

func archName(m goelf.Machine) string {
	switch m {
	case goelf.EM_X86_64:
		return "x86_64"
	case goelf.EM_386:
		return "i386"
	case goelf.EM_AARCH64:
		return "aarch64"
	}
	return fmt.Sprint(m)
}
