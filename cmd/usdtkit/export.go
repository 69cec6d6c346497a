package main

import (
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/metrics"
	"github.com/usdtkit/usdtkit/bpf/trace/publish"
)

// exportFlags are attach's flags that export to monitoring
// (docs/monitoring.md): Prometheus metrics, a NATS stream, and the user
// the exporter goes on as.
type exportFlags struct {
	Metrics     string
	NATS        string
	NATSSubject string
	NATSCreds   string
	NATSStream  string
	User        string

	cred *syscall.Credential
}

func (e *exportFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&e.Metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (PORT binds 127.0.0.1; :PORT every interface)")
	f.StringVar(&e.NATS, "nats", "", "publish every event (and snapshot) to the NATS server URL")
	f.StringVar(&e.NATSSubject, "nats-subject", "", "the subjects' prefix (default usdtkit.HOST): events go to PREFIX.CONTEXT.EVENT")
	f.StringVar(&e.NATSCreds, "nats-creds", "", "a NATS credentials file")
	f.StringVar(&e.NATSStream, "nats-stream", "", "publish with JetStream acknowledgements into this stream")
	f.StringVar(&e.User, "user", "", "once attached, go on as this user, without capabilities")
}

func (e *exportFlags) check(reset bool) error {
	if e.NATS == "" && (e.NATSSubject != "" || e.NATSCreds != "" || e.NATSStream != "") {
		return usagef("--nats-subject, --nats-creds and --nats-stream need --nats URL")
	}
	if e.NATSSubject != "" {
		if err := publish.CheckPrefix(e.NATSSubject); err != nil {
			return &usageError{err}
		}
	}
	if e.Metrics != "" && reset {
		return usagef("--metrics serves counts that only grow: leave out --reset")
	}
	if e.User != "" {
		c, err := trace.LookupUser(e.User)
		if err != nil {
			return &usageError{err}
		}
		e.cred = c
	}
	return nil
}

// exporter is what the export flags opened.
type exporter struct {
	flags  *exportFlags
	log    io.Writer
	server *metrics.Server
	pub    *publish.Publisher
}

// open connects to NATS and binds the metrics address, before anything
// is attached (and before privileges are dropped).
func (e *exportFlags) open(log io.Writer) (*exporter, error) {
	ex := &exporter{flags: e, log: log}
	if e.NATS != "" {
		p, err := publish.Connect(publish.Options{URL: e.NATS, Creds: e.NATSCreds, Prefix: e.NATSSubject, Stream: e.NATSStream,
			Log: func(format string, v ...any) { fmt.Fprintf(log, "usdtkit: "+format+"\n", v...) }})
		if err != nil {
			return nil, err
		}
		ex.pub = p
	}
	return ex, nil
}

// exporting reports whether events and snapshots go elsewhere than stdout.
func (ex *exporter) exporting() bool { return ex.flags.Metrics != "" || ex.flags.NATS != "" }

// serve starts the metrics server on the attached session, then drops
// privileges.
func (ex *exporter) serve(s *trace.Session) error {
	if ex.flags.Metrics != "" {
		l, err := metrics.Listen(ex.flags.Metrics)
		if err != nil {
			return err
		}
		var extra []metrics.Counter
		if ex.pub != nil {
			extra = append(extra, metrics.Counter{Name: "usdtkit_nats_dropped_total", Help: "Messages not published to NATS: no room while it was away, or not acknowledged.", Value: ex.pub.Dropped},
				metrics.Counter{Name: "usdtkit_nats_published_total", Help: "Messages handed to NATS.", Value: ex.pub.Published})
		}
		c, err := metrics.New(s, extra...)
		if err != nil {
			l.Close()
			return &usageError{err}
		}
		if ex.server, err = metrics.Serve(l, c); err != nil {
			return err
		}
		fmt.Fprintf(ex.log, "usdtkit: metrics at http://%s/metrics\n", ex.server.Addr())
	}
	if ex.flags.cred != nil {
		if err := trace.DropTo(ex.flags.cred); err != nil {
			return err
		}
		fmt.Fprintf(ex.log, "usdtkit: going on as %s (uid %d), without capabilities\n", ex.flags.User, ex.flags.cred.Uid)
	}
	return nil
}

// sink is where events go: NATS, else nowhere when only metrics are
// served, else out.
func (ex *exporter) sink(out trace.Sink) trace.Sink {
	switch {
	case ex.pub != nil:
		return ex.pub
	case ex.exporting():
		return discard{}
	}
	return out
}

type discard struct{}

func (discard) Event(*trace.Event) error { return nil }
func (discard) Flush() error             { return nil }

// close stops serving and publishing, and says what NATS took.
func (ex *exporter) close() error {
	if ex.server != nil {
		ex.server.Close()
	}
	if ex.pub == nil {
		return nil
	}
	err := ex.pub.Close(5 * time.Second)
	fmt.Fprintf(ex.log, "usdtkit: nats: %d messages published, %d dropped\n", ex.pub.Published(), ex.pub.Dropped())
	return err
}
