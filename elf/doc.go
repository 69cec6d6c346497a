// Package elf reads USDT tracepoints (SystemTap SDT notes, .note.stapsdt) out of
// ELF executables and shared libraries.
//
// A [File] holds the tracepoints ([Probe]) of one ELF file. A probe is a
// provider:name pair with an optional semaphore; it has one [CallSite] per note,
// and every call site has its own argument specs, decoded into [Arg] values by
// the target's e_machine (never the host's): x86-64, i386 and aarch64.
//
// Only what is needed is read: the ELF and program headers, the section
// headers, the note section and, when an operand names a symbol, the symbol
// table. A 250 MB binary is never read whole.
//
// # Errors
//
// [Open] and [NewFile] return a [*FormatError] when the file is not ELF or is
// malformed; it says at which file offset and why. [ErrNotELF] is wrapped by
// the error for a file that does not start with the ELF magic.
//
// Argument specs that cannot be decoded never fail the file: each such
// argument carries an [*ArgError] in [Arg.Err] with the spec's text, and the
// other arguments keep their positions.
//
// # Security
//
// Files are untrusted input. Every read and allocation is bounded: sections
// and tables that claim more than the limits below are reported as malformed
// instead of being allocated. A note's argument string is decoded up to
// [MaxArgs] operands, and the text kept of it is bounded likewise, however
// long the note; a file with more argument specs in all than any real one
// (262,144) is malformed. What a note costs beyond that is its CallSite.
// The package recovers from panics only in its
// exported entry points, turning them into errors, so fuzzing still sees bugs.
package elf
