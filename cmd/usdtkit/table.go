package main

import (
	"bufio"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// tablePrinter prints rows as an aligned table on a terminal and as
// tab-separated lines without a header otherwise. Tab-separated rows are
// written as they are added, and not kept.
type tablePrinter struct {
	w        io.Writer
	terminal bool
	header   []string
	rows     [][]string
	tsv      *bufio.Writer
}

func newTablePrinter(io *IOStreams, header ...string) *tablePrinter {
	t := &tablePrinter{w: io.Out, terminal: io.IsTerminal, header: header}
	if !t.terminal {
		t.tsv = bufio.NewWriter(t.w)
	}
	return t
}

func (t *tablePrinter) Add(cells ...string) {
	if t.tsv == nil {
		t.rows = append(t.rows, cells)
		return
	}
	for i, c := range cells {
		if i > 0 {
			t.tsv.WriteByte('\t')
		}
		t.tsv.WriteString(c)
	}
	t.tsv.WriteByte('\n')
}

func (t *tablePrinter) Render() error {
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
