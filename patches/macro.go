package patches

import (
	"strconv"
	"strings"
)

// Kind says which family of tracepoint macro a call belongs to.
type Kind uint8

const (
	// Tracepoint is Bitcoin Core's TRACEPOINT(context, event, args...).
	Tracepoint Kind = iota + 1
	// Semaphore is TRACEPOINT_SEMAPHORE(context, event), which defines the
	// semaphore of a tracepoint.
	Semaphore
	// Trace is the legacy TRACE(context, event) to TRACE12(context, event,
	// a1, ..., a12) that Bitcoin Core used until 2024.
	Trace
	// DTrace is sys/sdt.h's DTRACE_PROBE(provider, name) to
	// DTRACE_PROBE12(provider, name, ...).
	DTrace
	// Stap is sys/sdt.h's STAP_PROBE(provider, name) to
	// STAP_PROBE12(provider, name, ...) and STAP_PROBEV(provider, name, ...).
	Stap
)

var kindNames = [...]string{
	Tracepoint: "tracepoint",
	Semaphore:  "semaphore",
	Trace:      "trace",
	DTrace:     "dtrace",
	Stap:       "stap",
}

// String returns the kind's lowercase name: "tracepoint", "semaphore",
// "trace", "dtrace" or "stap".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MaxArgs is the most arguments a USDT probe can have (sys/sdt.h's limit).
const MaxArgs = 12

// Macro is one call of a tracepoint macro in a source file.
type Macro struct {
	Kind Kind
	// Name is the macro as written: "TRACEPOINT", "TRACE5", "STAP_PROBEV".
	Name string
	// Context and Event name the tracepoint (provider and name in SDT's
	// words). They are the first two arguments as written, which are
	// identifiers unless Err says otherwise.
	Context string
	Event   string
	// Args are the argument expressions after context and event, as
	// written, with comments removed and every run of whitespace turned
	// into one space. A semaphore has none.
	Args []string

	File    string // path as given to the scan
	Line    int    // 1-based line of the macro name
	Col     int    // 1-based byte column of the macro name
	EndLine int    // line of the closing parenthesis

	// Cond holds the conditions of the enclosing #if, #ifdef, #ifndef,
	// #elif and #else blocks, outermost first, as written: "ENABLE_WALLET",
	// "defined(WIN32)", "!defined(WIN32)" for its #else, "!A && B" for the
	// #elif B of an #if A. A header's include guard is left out. Nil when
	// the call is not conditional.
	Cond []string

	// Err is a *SyntaxError when the call is ill-formed: an argument count
	// that does not match the macro's (TRACE5 with four arguments), more
	// than MaxArgs arguments, an empty argument, or a context or event that
	// is not an identifier. The call is reported all the same.
	Err error
}

// ID returns "context:event".
func (m *Macro) ID() string { return m.Context + ":" + m.Event }

// Condition returns Cond joined with " && ", parenthesising conditions that
// need it; "" when the call is not conditional.
func (m *Macro) Condition() string { return joinConds(m.Cond) }

func joinConds(conds []string) string {
	if len(conds) == 1 {
		return conds[0]
	}
	parts := make([]string, len(conds))
	for i, c := range conds {
		if looseCond(c) {
			c = "(" + c + ")"
		}
		parts[i] = c
	}
	return strings.Join(parts, " && ")
}

// looseCond reports whether c has a || or ?: outside parentheses, so that
// it needs them when joined with &&.
func looseCond(c string) bool {
	depth := 0
	for i := 0; i < len(c); i++ {
		switch c[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '?':
			if depth == 0 {
				return true
			}
		case '|':
			if depth == 0 && i+1 < len(c) && c[i+1] == '|' {
				return true
			}
		}
	}
	return false
}

// FileInfo is what a scan learns about one source file: its tracepoint
// macros and what a patch that adds one needs to know.
type FileInfo struct {
	Path string
	// Macros are the tracepoint macro calls in source order.
	Macros []Macro
	// Includes are the #include (and #include_next, #import) directives in
	// source order, conditional ones included.
	Includes []Include
	// LastInclude is the line of the last #include, 0 when there is none.
	LastInclude int
	// TraceInclude is the line of #include <util/trace.h> (or
	// "util/trace.h"), 0 when the file does not include it.
	TraceInclude int
	// Semaphores are the lines of the TRACEPOINT_SEMAPHORE calls.
	Semaphores []int
	// Defines are the file's #define directives, in source order; an
	// include guard's is left out.
	Defines []Define
	// Lines is the number of lines in the file.
	Lines int
}

// Define is one #define directive.
type Define struct {
	Name string
	Line int
	// Params is true for a function-like macro: NAME( with no space.
	Params bool
	// Cond holds the enclosing conditions, as in Macro.Cond.
	Cond []string
}

// Defined reports whether the file has a #define of name.
func (f *FileInfo) Defined(name string) bool {
	for _, d := range f.Defines {
		if d.Name == name {
			return true
		}
	}
	return false
}

// HasTraceInclude reports whether the file includes util/trace.h.
func (f *FileInfo) HasTraceInclude() bool { return f.TraceInclude > 0 }

// Include is one #include directive.
type Include struct {
	Line int
	// Path is the header as written between the brackets or quotes, or the
	// rest of the directive when it is a macro.
	Path string
	// Angle is true for <path>, false for "path".
	Angle bool
	// Cond holds the enclosing conditions, as in Macro.Cond.
	Cond []string
}
