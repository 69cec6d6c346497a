// Package publish sends a trace session's events and snapshots to a NATS
// server: one message per event, the --json event schema, on the subject
// PREFIX.<context>.<event>, and each aggregation snapshot on
// PREFIX.snapshot. With a JetStream stream, every message is acknowledged
// by the server (at least once).
//
// Publishing never blocks the session: messages go through a bounded
// queue to nats.go, which reconnects after a server restart and buffers
// what is published meanwhile, up to a bound. A message that finds no
// room, or that the stream does not acknowledge, is counted as dropped.
//
// # Security
//
// Credentials (a creds file, user:password in the URL) are never written
// to messages or errors: URLs are shown without their user information.
package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
)

// Options say where and how to publish.
type Options struct {
	// URL is the server, as nats.go takes it: nats://host:4222,
	// tls://host:4222, nats://user:password@host:4222, several joined by
	// commas.
	URL string
	// Creds is a NATS credentials file (JWT and NKey seed), "" for none.
	Creds string
	// Prefix starts every subject; DefaultPrefix when "".
	Prefix string
	// Stream, when set, names a JetStream stream that takes the subjects:
	// messages are published with acknowledgements.
	Stream string
	// Queue bounds the messages waiting for nats.go; DefaultQueue when 0.
	Queue int
	// Buffer bounds the bytes nats.go keeps while it reconnects;
	// DefaultBuffer when 0.
	Buffer int
	// Log takes the connection's news: disconnected, reconnected.
	Log func(format string, v ...any)
}

// Defaults.
const (
	DefaultQueue  = 1 << 16
	DefaultBuffer = 64 << 20
)

// DefaultPrefix is "usdtkit.<host>", host the short host name made fit
// for a subject.
func DefaultPrefix() string {
	h, _ := os.Hostname()
	h, _, _ = strings.Cut(h, ".")
	return "usdtkit." + Token(h)
}

// Token makes s one subject token: every character but letters, digits,
// '-' and '_' becomes '_' (a '.' would split it, '*' and '>' are
// wildcards); empty, it is "_".
func Token(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// CheckPrefix validates a subject prefix: tokens joined by dots, no
// wildcard, no space.
func CheckPrefix(p string) error {
	if p == "" || strings.ContainsAny(p, " \t\r\n*>") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
		return fmt.Errorf("--nats-subject %q: want tokens joined by dots, without spaces or wildcards", p)
	}
	return nil
}

// Redact is a nats.go server list (URLs joined by commas, each with or
// without a scheme) with every password or token shown as ***:
// nats://alice:***@host:4222, nats://***@host.
func Redact(list string) string {
	shown, _ := redact(list)
	return shown
}

// hidden is user information Redact hid: whole ("alice:s3cret@",
// "token@") and its secret alone.
type hidden struct{ info, secret string }

// redact is Redact, and what it hid.
func redact(list string) (shown string, hid []hidden) {
	parts := strings.Split(list, ",")
	for i, part := range parts {
		start := 0
		if k := strings.Index(part, "://"); k >= 0 {
			start = k + 3
		}
		at := strings.LastIndexByte(part[start:], '@')
		if at < 0 {
			continue
		}
		info := part[start : start+at]
		user, secret, hasPassword := strings.Cut(info, ":")
		shownInfo := "***"
		if hasPassword {
			shownInfo = user + ":***"
		} else {
			secret = info // a token
		}
		hid = append(hid, hidden{info + "@", secret})
		parts[i] = part[:start] + shownInfo + part[start+at:]
	}
	return strings.Join(parts, ","), hid
}

// Publisher publishes to one NATS server (or cluster).
type Publisher struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	prefix string
	queue  chan message
	done   chan struct{}
	enc    jsonl.Encoder // the events' JSON, from the session's one goroutine
	wg     sync.WaitGroup

	published atomic.Uint64
	dropped   atomic.Uint64
	away      atomic.Uint64 // in nats.go's reconnect buffer, while the server is away
}

type message struct {
	subject string
	data    []byte
}

// Connect connects to the server. When it is down, Connect still returns
// a publisher, which keeps trying in the background and buffers what is
// published meanwhile; with a stream, Connect fails unless the server is
// up and has it.
func Connect(o Options) (*Publisher, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix()
	}
	if err := CheckPrefix(o.Prefix); err != nil {
		return nil, err
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	shown := Redact(o.URL)
	p := &Publisher{prefix: o.Prefix, queue: make(chan message, o.Queue), done: make(chan struct{})}
	// nats.go sends its reconnect buffer first thing once connected.
	back := func(*nats.Conn) { p.published.Add(p.away.Swap(0)) }
	opts := []nats.Option{
		nats.Name("usdtkit"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(o.Buffer),
		nats.RetryOnFailedConnect(o.Stream == ""),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logf("nats: disconnected from %s (%v); publishing into a buffer of %d bytes until it is back", shown, err, o.Buffer)
			}
		}),
		nats.ConnectHandler(back), // a server down at the start
		nats.ReconnectHandler(func(c *nats.Conn) {
			back(c)
			logf("nats: reconnected to %s", shown)
		}),
	}
	if o.Creds != "" {
		// Read once: nats.go would read a file at every reconnect, which
		// a process gone on without root may no longer be allowed to.
		creds, err := os.ReadFile(o.Creds)
		if err != nil {
			return nil, fmt.Errorf("--nats-creds: %w", err)
		}
		opts = append(opts, nats.UserCredentialBytes(creds))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %s", shown, redactErr(err, o.URL))
	}
	p.nc = nc
	if o.Stream != "" {
		js, err := jetstream.New(nc,
			jetstream.WithPublishAsyncMaxPending(4096),
			jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { p.dropped.Add(1) }),
			// With a stream, a message is published once it is acknowledged.
			jetstream.WithPublishAsyncAckHandler(func(jetstream.JetStream, *nats.Msg, *jetstream.PubAck) { p.published.Add(1) }))
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("jetstream: %w", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := js.Stream(ctx, o.Stream); err != nil {
			nc.Close()
			return nil, fmt.Errorf("--nats-stream %s: %w (create it, with subjects %s.>)", o.Stream, err, o.Prefix)
		}
		p.js = js
	}
	p.wg.Add(1)
	go p.run()
	return p, nil
}

