// Package export exports a trace session for monitoring
// (docs/monitoring.md): Prometheus metrics (package metrics) and a NATS
// stream of its events and snapshots (package publish), and the user the
// exporter goes on as once attached.
package export

import (
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/metrics"
	"github.com/usdtkit/usdtkit/bpf/trace/publish"
)

// Options say where to export: any of them may be empty.
type Options struct {
	Metrics string          // the address metrics are served at
	NATS    publish.Options // URL "" for none; its Log is set by Open
	// User, when Credential is not nil, is who the exporter goes on as
	// once attached, without capabilities.
	User       string
	Credential *syscall.Credential
	Log        io.Writer // what the exporter says
}

// Exporter is what the options opened.
type Exporter struct {
	o      Options
	server *metrics.Server
	pub    *publish.Publisher
}

// Open connects to NATS, before anything is attached (and before
// privileges are dropped).
func Open(o Options) (*Exporter, error) {
	e := &Exporter{o: o}
	if o.NATS.URL != "" {
		o.NATS.Log = func(format string, v ...any) { fmt.Fprintf(o.Log, "usdtkit: "+format+"\n", v...) }
		p, err := publish.Connect(o.NATS)
		if err != nil {
			return nil, err
		}
		e.pub = p
	}
	return e, nil
}

// Exporting reports whether events and snapshots go elsewhere than the
// command's output.
func (e *Exporter) Exporting() bool { return e.o.Metrics != "" || e.pub != nil }

// Serve serves the attached session's metrics, then drops privileges.
func (e *Exporter) Serve(s *trace.Session) error {
	if e.o.Metrics != "" {
		l, err := metrics.Listen(e.o.Metrics)
		if err != nil {
			return err
		}
		var extra []metrics.Counter
		if e.pub != nil {
			extra = append(extra, metrics.Counter{Name: "usdtkit_nats_dropped_total", Help: "Messages not published to NATS: no room while it was away, or not acknowledged.", Value: e.pub.Dropped},
				metrics.Counter{Name: "usdtkit_nats_published_total", Help: "Messages the NATS server has (with a stream: acknowledged).", Value: e.pub.Published})
		}
		c, err := metrics.New(s, extra...)
		if err != nil {
			l.Close()
			return err
		}
		if e.server, err = metrics.Serve(l, c); err != nil {
			return err
		}
		fmt.Fprintf(e.o.Log, "usdtkit: metrics at http://%s/metrics\n", e.server.Addr())
	}
	if c := e.o.Credential; c != nil {
		if err := trace.DropTo(c); err != nil {
			return err
		}
		fmt.Fprintf(e.o.Log, "usdtkit: going on as %s (uid %d), without capabilities\n", e.o.User, c.Uid)
	}
	return nil
}

// Sink is where events go: NATS, else nowhere when only metrics are
// served, else out.
func (e *Exporter) Sink(out trace.Sink) trace.Sink {
	switch {
	case e.pub != nil:
		return e.pub
	case e.Exporting():
		return discard{}
	}
	return out
}

// Snapshot publishes an aggregation's snapshot, and reports whether it
// was exported (it is not for the command to print).
func (e *Exporter) Snapshot(s *trace.Snapshot) bool {
	if e.pub != nil {
		e.pub.Snapshot(s)
	}
	return e.Exporting()
}

type discard struct{}

func (discard) Event(*trace.Event) error { return nil }
func (discard) Flush() error             { return nil }

// Close stops serving and publishing, and says what NATS took.
func (e *Exporter) Close() error {
	if e.server != nil {
		e.server.Close()
	}
	if e.pub == nil {
		return nil
	}
	err := e.pub.Close(5 * time.Second)
	fmt.Fprintf(e.o.Log, "usdtkit: nats: %d messages published, %d dropped\n", e.pub.Published(), e.pub.Dropped())
	return err
}
