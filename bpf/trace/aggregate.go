package trace

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/docs/contract"
)

// Aggregation says what a session counts in the kernel, in the names of
// the command line: rows keyed by By (tracepoint, pid, tid, comm, argN
// or an argument's name, read by its documented type), always per
// tracepoint, with the count of hits and, for Of, the sum, the min and
// max, or a histogram of its values; only hits that the session's Where
// holds for.
type Aggregation struct {
	By    []string
	Value bpf.ValueKind
	Of    string // the integer argument of Value, "" for ValueCount
	// Min, Max and Step are the linear buckets of ValueLinear.
	Min, Max, Step int64
	// MaxKeys bounds the rows; when 0, DefaultMaxKeys, or HistMaxKeys
	// with a histogram.
	MaxKeys int
}

// ParseAggregation reads the command line's aggregation: the keys (--by),
// at most one aggregated argument (sum, stats, hist, or lhist as
// KEY=MIN:MAX:STEP) and the bound on the rows. It is nil when nothing is
// aggregated: events are streamed.
func ParseAggregation(by []string, sum, stats, hist, lhist string, maxKeys int) (*Aggregation, error) {
	a := &Aggregation{By: by, MaxKeys: maxKeys}
	values := 0
	for _, v := range []struct {
		key  string
		kind bpf.ValueKind
	}{{sum, bpf.ValueSum}, {stats, bpf.ValueStats}, {hist, bpf.ValueHist}, {lhist, bpf.ValueLinear}} {
		if v.key != "" {
			values++
			a.Value, a.Of = v.kind, v.key
		}
	}
	switch {
	case values > 1:
		return nil, errors.New("give one of --sum, --stats, --hist and --lhist")
	case maxKeys < 0:
		return nil, errors.New("--map-size must be at least 1")
	case values == 0 && len(by) == 0:
		return nil, nil
	}
	if a.Value == bpf.ValueLinear {
		key, spec, ok := strings.Cut(lhist, "=")
		parts := strings.Split(spec, ":")
		var nums [3]int64
		var err error
		for i := 0; ok && err == nil && len(parts) == 3 && i < 3; i++ {
			nums[i], err = strconv.ParseInt(parts[i], 0, 64)
		}
		if !ok || len(parts) != 3 || err != nil || nums[2] <= 0 || nums[1] <= nums[0] {
			return nil, fmt.Errorf("bad --lhist %q: want KEY=MIN:MAX:STEP with MIN < MAX and STEP > 0", lhist)
		}
		if n := (nums[1] - nums[0] + nums[2] - 1) / nums[2]; n > 1024 {
			return nil, fmt.Errorf("bad --lhist %q: %d buckets; at most 1024", lhist, n)
		}
		a.Of, a.Min, a.Max, a.Step = key, nums[0], nums[1], nums[2]
	}
	return a, nil
}

// The default bounds on an aggregation's rows. The rows are allocated up
// front, for every CPU: a histogram's row holds its buckets.
const (
	DefaultMaxKeys = 65536
	HistMaxKeys    = 8192
)

// keyRef is a key of the command line resolved in one tracepoint.
type keyRef struct {
	name string
	kind bpf.FieldKind
	arg  int           // for FieldArg
	plan contract.Plan // for FieldArg: how it is read
	tp   bool          // the tracepoint itself
}

// resolveKey finds name among tp's keys.
func resolveKey(tp *Tracepoint, name string) (keyRef, error) {
	switch name {
	case "tracepoint":
		return keyRef{name: name, tp: true}, nil
	case "pid":
		return keyRef{name: name, kind: bpf.FieldPID}, nil
	case "tid":
		return keyRef{name: name, kind: bpf.FieldTID}, nil
	case "comm":
		return keyRef{name: name, kind: bpf.FieldComm}, nil
	}
	for i, a := range tp.Args {
		if a.Name == name || "arg"+strconv.Itoa(i) == name {
			return keyRef{name: name, kind: bpf.FieldArg, arg: i, plan: a.Plan}, nil
		}
	}
	names := make([]string, len(tp.Args))
	for i, a := range tp.Args {
		names[i] = a.Name
	}
	if len(names) == 0 {
		return keyRef{}, fmt.Errorf("%s has no argument %s (it has none; keys: tracepoint, pid, tid, comm)", tp.ID(), name)
	}
	return keyRef{}, fmt.Errorf("%s has no argument %s (it has %s; or argN, tracepoint, pid, tid, comm)", tp.ID(), name, strings.Join(names, ", "))
}