// redactErr is err's text without the list's passwords and tokens: the
// user information where it stands whole, and a secret of 3 bytes or more
// wherever it stands.
func redactErr(err error, list string) string {
	msg := err.Error()
	_, hid := redact(list)
	for _, h := range hid {
		if len(h.info) > 1 {
			msg = strings.ReplaceAll(msg, h.info, "***@")
		}
		if len(h.secret) >= 3 {
			msg = strings.ReplaceAll(msg, h.secret, "***")
		}
	}
	return msg
}

// run hands the queued messages to nats.go.
func (p *Publisher) run() {
	defer p.wg.Done()
	for {
		select {
		case m := <-p.queue:
			p.send(m)
		case <-p.done:
			for {
				select {
				case m := <-p.queue:
					p.send(m)
				default:
					return
				}
			}
		}
	}
}

func (p *Publisher) send(m message) {
	var err error
	if p.js != nil {
		_, err = p.js.PublishAsync(m.subject, m.data)
	} else {
		err = p.nc.Publish(m.subject, m.data)
	}
	switch {
	case err != nil:
		p.dropped.Add(1) // the reconnect buffer is full, or the stream is stalled
	case p.js != nil: // counted when acknowledged
	case !p.nc.IsConnected():
		p.away.Add(1) // in the reconnect buffer: published once it is back
	default:
		p.published.Add(1)
	}
}

// enqueue queues one message; without room, it is counted as dropped.
func (p *Publisher) enqueue(subject string, data []byte) {
	select {
	case p.queue <- message{subject, data}:
	default:
		p.dropped.Add(1)
	}
}

// Subject is the subject of a tracepoint's events.
func (p *Publisher) Subject(tracepoint string) string {
	ctx, event, _ := strings.Cut(tracepoint, ":")
	return p.prefix + "." + Token(ctx) + "." + Token(event)
}

// Event publishes one event, in the --json schema.
func (p *Publisher) Event(ev *trace.Event) error {
	data := p.enc.Append(nil, ev)
	p.enqueue(p.Subject(ev.Probe), data[:len(data)-1])
	return nil
}

// Snapshot publishes one aggregation snapshot on PREFIX.snapshot.
func (p *Publisher) Snapshot(s *trace.Snapshot) {
	data := jsonl.AppendSnapshot(nil, s)
	p.enqueue(p.prefix+".snapshot", data[:len(data)-1])
}

// Flush does nothing: messages leave as they come.
func (p *Publisher) Flush() error { return nil }

// Dropped is how many messages found no room, in the queue or nats.go's
// reconnect buffer, or were not acknowledged by the stream.
func (p *Publisher) Dropped() uint64 { return p.dropped.Load() }

// Published is how many messages were handed to nats.go.
func (p *Publisher) Published() uint64 { return p.published.Load() }

// ErrUndelivered says that messages were still buffered when Close gave
// up waiting for the server.
var ErrUndelivered = errors.New("messages not delivered")

// Close sends what is queued, waits up to timeout for the server to take
// it (and, with a stream, acknowledge it), and disconnects. What is still
// buffered then is counted as dropped.
func (p *Publisher) Close(timeout time.Duration) error {
	close(p.done)
	p.wg.Wait()
	var err error
	deadline := time.Now().Add(timeout)
	if p.js != nil {
		select {
		case <-p.js.PublishAsyncComplete():
		case <-time.After(timeout):
			n := p.js.PublishAsyncPending()
			p.dropped.Add(uint64(n))
			err = fmt.Errorf("%w: %d not acknowledged within %s", ErrUndelivered, n, timeout)
		}
	}
	ferr := p.nc.FlushTimeout(max(time.Until(deadline), time.Millisecond))
	if n, _ := p.nc.Buffered(); ferr != nil && n > 0 {
		p.dropped.Add(p.away.Swap(0)) // never sent
		if err == nil {
			err = fmt.Errorf("%w: %d bytes still buffered after %s: %v", ErrUndelivered, n, timeout, ferr)
		}
	}
	p.published.Add(p.away.Swap(0))
	p.nc.Close()
	return err
}
