package text

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table prints rows as an aligned table on a terminal and as
// tab-separated lines without a header otherwise. Tab-separated rows are
// written as they are added, and not kept.
//
// Linking tablewriter costs every run of every command its packages'
// init, whether a table is printed or not: twwidth makes an 8192-entry
// width cache (663 KB, about 170 page faults) and olekukonko/errors fills
// an error pool, 0.3 ms together, about an eighth of usdtkit list --json
// on bitcoind. Only not linking it would avoid that.
type Table struct {
	w        io.Writer
	terminal bool
	header   []string
	rows     [][]string
	tsv      *bufio.Writer
}

// NewTable makes a table with the given column names.
func NewTable(w io.Writer, terminal bool, header ...string) *Table {
	t := &Table{w: w, terminal: terminal, header: header}
	if !t.terminal {
		t.tsv = bufio.NewWriter(t.w)
	}
	return t
}

// Add adds a row. Cells come from files and processes: what is not
// printable in them (ESC, newline, tab, invalid UTF-8) is escaped as Go
// quotes it, so no cell can drive the terminal or split a row.
func (t *Table) Add(cells ...string) {
	if t.tsv == nil {
		row := make([]string, len(cells))
		for i, c := range cells {
			row[i] = escapeCell(c)
		}
		t.rows = append(t.rows, row)
		return
	}
	for i, c := range cells {
		if i > 0 {
			t.tsv.WriteByte('\t')
		}
		t.tsv.WriteString(escapeCell(c))
	}
	t.tsv.WriteByte('\n')
}

// escapeCell escapes what is not printable in s as strconv.Quote does
// (\x1b, \n, \t, \u202e, \xff), without the quotes; the rest, quotes and
// backslashes included, is left as it is.
func escapeCell(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// Render writes the table, or what is left of the tab-separated rows.
func (t *Table) Render() error {
	if t.tsv != nil {
		return t.tsv.Flush()
	}
	tbl := tablewriter.NewTable(t.w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Formatting: tw.CellFormatting{AutoFormat: tw.On, AutoWrap: tw.WrapNone},
			},
			Row: tw.CellConfig{
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone},
			},
		}),
	)
	tbl.Header(t.header)
	for _, r := range t.rows {
		if err := tbl.Append(r); err != nil {
			return err
		}
	}
	return tbl.Render()
}
