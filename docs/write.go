package docs

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	// DescriptionPlaceholder is the description NewTracepoint gives an entry.
	DescriptionPlaceholder = "Is called when TODO: say when and what the arguments are for."
	// ArgPlaceholder is the description NewTracepoint gives each argument.
	ArgPlaceholder = "TODO: what this argument is"
)

// NewTracepoint returns an entry for context:event with one argument per
// type, descriptions being placeholders for a person to fill in. A type's
// documented length goes in its argument's remark.
func NewTracepoint(context, event string, types ...Type) *Tracepoint {
	tp := &Tracepoint{Context: context, Event: event, Description: DescriptionPlaceholder, Args: []Arg{}}
	for i, t := range types {
		a := Arg{Index: i, Description: ArgPlaceholder, TypePhrase: t.Phrase(), Type: t}
		if d := t.detail(); d != "" {
			a.Remark = "(" + d + ")"
		}
		tp.Args = append(tp.Args, a)
	}
	return tp
}

// FormatTracepoint renders an entry in the format Parse reads:
//
//	#### Tracepoint `context:event`
//
//	Description.
//
//	Arguments passed:
//	1. Description as `type` remark
//
//	Notes.
//
// An entry without arguments has no "Arguments passed:" list, unless it
// has notes: then "Arguments passed: none" keeps them apart from the
// description. Line numbers are ignored. The text ends in a single
// newline; entries are separated by a blank line.
func FormatTracepoint(tp *Tracepoint) string {
	var b bytes.Buffer
	writeTracepoint(&b, tp)
	return b.String()
}

// WriteTracepoint writes FormatTracepoint(tp) to w.
func WriteTracepoint(w io.Writer, tp *Tracepoint) error {
	_, err := io.WriteString(w, FormatTracepoint(tp))
	return err
}

// FormatContext renders a "### Context `name`" section: the heading, the
// description if any, and its entries. A new section for name alone is
// FormatContext(&Context{Name: name}).
func FormatContext(c *Context) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### Context %s\n", codeSpanOf(c.Name))
	if c.Description != "" {
		b.WriteString("\n" + c.Description + "\n")
	}
	for _, tp := range c.Tracepoints {
		b.WriteByte('\n')
		writeTracepoint(&b, tp)
	}
	return b.String()
}

// WriteContext writes FormatContext(c) to w.
func WriteContext(w io.Writer, c *Context) error {
	_, err := io.WriteString(w, FormatContext(c))
	return err
}

func writeTracepoint(b *bytes.Buffer, tp *Tracepoint) {
	fmt.Fprintf(b, "#### Tracepoint %s\n", codeSpanOf(tp.ID()))
	if tp.Description != "" {
		b.WriteString("\n" + tp.Description + "\n")
	}
	switch {
	case len(tp.Args) > 0:
		b.WriteString("\nArguments passed:\n")
		for i := range tp.Args {
			b.WriteString(strconv.Itoa(i+1) + ".")
			if item := FormatArg(&tp.Args[i]); item != "" {
				b.WriteString(" " + item)
			}
			b.WriteByte('\n')
		}
	case tp.Notes != "":
		b.WriteString("\nArguments passed: none\n") // keeps the notes apart from the description
	}
	if tp.Notes != "" {
		b.WriteString("\n" + tp.Notes + "\n")
	}
}

// FormatArg renders an argument list item without its number:
// "Description as `type` remark". The type is written as TypePhrase when
// that spells the same type, else with its canonical phrase; when neither
// the remark nor the description documents the type's length, the length
// is put in front of the remark ("(max. length 20 characters)",
// "(32 bytes)"). An item whose type is Invalid is written as its Text, so
// that nothing the parser could not read is lost.
func FormatArg(a *Arg) string {
	desc, phrase, remark := a.Description, a.TypePhrase, a.Remark
	if a.Type.Kind == Invalid {
		if a.Text != "" {
			return a.Text
		}
	} else {
		if t, err := ParseType(phrase); err != nil || !sameType(t, a.Type) {
			phrase = a.Type.Phrase()
		}
		t, _ := ParseType(phrase)
		if t, _ = lengthFrom(t, remark, desc); t != a.Type {
			remark = strings.TrimSpace("(" + a.Type.detail() + ") " + remark)
		}
	}
	var b strings.Builder
	switch {
	case phrase == "":
		b.WriteString(desc)
	case desc != "":
		b.WriteString(desc + " as " + codeSpanOf(phrase))
	default:
		b.WriteString(codeSpanOf(phrase))
	}
	if remark != "" {
		if b.Len() > 0 && !strings.ContainsRune(".,;:)!?", rune(remark[0])) {
			b.WriteByte(' ')
		}
		b.WriteString(remark)
	}
	return b.String()
}

// sameType reports whether phrase type t, read without the prose around
// it, is want apart from the lengths the prose adds.
func sameType(t, want Type) bool {
	if t.Kind == Bytes && t.Size != 0 && t.Size != want.Size {
		return false
	}
	want.MaxLen, t.MaxLen = 0, 0
	if want.Kind == Bytes {
		want.Size, t.Size = 0, 0
	}
	return t == want
}

// codeSpanOf writes s between enough backticks that none inside ends it.
func codeSpanOf(s string) string {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if longest == 0 {
		return "`" + s + "`"
	}
	fence := strings.Repeat("`", longest+1)
	return fence + " " + s + " " + fence
}
