package main

import (
	"io"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/export"
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

func (e *exportFlags) check(agg *trace.Aggregation, reset bool) error {
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
	if err := metrics.Check(agg); e.Metrics != "" && err != nil {
		return &usageError{err}
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

// open connects what the flags name.
func (e *exportFlags) open(log io.Writer) (*export.Exporter, error) {
	return export.Open(export.Options{Metrics: e.Metrics, User: e.User, Credential: e.cred, Log: log,
		NATS: publish.Options{URL: e.NATS, Creds: e.NATSCreds, Prefix: e.NATSSubject, Stream: e.NATSStream}})
}
