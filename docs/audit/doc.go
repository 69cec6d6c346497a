// Package audit checks that a program's tracing docs (Bitcoin Core's
// doc/tracing.md format), the TRACEPOINT calls in its source and the USDT
// notes in its binaries agree, and says what disagrees, where, and how to fix
// it.
//
// Any two of the three views are enough. They are joined by context:event;
// [Run] returns one [Finding] per disagreement, each with a [Severity], the
// doc or source file and line (or the binary's call site), and a fix.
//
// The source view comes in as plain [Source] values so that this package
// does not depend on how the source was scanned.
//
// # Security
//
// The inputs are parsed by packages docs and elf; this package only compares
// them and allocates in proportion to them.
package audit
