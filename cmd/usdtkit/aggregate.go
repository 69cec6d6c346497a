package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/export"
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
	"github.com/usdtkit/usdtkit/bpf/trace/text"
)

// aggFlags are attach's flags that count in the kernel (docs/aggregate.md).
type aggFlags struct {
	By                       []string
	Sum, Stats, Hist, Linear string
	Where                    string
	Interval                 time.Duration
	Reset                    bool
	Top                      int
	MapSize                  int

	agg   *trace.Aggregation // nil: stream events
	where *trace.Expr
}

func (a *aggFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&a.By, "by", nil, "count hits per KEY[,KEY...] in the kernel: tracepoint, pid, tid, comm, argN or an argument's name")
	f.Var(once{&a.Sum}, "sum", "also sum the integer argument KEY")
	f.Var(once{&a.Stats}, "stats", "also give the sum, min, max and average of KEY")
	f.Var(once{&a.Hist}, "hist", "also give a power-of-two histogram of KEY")
	f.Var(once{&a.Linear}, "lhist", "also give a linear histogram of KEY=MIN:MAX:STEP")
	f.Var(once{&a.Where}, "where", "count or print only the hits for which EXPR holds, tested in the kernel (e.g. 'message_type == \"ping\" && peer_id < 8')")
	f.DurationVar(&a.Interval, "interval", 0, "print a snapshot of the counts every D, redrawn in place on a terminal")
	f.BoolVar(&a.Reset, "reset", false, "clear the counts after each --interval snapshot")
	f.IntVar(&a.Top, "top", 0, "keep the N largest rows of each snapshot")
	f.IntVar(&a.MapSize, "map-size", 0, fmt.Sprintf("the most rows counted, hits of other keys counted as dropped (default %d, %d with a histogram)", trace.DefaultMaxKeys, trace.HistMaxKeys))
}

// once is a flag given at most once: a second --sum would replace the
// first in silence.
type once struct{ v *string }

func (o once) Type() string { return "string" }
func (o once) String() string {
	if o.v == nil {
		return ""
	}
	return *o.v
}
func (o once) Set(s string) error {
	if *o.v != "" {
		return fmt.Errorf("given twice (%q, then %q): give it once", *o.v, s)
	}
	*o.v = s
	return nil
}

// check reads the flags into an aggregation, or none for streaming.
func (a *aggFlags) check() error {
	if a.Where != "" {
		e, err := trace.ParseWhere(a.Where)
		if err != nil {
			return &usageError{err}
		}
		a.where = e
	}
	agg, err := trace.ParseAggregation(a.By, a.Sum, a.Stats, a.Hist, a.Linear, a.MapSize)
	switch {
	case err != nil:
		return &usageError{err}
	case a.Top < 0 || a.Interval < 0:
		return usagef("--top and --interval must not be negative")
	case agg == nil && (a.Interval > 0 || a.Reset || a.Top > 0):
		return usagef("--interval, --reset and --top need --by, --sum, --stats, --hist or --lhist")
	case agg != nil && a.Reset && a.Interval == 0:
		return usagef("--reset needs --interval")
	}
	a.agg = agg
	return nil
}

// runAggregate counts in the kernel and prints snapshots: on every
// interval and at the end.
func runAggregate(ctx context.Context, opts *attachOptions, s *trace.Session, ex *export.Exporter) error {
	view := text.NewAggregates(opts.IO.Out, opts.IO.ErrOut, opts.IO.IsTerminal)
	view.Live = opts.Interval > 0
	var until <-chan time.Time
	if opts.Duration > 0 {
		until = time.After(opts.Duration)
	}
	var err error
	s.RunAggregate(ctx, until, opts.Interval, func(final bool) {
		snap, serr := s.Snapshot(opts.Reset, opts.Top)
		if serr != nil {
			err = serr
			return
		}
		snap.Final = final
		switch {
		case ex.Snapshot(snap):
		case opts.JSON:
			_, serr = opts.IO.Out.Write(jsonl.AppendSnapshot(nil, snap))
		default:
			serr = view.Snapshot(snap)
		}
		if serr != nil && err == nil {
			err = fmt.Errorf("write snapshot: %w", serr)
		}
	})
	return err
}
