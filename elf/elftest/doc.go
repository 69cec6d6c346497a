// Package elftest writes small ELF files with chosen stapsdt notes, for tests
// of every class, byte order and machine, and for malformed input.
package elftest
