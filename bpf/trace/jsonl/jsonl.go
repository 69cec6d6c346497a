// Package jsonl writes a trace session's events as JSON, one object per
// line: the schema in docs/attach.md.
package jsonl

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/elf"
)

// Event is the JSON form of one event.
type Event struct {
	Time       string `json:"time"`
	PID        int    `json:"pid"`
	TID        int    `json:"tid"`
	Comm       string `json:"comm"`
	Tracepoint string `json:"tracepoint"`
	// CallSite is the call site's link-time address, as list's
	// call_sites[].address and audit's call_site.
	CallSite  uint64 `json:"call_site"`
	SiteIndex int    `json:"site_index"`
	Args      []Arg  `json:"args"`
}

// Arg is one argument of an event.
type Arg struct {
	Name      *string `json:"name"` // the documented description, null without one
	Key       string  `json:"key"`  // the argument's name as --by takes it
	Type      string  `json:"type"`
	Value     any     `json:"value"` // null when it could not be read
	Truncated bool    `json:"truncated"`
	Error     *string `json:"error"`
}

// An Encoder writes events as JSON lines: the bytes json.Marshal writes
// for an Event, written field by field (at a million events a second
// reflection would cost more than all else a hit costs). It remembers
// what repeats from one event to the next: each tracepoint's name and its
// arguments' names and types, escaped, and the time up to the second. A
// float that JSON cannot hold (NaN, an infinity) is null, with the reason
// as its error. The zero Encoder is ready to use; it is not safe for
// concurrent use.
type Encoder struct {
	heads map[*trace.Tracepoint]*heads
	// The time's text up to the second and its zone, for second sec in
	// location loc.
	sec        int64
	loc        *time.Location
	secs, zone []byte
}

// heads are a tracepoint's constant parts: the "tracepoint" field for
// probe, and each argument's object up to its value.
type heads struct {
	probe      string
	tracepoint []byte
	args       [][]byte
}

func (e *Encoder) headsOf(ev *trace.Event) *heads {
	h := e.heads[ev.Tracepoint]
	if h != nil && h.probe == ev.Probe && len(h.args) == len(ev.Tracepoint.Args) {
		return h
	}
	h = &heads{probe: ev.Probe, tracepoint: elf.AppendJSONString([]byte(`,"tracepoint":`), ev.Probe)}
	for i := range ev.Tracepoint.Args {
		h.args = append(h.args, argHead(&ev.Tracepoint.Args[i]))
	}
	if e.heads == nil {
		e.heads = map[*trace.Tracepoint]*heads{}
	}
	e.heads[ev.Tracepoint] = h
	return h
}

// argHead is an argument's object up to its value; a is nil for an
// argument the tracepoint does not describe.
func argHead(a *trace.Arg) []byte {
	b := []byte(`{"name":`)
	if a != nil && a.Description != "" {
		b = elf.AppendJSONString(b, a.Description)
	} else {
		b = append(b, "null"...)
	}
	var key, typ string
	if a != nil {
		key, typ = a.Name, a.Type
	}
	b = elf.AppendJSONString(append(b, `,"key":`...), key)
	b = elf.AppendJSONString(append(b, `,"type":`...), typ)
	return append(b, `,"value":`...)
}

