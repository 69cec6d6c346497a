package gen

import (
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
)

// genDoc writes the entries of the model's tracepoints in the doc's
// format: a documented tracepoint as the doc has it, a new one with the
// binary's types and placeholders for a person to fill in. The entries of
// a context the doc has no section for (all of them without a doc) come
// under a new "### Context" heading, so the output can be pasted in.
func genDoc(out *Output, m *Model) {
	var b strings.Builder
	tps := m.Tracepoints
	for i := 0; i < len(tps); {
		j := i
		var entries []*docs.Tracepoint
		for ; j < len(tps) && tps[j].Context == tps[i].Context; j++ {
			entries = append(entries, contract.Entry(tps[j]))
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		if m.documentsContext(tps[i].Context) {
			for k, e := range entries {
				if k > 0 {
					b.WriteString("\n")
				}
				b.WriteString(docs.FormatTracepoint(e))
			}
		} else {
			b.WriteString(docs.FormatContext(&docs.Context{Name: tps[i].Context, Tracepoints: entries}))
		}
		i = j
	}
	out.Text = b.String()
}
