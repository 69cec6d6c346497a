package main

import (
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// tablePrinter prints rows as an aligned table on a terminal and as
// tab-separated lines without a header otherwise.
//
// Linking tablewriter costs every run of every command its packages'
// init, whether a table is printed or not: twwidth makes an 8192-entry
// width cache (663 KB, about 170 page faults) and olekukonko/errors fills
// an error pool, 0.3 ms together, about an eighth of usdtkit list --json
// on bitcoind. Only not linking it would avoid that.
type tablePrinter struct {
	w        io.Writer
	terminal bool
	header   []string
	rows     [][]string
}

func newTablePrinter(io *IOStreams, header ...string) *tablePrinter {
	return &tablePrinter{w: io.Out, terminal: io.IsTerminal, header: header}
}

func (t *tablePrinter) Add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *tablePrinter) Render() error {
	if !t.terminal {
		var b strings.Builder
		for _, r := range t.rows {
			b.WriteString(strings.Join(r, "\t"))
			b.WriteByte('\n')
		}
		_, err := io.WriteString(t.w, b.String())
		return err
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
