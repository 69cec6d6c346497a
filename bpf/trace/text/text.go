package text

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/bpf/trace"
)

// Writer writes one line per event:
//
//	15:04:05.000000 PID/TID COMM context:event[#SITE] arg0=VALUE ...
//
// the call site's index only for a tracepoint with several, every value
// shown by its plan (strings quoted, hashes reversed, pointers in hex).
// Lines are buffered: Flush writes them, as does every 32 KiB; a session
// flushes whenever no event is waiting, so a line is not held back.
type Writer struct{ trace.Lines }

// NewWriter writes events to w.
func NewWriter(w io.Writer) *Writer { return &Writer{trace.Lines{W: w}} }

// Event buffers ev's line.
func (w *Writer) Event(ev *trace.Event) error {
	b := w.Buf
	b = ev.Time.AppendFormat(b, "15:04:05.000000")
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(ev.PID), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(ev.TID), 10)
	b = append(b, ' ')
	b = append(b, ev.Comm...)
	b = append(b, ' ')
	b = append(b, ev.Probe...)
	if len(ev.Tracepoint.Probe.CallSites) > 1 {
		b = append(b, '#')
		b = strconv.AppendInt(b, int64(ev.Event.CallSite), 10)
	}
	for i, v := range ev.Args {
		b = append(b, " arg"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '=')
		b = append(b, v.String()...)
	}
	w.Buf = append(b, '\n')
	return w.Added()
}

// Summary writes hits per tracepoint and call site, lost events (for an
// aggregation: dropped keys), read failures and the tracepoints that
// never fired.
func Summary(w io.Writer, st bpf.Stats, aggregated bool) error {
	lost := "lost"
	if aggregated {
		lost = "dropped keys"
	}
	t := NewTable(w, true, "tracepoint", "hits", "per call site", lost, "read failures")
	var never []string
	for _, tp := range st.Tracepoints {
		per := make([]string, len(tp.CallSites))
		for i, h := range tp.CallSites {
			per[i] = strconv.FormatUint(h, 10)
		}
		t.Add(tp.Probe, strconv.FormatUint(tp.Hits, 10), strings.Join(per, " "), strconv.FormatUint(tp.Lost, 10), strconv.FormatUint(tp.ReadFailures, 10))
		if tp.Hits == 0 {
			never = append(never, tp.Probe)
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	line := fmt.Sprintf("usdtkit: %d events lost, %d read failures", st.Lost, st.ReadFailures)
	if aggregated {
		line = fmt.Sprintf("usdtkit: %d dropped keys, %d read failures", st.Lost, st.ReadFailures)
	}
	if len(never) > 0 {
		line += "; never fired: " + strings.Join(never, ", ")
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// Locked is w written under mu: writers sharing mu write whole writes,
// one at a time (a command's output copier and the watch loop, say).
func Locked(mu *sync.Mutex, w io.Writer) io.Writer { return &locked{mu, w} }

type locked struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *locked) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
