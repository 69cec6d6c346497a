package elf

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrNotELF is wrapped by the error [Open] returns for a file without the ELF magic.
var ErrNotELF = errors.New("not an ELF file")

// FormatError reports malformed input: where in the file and what is wrong.
type FormatError struct {
	Off int64  // file offset of the malformed data, -1 when unknown
	Msg string // what is wrong
	Err error  // underlying error, if any
}

func (e *FormatError) Error() string {
	msg := e.Msg
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Off < 0 {
		return "malformed ELF: " + msg
	}
	return fmt.Sprintf("malformed ELF at offset %#x: %s", e.Off, msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ArgError is the reason one argument spec could not be decoded.
type ArgError struct {
	Index int    // 0-based argument index
	Spec  string // the argument's text as in the note
	Msg   string
}

func (e *ArgError) Error() string {
	return fmt.Sprintf("arg%d %s: %s", e.Index, quote(e.Spec), e.Msg)
}

// quote quotes text from a file for a message, cut after MaxExtraText
// bytes: a message never grows with the input.
func quote(s string) string {
	if len(s) > MaxExtraText {
		return strconv.Quote(s[:MaxExtraText]) + "..."
	}
	return strconv.Quote(s)
}
