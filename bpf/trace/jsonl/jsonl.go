// Package jsonl writes a trace session's events as JSON, one object per
// line: the schema in docs/attach.md.
package jsonl

import (
	"encoding/json"
	"io"
	"time"

	"github.com/usdtkit/usdtkit/bpf/trace"
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

// New is ev's JSON form.
func New(ev *trace.Event) Event {
	je := Event{Time: ev.Time.Format(time.RFC3339Nano), PID: ev.PID, TID: ev.TID, Comm: ev.Comm, Tracepoint: ev.Probe,
		CallSite: ev.CallSite(), SiteIndex: ev.Event.CallSite, Args: make([]Arg, 0, len(ev.Args))}
	for i, v := range ev.Args {
		ja := Arg{Value: v.JSON(), Truncated: v.Truncated}
		if i < len(ev.Tracepoint.Args) {
			a := &ev.Tracepoint.Args[i]
			ja.Key, ja.Type = a.Name, a.Type
			if a.Description != "" {
				d := a.Description
				ja.Name = &d
			}
		}
		if v.Err != nil {
			s := v.Err.Error()
			ja.Error = &s
		}
		je.Args = append(je.Args, ja)
	}
	return je
}

// Append appends ev as one line of JSON to b.
func Append(b []byte, ev *trace.Event) []byte {
	data, _ := json.Marshal(New(ev)) // no value of an Event fails to marshal
	return append(append(b, data...), '\n')
}

// Writer writes events as JSON lines, buffered: Flush writes what is
// buffered, and so does every 32 KiB.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter writes events to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Event buffers ev's line.
func (w *Writer) Event(ev *trace.Event) error {
	w.buf = Append(w.buf, ev)
	if len(w.buf) > 32<<10 {
		return w.Flush()
	}
	return nil
}

// Flush writes the buffered lines.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}
