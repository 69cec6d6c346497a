package gen

import (
	"strings"

	"github.com/usdtkit/usdtkit/docs"
)

type testFile struct {
	Doc    []string
	Class  string
	Events []testEvent
}

type testEvent struct {
	cEvent
	Intro []string
	Todo  []string
}

// genTest writes a functional test in the style of Bitcoin Core's
// test/functional/interface_usdt_*.py: a bcc program and a ctypes
// structure per tracepoint, and a sub-test per tracepoint that hooks into
// it, leaves making the node pass it to a person, and compares the hits
// with the values the person lists.
func genTest(out *Output, m *Model, opts Options) error {
	f := testFile{Class: "USDTTracepointTest"}
	contexts := map[string]bool{}
	for _, tp := range m.Tracepoints {
		contexts[tp.Context] = true
	}
	what := tracepointList(m.Tracepoints) + " tracepoints"
	switch {
	case len(m.Tracepoints) == 1:
		tp := m.Tracepoints[0]
		f.Class = camel(m.base(tp)) + "TracepointTest"
		what = tp.ID() + " tracepoint"
	case len(contexts) == 1:
		f.Class = camel(m.Tracepoints[0].Context) + "TracepointTest"
	}
	f.Doc = wrap("", commentWidth-4, "Tests the "+what+".")
	for _, tp := range m.Tracepoints {
		base := m.base(tp)
		ev := testEvent{cEvent: bccEvent(out, tp, base, 0, base+"_events")}
		intro := "Hooks into " + tp.ID() + ", makes the node pass it, and compares the arguments of every hit with what the node did."
		ev.Intro = wrap("        # ", commentWidth+4, intro)
		if tp.Doc != nil && m.DocPath != "" {
			ev.Intro = append(ev.Intro, "        # See "+commentText(m.DocPath)+"#"+anchor("Tracepoint "+tp.ID()))
		} else {
			ev.Intro = append(ev.Intro, "        # It is not documented yet: usdtkit gen --lang doc writes an entry.")
		}
		todo := "Do what makes the node pass " + tp.ID() + ", then list what each hit should carry, as values() returns it"
		if len(ev.Names) > 0 {
			todo += ": (" + strings.Join(ev.Names, ", ") + ")."
		} else {
			todo += ": ()."
		}
		for _, a := range tp.Args {
			if a.Type.Kind == docs.Bytes {
				todo += " Byte buffers are bytes in memory order; a hash that an RPC shows as hex is bytes.fromhex(hex)[::-1]."
				break
			}
		}
		ev.Todo = wrap("        # ", commentWidth+4, "TODO: "+todo)
		f.Events = append(f.Events, ev)
	}
	text, err := execute("functest.tmpl", f)
	if err != nil {
		return err
	}
	out.Text = text
	return nil
}

// anchor is the fragment GitHub gives a Markdown heading: lower case,
// spaces as '-', punctuation other than '-' and '_' dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