// aggPlan is an aggregation resolved for the attached tracepoints.
type aggPlan struct {
	a      *Aggregation
	bpf    *bpf.Aggregation
	keys   [][]keyRef // per tracepoint, per By name
	signed []bool     // per tracepoint: the value is signed
}

// Check resolves the names of an aggregation (which may be nil) and of a
// --where expression (which may be nil) in every tracepoint: an error
// says which name a tracepoint lacks, or which key cannot be used so, in
// the words of the command line.
func Check(tps []*Tracepoint, a *Aggregation, where *Expr) error {
	if a != nil {
		_, err := a.plan(tps, where)
		return err
	}
	_, err := filters(tps, where)
	return err
}

// filters resolves where in every tracepoint, for a streaming session.
func filters(tps []*Tracepoint, where *Expr) (map[string]*bpf.Pred, error) {
	if where == nil {
		return nil, nil
	}
	out := map[string]*bpf.Pred{}
	for _, tp := range tps {
		p, err := where.pred(tp)
		if err != nil {
			return nil, err
		}
		out[tp.Probe.ID()] = p
	}
	return out, nil
}

// plan resolves the aggregation's names in every tracepoint.
func (a *Aggregation) plan(tps []*Tracepoint, where *Expr) (*aggPlan, error) {
	p := &aggPlan{a: a, bpf: &bpf.Aggregation{Value: a.Value, Min: a.Min, Max: a.Max, Step: a.Step,
		MaxKeys: a.MaxKeys, Tracepoints: map[string]bpf.AggTracepoint{}}}
	if p.bpf.MaxKeys == 0 {
		p.bpf.MaxKeys = DefaultMaxKeys
		if a.Value == bpf.ValueHist || a.Value == bpf.ValueLinear {
			p.bpf.MaxKeys = HistMaxKeys
		}
	}
	seen := map[string]bool{}
	for _, name := range a.By {
		if seen[name] {
			return nil, fmt.Errorf("--by %s is given twice", name)
		}
		seen[name] = true
	}
	fields := []bpf.Field{}
	byField := map[string]int{} // By name -> index in fields
	for ti, tp := range tps {
		var refs []keyRef
		at := bpf.AggTracepoint{Value: -1}
		for _, name := range a.By {
			r, err := resolveKey(tp, name)
			if err != nil {
				return nil, fmt.Errorf("--by %s: %w", name, err)
			}
			refs = append(refs, r)
			if r.tp {
				continue
			}
			f := bpf.Field{Kind: r.kind}
			if r.kind == bpf.FieldArg {
				switch r.plan.Kind {
				case contract.ReadValue:
					f.Size = 8
				case contract.ReadString:
					f.Size = r.plan.MaxLen + 2 // the string, its NUL, and one to tell one cut
				case contract.ReadBytes:
					f.Size = r.plan.MaxLen
				}
				at.Args = append(at.Args, r.arg)
			}
			if i, ok := byField[name]; ok {
				if prev := fields[i]; ti > 0 && (prev.Kind != f.Kind || (prev.Size == 8) != (f.Size == 8) || kindOf(p.keys[0], name) != r.plan.Kind) {
					return nil, fmt.Errorf("--by %s: it is read as a %s in %s and as a %s in %s", name, kindName(kindOf(p.keys[0], name)), tps[0].ID(), kindName(r.plan.Kind), tp.ID())
				}
				fields[i].Size = max(fields[i].Size, f.Size)
			} else {
				byField[name] = len(fields)
				fields = append(fields, f)
			}
		}
		p.keys = append(p.keys, refs)
		signed := false
		if a.Of != "" {
			r, err := resolveKey(tp, a.Of)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", valueFlag(a.Value), a.Of, err)
			}
			if r.kind != bpf.FieldArg || r.plan.Kind != contract.ReadValue {
				return nil, fmt.Errorf("%s %s: in %s it is not an integer argument", valueFlag(a.Value), a.Of, tp.ID())
			}
			at.Value = r.arg
			signed = tp.Tracepoint.Args[r.arg].Spec.Signed
			at.Signed = signed
		}
		p.signed = append(p.signed, signed)
		if where != nil {
			pred, err := where.pred(tp)
			if err != nil {
				return nil, err
			}
			at.Where = pred
		}
		p.bpf.Tracepoints[tp.Probe.ID()] = at
	}
	p.bpf.Fields = fields
	return p, nil
}

