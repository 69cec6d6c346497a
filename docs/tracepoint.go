package docs

// Doc is a parsed tracing document.
//
// Line numbers are 1-based. An end line is the last non-blank line of the
// section or entry, so new text goes right after it.
type Doc struct {
	Name  string // the name given to Parse, used in errors
	Text  string // the document as read, for edits to it
	Lines int    // number of lines in the document

	// Contexts are the "### Context `name`" sections in document order.
	Contexts []*Context
	// Tracepoints are all tracepoint entries in document order, those
	// outside any context section included (which is a problem).
	Tracepoints []*Tracepoint
	// Problems lists everything that could not be read as the format
	// wants, in line order. Parse also returns them as its error.
	Problems []*SyntaxError
}

// Context is one "### Context `name`" section.
type Context struct {
	Name        string
	Line        int    // line of the heading
	EndLine     int    // last non-blank line of the section
	Description string // text between the heading and the first entry
	Tracepoints []*Tracepoint
}

// Tracepoint is one "#### Tracepoint `context:event`" entry.
type Tracepoint struct {
	Context string // Bitcoin Core's word for the SDT provider
	Event   string // Bitcoin Core's word for the SDT probe name
	Line    int    // line of the heading
	EndLine int    // last non-blank line of the entry

	// Description is the text between the heading and "Arguments passed:"
	// (or the end of the entry), lines joined with "\n", blank lines at
	// either end dropped.
	Description string
	// ArgsLine is the line of "Arguments passed:", 0 when there is none;
	// then the tracepoint has no arguments.
	ArgsLine int
	Args     []Arg
	// Notes is the text after the argument list, like Description.
	Notes string
}

// ID is "context:event".
func (t *Tracepoint) ID() string { return t.Context + ":" + t.Event }

// Arg is one item of a tracepoint's argument list. In the item
//
//	Peer address as `pointer to C-style String` (max. length 68 characters)
//
// the Description is "Peer address", the TypePhrase "pointer to C-style
// String" and the Remark "(max. length 68 characters)".
type Arg struct {
	Index   int // 0-based position in the list, whatever number it was given
	Line    int // line of the list item
	EndLine int // last line of the item, after any continuation lines

	// Text is the whole item without its number, continuation lines
	// joined with single spaces.
	Text string
	// Description is the text before the type ("as" dropped).
	Description string
	// TypePhrase is the type as written, without backticks.
	TypePhrase string
	// Remark is the text after the type.
	Remark string
	// Type is TypePhrase mapped, with the length the remark or the
	// description documents. It is Invalid when Err is set.
	Type Type
	// Err is a *SyntaxError when the item has no type or its phrase could
	// not be mapped. The same error is in Doc.Problems.
	Err error
}

// Context returns the section named name, or nil.
func (d *Doc) Context(name string) *Context {
	for _, c := range d.Contexts {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Tracepoint returns the first entry whose ID is id, or nil.
func (d *Doc) Tracepoint(id string) *Tracepoint {
	for _, t := range d.Tracepoints {
		if t.ID() == id {
			return t
		}
	}
	return nil
}

// InsertLine says where a new entry for a tracepoint in context goes: after
// line after. When the section exists (found is true) that is its end line;
// otherwise a new context section is needed and after is the end line of
// the last section, or 0 when the document has none.
func (d *Doc) InsertLine(context string) (after int, found bool) {
	if c := d.Context(context); c != nil {
		return c.EndLine, true
	}
	if n := len(d.Contexts); n > 0 {
		return d.Contexts[n-1].EndLine, false
	}
	return 0, false
}
