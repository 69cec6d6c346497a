package patches

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadTracepoint is wrapped by the errors of [AddTracepoint] for input
// that cannot make a tracepoint: a bad name, a line outside the file, a
// tracepoint the file already has.
var ErrBadTracepoint = errors.New("bad tracepoint")

// TraceHeader is the header that defines TRACEPOINT and
// TRACEPOINT_SEMAPHORE, as Bitcoin Core includes it.
const TraceHeader = "util/trace.h"

// callWidth is the longest TRACEPOINT(...) call, indentation included,
// that AddTracepoint writes on one line.
const callWidth = 100

// isASCIIIdent reports whether s is an ASCII C identifier: a letter or '_',
// then letters, digits and '_'.
func isASCIIIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// NewTracepoint is a tracepoint to add to a source file.
type NewTracepoint struct {
	Context string
	Event   string
	Args    []NewArg
}

// NewArg is one argument of a [NewTracepoint].
type NewArg struct {
	// Name says what the argument is, an identifier unique among the
	// tracepoint's arguments.
	Name string
	// Expr is the C or C++ expression passed to the tracepoint.
	Expr string
}

// ID is "context:event".
func (tp *NewTracepoint) ID() string { return tp.Context + ":" + tp.Event }

// Validate checks that the context, event and argument names are
// identifiers (they become symbols and field names), that no two
// arguments share a name, and that the arguments fit in a USDT probe: at
// most twelve, each with an expression.
func (tp *NewTracepoint) Validate() error {
	for _, n := range []string{tp.Context, tp.Event} {
		if !isASCIIIdent(n) {
			return fmt.Errorf("tracepoint %q: %q is not a C identifier: %w", tp.ID(), n, ErrBadTracepoint)
		}
	}
	if len(tp.Args) > MaxArgs {
		return fmt.Errorf("tracepoint %s: %d arguments, a USDT probe takes at most %d: %w", tp.ID(), len(tp.Args), MaxArgs, ErrBadTracepoint)
	}
	seen := map[string]int{}
	for i, a := range tp.Args {
		if strings.TrimSpace(a.Expr) == "" {
			return fmt.Errorf("tracepoint %s: argument %d has no expression: %w", tp.ID(), i+1, ErrBadTracepoint)
		}
		if !isASCIIIdent(a.Name) {
			return fmt.Errorf("tracepoint %s: argument %d: name %q is not a C identifier: %w", tp.ID(), i+1, a.Name, ErrBadTracepoint)
		}
		if j, dup := seen[a.Name]; dup {
			return fmt.Errorf("tracepoint %s: arguments %d and %d are both named %s: %w", tp.ID(), j+1, i+1, a.Name, ErrBadTracepoint)
		}
		seen[a.Name] = i
	}
	return nil
}

// AddTracepoint is [Layout.AddTracepoint] in the newest stage, that of the
// zero Layout.
func AddTracepoint(path string, src []byte, line int, tp NewTracepoint) ([]byte, error) {
	return (*Layout)(nil).AddTracepoint(path, src, line, tp)
}