func kindOf(refs []keyRef, name string) contract.ReadKind {
	for _, r := range refs {
		if r.name == name {
			return r.plan.Kind
		}
	}
	return contract.ReadValue
}

func kindName(k contract.ReadKind) string {
	return map[contract.ReadKind]string{contract.ReadValue: "integer", contract.ReadString: "string", contract.ReadBytes: "byte buffer"}[k]
}

func valueFlag(k bpf.ValueKind) string {
	return map[bpf.ValueKind]string{bpf.ValueSum: "--sum", bpf.ValueStats: "--stats", bpf.ValueHist: "--hist", bpf.ValueLinear: "--lhist"}[k]
}

// pred resolves the expression in tp.
func (e *Expr) pred(tp *Tracepoint) (*bpf.Pred, error) {
	switch e.Op {
	case "&&", "||":
		l, err := e.L.pred(tp)
		if err != nil {
			return nil, err
		}
		r, err := e.R.pred(tp)
		if err != nil {
			return nil, err
		}
		op := bpf.PredAnd
		if e.Op == "||" {
			op = bpf.PredOr
		}
		return &bpf.Pred{Op: op, L: l, R: r}, nil
	case "!":
		l, err := e.L.pred(tp)
		if err != nil {
			return nil, err
		}
		return &bpf.Pred{Op: bpf.PredNot, L: l}, nil
	}
	r, err := resolveKey(tp, e.Key)
	if err != nil {
		return nil, &WhereError{e.Col, err.Error()}
	}
	cmp := map[string]bpf.CmpOp{"==": bpf.CmpEq, "!=": bpf.CmpNe, "<": bpf.CmpLt, "<=": bpf.CmpLe, ">": bpf.CmpGt, ">=": bpf.CmpGe}[e.Op]
	isString := r.tp || r.kind == bpf.FieldComm || r.kind == bpf.FieldArg && r.plan.Kind == contract.ReadString
	switch {
	case r.kind == bpf.FieldArg && r.plan.Kind == contract.ReadBytes:
		return nil, &WhereError{e.Col, fmt.Sprintf("%s is a byte buffer in %s: it cannot be compared", e.Key, tp.ID())}
	case isString && !e.IsStr:
		return nil, &WhereError{e.Col, fmt.Sprintf("%s is a string in %s: compare it with a \"string\"", e.Key, tp.ID())}
	case !isString && e.IsStr:
		return nil, &WhereError{e.Col, fmt.Sprintf("%s is an integer in %s: compare it with a number", e.Key, tp.ID())}
	}
	if r.tp {
		if (tp.ID() == e.Str) == (cmp == bpf.CmpEq) {
			return &bpf.Pred{Op: bpf.PredTrue}, nil
		}
		return &bpf.Pred{Op: bpf.PredFalse}, nil
	}
	p := &bpf.Pred{Op: bpf.PredCmp, Field: r.kind, Arg: r.arg, Cmp: cmp, Int: e.Int, Str: e.Str, IsStr: e.IsStr}
	if r.kind == bpf.FieldArg && !e.IsStr {
		p.Signed = tp.Tracepoint.Args[r.arg].Spec.Signed
	}
	return p, nil
}

