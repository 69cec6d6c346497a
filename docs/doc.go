// Package docs reads and writes tracing documentation in the format of
// Bitcoin Core's doc/tracing.md.
//
// A document has "### Context `name`" sections, each with
// "#### Tracepoint `context:event`" entries: free text, then
// "Arguments passed:" and a numbered list whose items read
// "Description as `type` remark". [Parse] turns that into a [Doc] of
// [Context] sections, [Tracepoint] entries and their [Arg] items, every one
// with its line numbers, and maps each type phrase to a [Type] that knows
// the USDT argument spec it should have in the binary ([Type.Spec]).
// [FormatTracepoint] and [FormatContext] write entries and sections back in
// the same format.
//
// The reader follows the format as it has actually been written, not only
// as it is meant to be: types after "as an" or without "as", a stray space
// inside the backticks, the type before the description, items wrapped
// onto indented or lazy continuation lines, remarks and footnote
// references after the type, notes after the list, footnote definitions
// and prose in a section before its first entry. Lines in code fences and
// HTML comments are never headings or list items.
//
// # Errors
//
// [Parse] and [ParseFile] return a nil Doc only when the document cannot be
// read: an I/O error, or a document over [MaxSize] bytes or [MaxLines]
// lines, which wraps [ErrTooLarge]. Otherwise they return everything they
// could read, and what they could not read is a [*SyntaxError] with the
// file and line: all of them are in [Doc.Problems], and the returned
// error is their errors.Join, so errors.As finds the first. A problem
// never drops or shifts what follows it: an argument whose type cannot be
// mapped keeps its position with an Invalid type and its own error in
// [Arg.Err].
//
// # Security
//
// Documents are untrusted input. Reads are bounded by [MaxSize] and
// [MaxLines] before anything is allocated per line, numbers in the text
// are range-checked before they are believed, regular expressions are
// Go's linear-time ones, and at most a thousand problems are kept. The
// package recovers from panics only in Parse, turning them into errors,
// so fuzzing still sees bugs.
package docs