// appendTime writes t as time.RFC3339Nano does.
func (e *Encoder) appendTime(b []byte, t time.Time) []byte {
	if sec := t.Unix(); sec != e.sec || t.Location() != e.loc || e.secs == nil {
		e.sec, e.loc = sec, t.Location()
		e.secs = t.AppendFormat(e.secs[:0], "2006-01-02T15:04:05")
		e.zone = t.AppendFormat(e.zone[:0], "Z07:00")
	}
	b = append(b, e.secs...)
	if ns := t.Nanosecond(); ns != 0 {
		var d [10]byte
		d[0] = '.'
		for i := 9; i > 0; i-- {
			d[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for d[n-1] == '0' {
			n--
		}
		b = append(b, d[:n]...)
	}
	return append(b, e.zone...)
}

// Append appends ev as one line of JSON to b.
func (e *Encoder) Append(b []byte, ev *trace.Event) []byte {
	h := e.headsOf(ev)
	b = append(b, `{"time":"`...)
	b = e.appendTime(b, ev.Time)
	b = append(b, `","pid":`...)
	b = strconv.AppendInt(b, int64(ev.PID), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendInt(b, int64(ev.TID), 10)
	b = append(b, `,"comm":`...)
	b = elf.AppendJSONString(b, ev.Comm)
	b = append(b, h.tracepoint...)
	b = append(b, `,"call_site":`...)
	b = strconv.AppendUint(b, ev.CallSite(), 10)
	b = append(b, `,"site_index":`...)
	b = strconv.AppendInt(b, int64(ev.Event.CallSite), 10)
	b = append(b, `,"args":[`...)
	for i, v := range ev.Args {
		if i > 0 {
			b = append(b, ',')
		}
		if i < len(h.args) {
			b = append(b, h.args[i]...)
		} else {
			b = append(b, argHead(nil)...)
		}
		var ok bool
		if b, ok = v.AppendJSON(b); !ok {
			msg := "not a number JSON can hold: " + strconv.FormatFloat(v.Float64(), 'g', -1, 64)
			v.Err = errors.New(msg)
		}
		b = append(b, `,"truncated":`...)
		b = strconv.AppendBool(b, v.Truncated)
		b = append(b, `,"error":`...)
		if v.Err != nil {
			b = elf.AppendJSONString(b, v.Err.Error())
		} else {
			b = append(b, "null"...)
		}
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// Writer writes events as JSON lines, buffered: Flush writes what is
// buffered, and so does every 32 KiB.
type Writer struct {
	trace.Lines
	enc Encoder
}

// NewWriter writes events to w.
func NewWriter(w io.Writer) *Writer { return &Writer{Lines: trace.Lines{W: w}} }

// Event buffers ev's line.
func (w *Writer) Event(ev *trace.Event) error {
	w.Buf = w.enc.Append(w.Buf, ev)
	return w.Added()
}

// Snapshot is the JSON form of an aggregation's snapshot (docs/aggregate.md).
type Snapshot struct {
	Time        string `json:"time"`
	Final       bool   `json:"final"`
	Rows        []Row  `json:"rows"`
	DroppedKeys uint64 `json:"dropped_keys"`
	Omitted     int    `json:"omitted_rows"`
}

// Row is one key's aggregate; Sum, Min, Max, Avg and Buckets are there
// when asked for.
type Row struct {
	Tracepoint string         `json:"tracepoint"`
	Key        map[string]any `json:"key"`
	Count      uint64         `json:"count"`
	Sum        any            `json:"sum,omitempty"`
	Min        any            `json:"min,omitempty"`
	Max        any            `json:"max,omitempty"`
	Avg        *float64       `json:"avg,omitempty"`
	Buckets    []Bucket       `json:"buckets,omitempty"`
}

// Bucket is one bucket of a histogram: Low and High are included; null is
// an open end.
type Bucket struct {
	Low   any    `json:"low"`
	High  any    `json:"high"`
	Count uint64 `json:"count"`
}

// NewSnapshot is s's JSON form.
func NewSnapshot(s *trace.Snapshot) Snapshot {
	js := Snapshot{Time: s.Time.Format(time.RFC3339Nano), Final: s.Final, Rows: make([]Row, 0, len(s.Rows)), DroppedKeys: s.DroppedKeys, Omitted: s.Omitted}
	for _, r := range s.Rows {
		jr := Row{Tracepoint: r.Tracepoint, Key: map[string]any{}, Count: r.Count, Sum: r.Sum, Min: r.Min, Max: r.Max}
		for i, k := range r.Key {
			jr.Key[s.By[i]] = k
		}
		if r.Min != nil {
			avg := r.Avg
			jr.Avg = &avg
		}
		for _, b := range r.Buckets {
			jr.Buckets = append(jr.Buckets, Bucket{Low: b.Low, High: b.High, Count: b.Count})
		}
		js.Rows = append(js.Rows, jr)
	}
	return js
}

// AppendSnapshot appends s as one line of JSON to b.
func AppendSnapshot(b []byte, s *trace.Snapshot) []byte {
	data, _ := json.Marshal(NewSnapshot(s))
	return append(append(b, data...), '\n')
}