// Snapshot is the aggregation's rows at one moment.
type Snapshot struct {
	Time  time.Time
	Final bool
	// By are the keys of the rows, as the command line names them.
	By   []string
	Rows []Row
	// DroppedKeys is how many hits found no room for their key: they are
	// in no row.
	DroppedKeys uint64
	// Omitted is how many rows --top left out.
	Omitted int
	// Value is what the rows aggregate besides the count; Of names it.
	Value bpf.ValueKind
	Of    string
}

// Row is one key's aggregate.
type Row struct {
	Tracepoint string
	// Key are the values of By, in order: int64, uint64, string (a
	// string, or bytes in hex), each as the key's argument is shown.
	Key   []any
	Count uint64
	// Sum, Min and Max are int64 or uint64, by the value's sign; nil
	// when not aggregated.
	Sum, Min, Max any
	Avg           float64
	Buckets       []Bucket
}

// Bucket is one bucket of a histogram: values from Low to High, both
// included; a nil bound is open (below the first, above the last).
type Bucket struct {
	Low, High any
	Count     uint64
}

// Aggregation is what the session counts in the kernel, nil when it
// streams events.
func (s *Session) Aggregation() *Aggregation {
	if s.agg == nil {
		return nil
	}
	return s.agg.a
}

// Snapshot reads the aggregation; with reset each row, and the dropped
// keys, count what came since the last snapshot with reset (bpf's
// Snapshot). The rows come largest first (by count, then in the order of
// their keys); top, when above 0, keeps the top largest; with top -1 they
// are not sorted (a scrape does not need them in order).
func (s *Session) Snapshot(reset bool, top int) (*Snapshot, error) {
	if s.agg == nil {
		return nil, fmt.Errorf("snapshot: the session does not aggregate")
	}
	raw, err := s.bpf.Snapshot(reset)
	if err != nil {
		return nil, err
	}
	st := s.bpf.Stats()
	dropped := st.Lost
	if reset {
		dropped -= s.droppedBefore
		s.droppedBefore = st.Lost
	}
	snap := &Snapshot{Time: time.Now(), By: s.agg.a.By, Rows: make([]Row, 0, len(raw)), DroppedKeys: dropped, Value: s.agg.a.Value, Of: s.agg.a.Of}
	for _, r := range raw {
		snap.Rows = append(snap.Rows, s.agg.row(s.Tracepoints, r))
	}
	if top < 0 {
		return snap, nil
	}
	// Largest first; ties in the order of their keys' text, made once.
	order := make([]string, len(snap.Rows))
	for i, r := range snap.Rows {
		order[i] = r.Tracepoint + "\x00" + fmt.Sprint(r.Key...)
	}
	idx := make([]int, len(snap.Rows))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		x, y := &snap.Rows[idx[a]], &snap.Rows[idx[b]]
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		return order[idx[a]] < order[idx[b]]
	})
	sorted := make([]Row, len(snap.Rows))
	for i, j := range idx {
		sorted[i] = snap.Rows[j]
	}
	snap.Rows = sorted
	if top > 0 && len(snap.Rows) > top {
		snap.Omitted = len(snap.Rows) - top
		snap.Rows = snap.Rows[:top]
	}
	return snap, nil
}

