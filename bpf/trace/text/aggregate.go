package text

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/bpf/trace"
)

// Aggregates writes snapshots of an aggregation as a table: a row per
// key with its count (and sum, min, max, average), histograms drawn as
// bars under their row as bpftrace draws them, and a footer that says
// how many hits were dropped for want of room for their key. Piped, the
// rows are tab-separated, a histogram's buckets in the last cell as
// [LOW,HIGH]:COUNT, and the footer goes to diag.
type Aggregates struct {
	w, diag  io.Writer
	terminal bool
	// Live redraws each snapshot in place, on a terminal.
	Live bool
}

// NewAggregates writes snapshots to w; diag takes the footer when w is no
// terminal.
func NewAggregates(w, diag io.Writer, terminal bool) *Aggregates {
	return &Aggregates{w: w, diag: diag, terminal: terminal}
}

// Snapshot writes one snapshot.
func (a *Aggregates) Snapshot(s *trace.Snapshot) error {
	var b strings.Builder
	if a.Live && a.terminal {
		b.WriteString("\x1b[H\x1b[2J") // home, clear: the view is redrawn in place
		what := "every interval (Ctrl-C to end)"
		if s.Final {
			what = "final"
		}
		fmt.Fprintf(&b, "usdtkit: %s, %s\n", s.Time.Format("15:04:05"), what)
	}
	byTracepoint := false
	for _, k := range s.By {
		byTracepoint = byTracepoint || k == "tracepoint"
	}
	var header []string
	if !byTracepoint {
		header = append(header, "tracepoint")
	}
	header = append(header, s.By...)
	header = append(header, "count")
	switch s.Value {
	case bpf.ValueSum:
		header = append(header, "sum")
	case bpf.ValueStats, bpf.ValueHist, bpf.ValueLinear:
		header = append(header, "sum", "min", "max", "avg")
	}
	hist := s.Value == bpf.ValueHist || s.Value == bpf.ValueLinear
	if hist && !a.terminal {
		header = append(header, "buckets")
	}
	if s.Of != "" && a.terminal {
		fmt.Fprintf(&b, "%s of %s\n", map[bpf.ValueKind]string{bpf.ValueSum: "sum", bpf.ValueStats: "sum, min, max and average",
			bpf.ValueHist: "histogram", bpf.ValueLinear: "linear histogram"}[s.Value], s.Of)
	}
	t := NewTable(&b, a.terminal, header...)
	for _, r := range s.Rows {
		var cells []string
		if !byTracepoint {
			cells = append(cells, r.Tracepoint)
		}
		for _, k := range r.Key {
			cells = append(cells, fmt.Sprint(k))
		}
		cells = append(cells, strconv.FormatUint(r.Count, 10))
		if r.Sum != nil {
			cells = append(cells, fmt.Sprint(r.Sum))
		}
		if r.Min != nil {
			cells = append(cells, fmt.Sprint(r.Min), fmt.Sprint(r.Max), strconv.FormatFloat(r.Avg, 'f', -1, 64))
		}
		if hist && !a.terminal {
			var bs []string
			for _, bk := range r.Buckets {
				bs = append(bs, fmt.Sprintf("[%s,%s]:%d", bound(bk.Low, "-inf"), bound(bk.High, "inf"), bk.Count))
			}
			cells = append(cells, strings.Join(bs, " "))
		}
		if hist && a.terminal {
			// A histogram is drawn under a line that says whose it is.
			var line []string
			for i, c := range cells {
				line = append(line, header[i]+"="+c)
			}
			b.WriteString(strings.Join(line, " ") + "\n")
			for _, l := range bars(r.Buckets) {
				b.WriteString(l + "\n")
			}
			continue
		}
		t.Add(cells...)
	}
	if !hist || !a.terminal {
		if err := t.Render(); err != nil {
			return err
		}
	}
	footer := fmt.Sprintf("usdtkit: %d rows, %d dropped keys", len(s.Rows), s.DroppedKeys)
	if s.Omitted > 0 {
		footer += fmt.Sprintf(", %d more rows not shown (--top)", s.Omitted)
	}
	if s.DroppedKeys > 0 {
		footer += ": hits whose key found no room in the map were not counted; raise --map-size"
	}
	footer += "\n"
	if a.terminal {
		b.WriteString(footer)
		_, err := io.WriteString(a.w, b.String())
		return err
	}
	if _, err := io.WriteString(a.w, b.String()); err != nil {
		return err
	}
	_, err := io.WriteString(a.diag, footer)
	return err
}

func bound(v any, open string) string {
	if v == nil {
		return open
	}
	return fmt.Sprint(v)
}

// barWidth is the width of a histogram's longest bar.
const barWidth = 40

// bars draws a histogram as bpftrace does: a line per bucket with its
// range, its count and a bar of @.
func bars(bs []trace.Bucket) []string {
	var most uint64
	for _, b := range bs {
		most = max(most, b.Count)
	}
	var lines []string
	for _, b := range bs {
		n := int(math.Round(float64(b.Count) * barWidth / float64(max(most, 1))))
		label := fmt.Sprintf("[%s, %s]", bound(b.Low, "..."), bound(b.High, "..."))
		lines = append(lines, fmt.Sprintf("  %-24s %8d |%-*s|", label, b.Count, barWidth, strings.Repeat("@", n)))
	}
	return lines
}
