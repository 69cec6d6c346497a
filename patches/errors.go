package patches

import (
	"errors"
	"fmt"
)

// MaxFileSize is the largest source file the scanner reads. Larger files are
// reported with [ErrTooLarge] instead of being read.
const MaxFileSize = 8 << 20

// ErrTooLarge is wrapped by the error for a file over [MaxFileSize].
var ErrTooLarge = errors.New("file larger than 8 MiB")

// SyntaxError reports malformed source: where it is and what is wrong.
// The scan returns one when it cannot go on (an unterminated comment,
// string or call), and [Macro.Err] holds one for a call it reports anyway
// (a TRACEn whose argument count is not n).
type SyntaxError struct {
	File string // path as given to the scan; may be empty
	Line int    // 1-based line
	Col  int    // 1-based byte column
	Msg  string // what is wrong
}

func (e *SyntaxError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}