// row decodes one row of the kernel's map.
func (p *aggPlan) row(tps []*Tracepoint, r bpf.AggRow) Row {
	out := Row{Count: r.Count}
	if r.Tracepoint >= len(tps) {
		return out
	}
	out.Tracepoint = tps[r.Tracepoint].ID()
	off := 0
	for i, ref := range p.keys[r.Tracepoint] {
		if ref.tp {
			out.Key = append(out.Key, out.Tracepoint)
			continue
		}
		f := p.bpf.Fields[p.fieldIndex(i)]
		room := (f.Size + 7) &^ 7
		if f.Kind == bpf.FieldComm {
			room = 16
		} else if f.Kind != bpf.FieldArg {
			room = 8
		}
		b := r.Key[off:min(off+room, len(r.Key))]
		off += room
		switch {
		case f.Kind == bpf.FieldComm:
			out.Key = append(out.Key, cString(b))
		case f.Kind != bpf.FieldArg || ref.plan.Kind == contract.ReadValue:
			v := binary.NativeEndian.Uint64(b)
			switch {
			case ref.plan.Hex:
				out.Key = append(out.Key, "0x"+strconv.FormatUint(v, 16))
			case f.Kind == bpf.FieldArg && tps[r.Tracepoint].Tracepoint.Args[ref.arg].Spec.Signed:
				out.Key = append(out.Key, int64(v))
			default:
				out.Key = append(out.Key, v)
			}
		case ref.plan.Kind == contract.ReadString:
			s := cString(b[:min(len(b), ref.plan.MaxLen+1)])
			if len(s) > ref.plan.MaxLen {
				cut := ref.plan.MaxLen
				for cut > 0 && !utf8.RuneStart(s[cut]) { // a character stays whole
					cut--
				}
				s = s[:cut] + "..."
			}
			out.Key = append(out.Key, s)
		default:
			data := b[:min(len(b), ref.plan.MaxLen)]
			if ref.plan.Reversed {
				rev := make([]byte, len(data))
				for i, c := range data {
					rev[len(data)-1-i] = c
				}
				data = rev
			}
			out.Key = append(out.Key, hex.EncodeToString(data))
		}
	}
	if p.a.Value == bpf.ValueCount {
		return out
	}
	signed := p.signed[r.Tracepoint]
	num := func(v uint64) any {
		if signed {
			return int64(v)
		}
		return v
	}
	out.Sum = num(r.Sum)
	if r.Count > 0 {
		if signed {
			out.Avg = float64(int64(r.Sum)) / float64(r.Count)
		} else {
			out.Avg = float64(r.Sum) / float64(r.Count)
		}
	}
	if p.a.Value == bpf.ValueSum {
		return out
	}
	out.Min, out.Max = num(r.Min), num(r.Max)
	for i, n := range r.Buckets {
		if n == 0 {
			continue
		}
		out.Buckets = append(out.Buckets, p.bucket(i, n, signed))
	}
	return out
}

// fieldIndex is the index in the key's fields of the i-th By name.
func (p *aggPlan) fieldIndex(i int) int {
	n := 0
	for _, name := range p.a.By[:i] {
		if name != "tracepoint" {
			n++
		}
	}
	return n
}

func (p *aggPlan) bucket(i int, n uint64, signed bool) Bucket {
	b := Bucket{Count: n}
	switch p.a.Value {
	case bpf.ValueHist:
		lo, hi, neg := bpf.HistBucket(i)
		if neg {
			b.High = int64(-1)
			return b
		}
		if signed {
			b.Low, b.High = int64(lo), int64(hi)
			if hi > 1<<63-1 {
				b.High = nil
			}
			return b
		}
		b.Low, b.High = lo, hi
	case bpf.ValueLinear:
		last := p.bpf.NumBuckets() - 1
		switch i {
		case 0:
			b.High = p.a.Min - 1
		case last:
			b.Low = p.a.Max
		default:
			lo := p.a.Min + int64(i-1)*p.a.Step
			b.Low, b.High = lo, min(lo+p.a.Step, p.a.Max)-1
		}
	}
	return b
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// RunAggregate waits until ctx is done, until fires, or the command or
// process ends, calling tick on every interval (every > 0); then it
// detaches and calls tick once more with final set: that snapshot has
// every hit.
func (s *Session) RunAggregate(ctx context.Context, until <-chan time.Time, every time.Duration, tick func(final bool)) {
	var ticks <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-ctx.Done():
		case <-until:
		case <-s.done:
		case <-ticks:
			tick(false)
			continue
		}
		break
	}
	s.bpf.Detach()
	tick(true)
}