// AddTracepoint returns the C or C++ source src with tp added in the
// layout's stage: the call inserted before line (1-based) with that
// line's indentation, and #include <util/trace.h> among the includes when
// the file lacks it ("util/trace.h" when the file's own includes are all
// quoted). The call is TRACEPOINT(context, event, args...) in the
// semaphore and variadic stages, and TRACEn(context, event, args...)
// with n the number of arguments (TRACE for none) in the TRACEn stages.
// Only in the semaphore stage does the tracepoint get its
// TRACEPOINT_SEMAPHORE, after the file's last semaphore (or, when it has
// none, after its last #include). path is only used in errors.
//
// A call wider than 100 columns is written with one argument per line, as
// Bitcoin Core does. A line that closes a block ("}") is taken as the end of
// the block the call goes into, so the call is indented one level deeper.
func (l *Layout) AddTracepoint(path string, src []byte, line int, tp NewTracepoint) ([]byte, error) {
	if err := tp.Validate(); err != nil {
		return nil, err
	}
	if n := l.MaxArgs(); len(tp.Args) > n {
		return nil, fmt.Errorf("tracepoint %s: %d arguments, but %s defines no %s (at most %d): %w", tp.ID(), len(tp.Args), l.StageFrom, traceName(len(tp.Args)), n, ErrBadTracepoint)
	}
	info, err := ScanFile(path, src)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if line < 1 || line > info.Lines {
		return nil, fmt.Errorf("%s: line %d out of range 1..%d: %w", path, line, info.Lines, ErrBadTracepoint)
	}
	for _, m := range info.Macros {
		if (m.Kind == Tracepoint || m.Kind == Semaphore || m.Kind == Trace) && m.ID() == tp.ID() {
			return nil, fmt.Errorf("%s:%d: already has %s for %s: %w", path, m.Line, m.Kind, tp.ID(), ErrBadTracepoint)
		}
	}
	lines := strings.SplitAfter(string(src), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if !strings.HasSuffix(lines[len(lines)-1], "\n") {
		lines[len(lines)-1] += "\n"
	}

	// Text to insert after line n (0: before the first), in order.
	after := map[int][]string{}
	if !info.HasTraceInclude() {
		angle := angleIncludes(info)
		inc := "#include <" + TraceHeader + ">\n"
		if !angle {
			inc = "#include \"" + TraceHeader + "\"\n"
		}
		at := includeLine(info, angle)
		after[at] = append(after[at], inc)
	}
	if l.stage().Semaphores() {
		sema := fmt.Sprintf("TRACEPOINT_SEMAPHORE(%s, %s);\n", tp.Context, tp.Event)
		if n := len(info.Semaphores); n > 0 {
			last := info.Semaphores[n-1]
			after[last] = append(after[last], sema)
		} else {
			at := afterIncludes(info, lines)
			after[at] = append(after[at], "\n"+sema)
		}
	}
	after[line-1] = append(after[line-1], l.FormatCall(tp, callIndent(lines, line)))

	var b strings.Builder
	for _, s := range after[0] {
		b.WriteString(s)
	}
	for i, l := range lines {
		b.WriteString(l)
		for _, s := range after[i+1] {
			b.WriteString(s)
		}
	}
	return []byte(b.String()), nil
}

// angleIncludes reports whether util/trace.h is included in angle
// brackets, as Bitcoin Core does: unless every unconditional header of the
// file whose name ends in .h is in quotes.
func angleIncludes(info *FileInfo) bool {
	quoted := false
	for _, inc := range info.Includes {
		if len(inc.Cond) > 0 || !strings.HasSuffix(inc.Path, ".h") {
			continue
		}
		if inc.Angle {
			return true
		}
		quoted = true
	}
	return !quoted
}

// includeLine is the line after which the include of util/trace.h goes,
// among the unconditional project headers (names ending in .h, in angle
// brackets or, when angle is false, in quotes) in sorted order: before the
// first that sorts after it and follows one that sorts before it (a
// file's own header, first, is not part of the sorted list), else after
// the last that sorts before it, else before the first, else after the
// last include.
func includeLine(info *FileInfo, angle bool) int {
	first, last := 0, 0
	for _, inc := range info.Includes {
		if inc.Angle != angle || len(inc.Cond) > 0 || !strings.HasSuffix(inc.Path, ".h") {
			continue
		}
		if first == 0 {
			first = inc.Line
		}
		if inc.Path < TraceHeader {
			last = inc.Line
		} else if last > 0 {
			return inc.Line - 1
		}
	}
	switch {
	case last > 0:
		return last
	case first > 0:
		return first - 1
	}
	return info.LastInclude
}

// afterIncludes is the line after which a file's first semaphore goes:
// its last include or, when that is conditional, the #endif that closes
// the blocks around it.
func afterIncludes(info *FileInfo, lines []string) int {
	levels := 0
	for _, inc := range info.Includes {
		if inc.Line == info.LastInclude {
			levels = len(inc.Cond)
		}
	}
	if levels == 0 {
		return info.LastInclude
	}
	depth := 0
	for i := info.LastInclude; i < len(lines); i++ {
		d := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(d, "#") {
			continue
		}
		word := strings.Fields(strings.TrimSpace(d[1:]) + " ")
		if len(word) == 0 {
			continue
		}
		switch word[0] {
		case "if", "ifdef", "ifndef":
			depth++
		case "endif":
			if depth > 0 {
				depth--
				continue
			}
			if levels--; levels == 0 {
				return i + 1
			}
		}
	}
	return info.LastInclude
}

// callIndent is the indentation of the call inserted before line: that
// line's, one level deeper when the line closes a block, and the previous
// non-blank line's when the line is blank.
func callIndent(lines []string, line int) string {
	for i := line - 1; i >= 0; i-- {
		l := strings.TrimRight(lines[i], "\r\n")
		code := strings.TrimLeft(l, " \t")
		indent := l[:len(l)-len(code)]
		switch {
		case code == "":
			continue
		case i == line-1 && strings.HasPrefix(code, "}"):
			return indent + unit(indent)
		case i < line-1 && strings.HasSuffix(code, "{"):
			return indent + unit(indent)
		}
		return indent
	}
	return ""
}

// unit is one level of indentation in the style of indent.
func unit(indent string) string {
	if strings.HasPrefix(indent, "\t") {
		return "\t"
	}
	return "    "
}

// FormatCall writes the call of tp at indent in the layout's stage
// (TRACEPOINT, or the TRACEn for its number of arguments), ending in a
// newline: on one line when it fits in 100 columns, else with one argument
// per line indented one level deeper.
func (l *Layout) FormatCall(tp NewTracepoint, indent string) string {
	head := fmt.Sprintf("%s(%s, %s", l.CallMacro(len(tp.Args)), tp.Context, tp.Event)
	args := make([]string, len(tp.Args))
	for i, a := range tp.Args {
		args[i] = strings.TrimSpace(a.Expr)
	}
	one := indent + head
	for _, a := range args {
		one += ", " + a
	}
	one += ");\n"
	if len(one) <= callWidth+1 || len(args) == 0 {
		return one
	}
	var b strings.Builder
	b.WriteString(indent + head + ",\n")
	for i, a := range args {
		b.WriteString(indent + unit(indent) + a)
		if i < len(args)-1 {
			b.WriteString(",\n")
		}
	}
	b.WriteString(");\n")
	return b.String()
}
