package audit

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Severity orders findings; --fail-on compares against it.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "info", "note":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", s)
}

// Kind names what a finding is about. The kinds and their severities are
// documented, with an example each, in docs/audit.md.
type Kind string

const (
	Undocumented     Kind = "undocumented"           // in source or binary, not in the docs
	Stale            Kind = "stale"                  // documented, in neither source nor binary
	NotInBinary      Kind = "not-in-binary"          // in source and docs, not in the binary
	NoTracepoints    Kind = "no-tracepoints"         // the binary has no notes at all
	ArgCount         Kind = "arg-count"              // argument counts differ
	ArgSize          Kind = "arg-size"               // documented size differs from the spec's
	ArgSign          Kind = "arg-signedness"         // documented signedness differs from the spec's
	PointerSize      Kind = "pointer-size"           // a documented pointer whose spec is not pointer-sized
	MissingSemaphore Kind = "missing-semaphore"      // TRACEPOINT without TRACEPOINT_SEMAPHORE
	OrphanSemaphore  Kind = "orphan-semaphore"       // TRACEPOINT_SEMAPHORE without TRACEPOINT
	UnguardedNote    Kind = "no-semaphore-in-binary" // the source defines a semaphore, the note has none
	SiteArgCount     Kind = "call-site-arg-count"    // call sites of one tracepoint differ in count
	TooManyArgs      Kind = "too-many-args"          // more than 12 arguments
	BpftraceArgs     Kind = "bpftrace-arg-limit"     // an argument beyond arg5
	BpftraceStrlen   Kind = "bpftrace-strlen"        // a documented string longer than 63 characters
	DocSyntax        Kind = "doc-syntax"             // the doc could not be read as the format wants
	SourceSyntax     Kind = "source-syntax"          // a macro call that could not be read
	UndecodableSpec  Kind = "undecodable-spec"       // a binary argument spec that could not be decoded
)

// Finding is one disagreement.
type Finding struct {
	Kind       Kind     `json:"kind"`
	Severity   Severity `json:"severity"`
	Tracepoint string   `json:"tracepoint"` // context:event, "" for file-wide findings
	// File and Line locate the finding in the doc or the source; for a
	// finding about the binary, File is the binary and Line is 0.
	File string `json:"file"`
	Line int    `json:"line"`
	// CallSite is the link-time address of the binary call site the
	// finding is about (list's call_sites[].address), nil when it is
	// about none.
	CallSite *uint64 `json:"call_site"`
	Message  string  `json:"message"`
	Fix      string  `json:"fix"`
}

// Where is the finding's place: file, file:line, or file@0xADDRESS for a
// call site.
func (f Finding) Where() string {
	w := f.File
	if f.Line > 0 {
		w = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	if f.CallSite != nil {
		w += fmt.Sprintf("@%#x", *f.CallSite)
	}
	return w
}

// Key identifies a finding across runs on new builds and edits: not by
// line or address, which move with unrelated edits and every rebuild.
func (f Finding) Key() string {
	return strings.Join([]string{f.Tracepoint, string(f.Kind), f.Severity.String(), hexAddress().ReplaceAllString(f.Message, "0x")}, "\x00")
}

var hexAddress = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`0x[0-9a-fA-F]+`) })

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s [%s]", f.Where(), f.Severity, f.Message, f.Kind)
}

// Changes compares the findings of two audits by their Key: those of now
// that before lacks (new), and those of before that now lacks (fixed).
func Changes(before, now []Finding) (added, fixed []Finding) {
	in := func(fs []Finding) map[string]bool {
		m := map[string]bool{}
		for _, f := range fs {
			m[f.Key()] = true
		}
		return m
	}
	was, is := in(before), in(now)
	for _, f := range now {
		if !was[f.Key()] {
			added = append(added, f)
		}
	}
	for _, f := range before {
		if !is[f.Key()] {
			fixed = append(fixed, f)
		}
	}
	return added, fixed
}

// OneLine is the finding on one line: tracepoint, severity, kind, message
// and where.
func (f Finding) OneLine() string {
	tp := f.Tracepoint
	if tp == "" {
		tp = "-"
	}
	return fmt.Sprintf("%s %s %s: %s (%s)", tp, f.Severity, f.Kind, f.Message, f.Where())
}

// ChangeLines are Changes as sorted lines, "new   " or "fixed " first.
func ChangeLines(before, now []Finding) []string {
	added, fixed := Changes(before, now)
	var lines []string
	for _, f := range added {
		lines = append(lines, "new   "+f.OneLine())
	}
	for _, f := range fixed {
		lines = append(lines, "fixed "+f.OneLine())
	}
	sort.Strings(lines)
	return lines
}

// Named is the message, with the finding's tracepoint first where it does
// not name it: formats without a tracepoint column (GitHub's
// annotations, SARIF) still say which entry it is about.
func (f Finding) Named() string {
	if f.Tracepoint == "" || strings.Contains(f.Message, f.Tracepoint) {
		return f.Message
	}
	return f.Tracepoint + ": " + f.Message
}
