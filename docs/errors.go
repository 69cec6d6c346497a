package docs

import (
	"errors"
	"fmt"
)

// ErrTooLarge is wrapped by the error Parse returns for a document over
// MaxSize bytes or MaxLines lines.
var ErrTooLarge = errors.New("tracing doc too large")

// SyntaxError reports malformed input: the file, the line and what is wrong.
type SyntaxError struct {
	File string // the name given to Parse
	Line int    // 1-based line number
	Msg  string // what is wrong, and the fix when it is known
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}
