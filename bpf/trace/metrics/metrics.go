// Package metrics serves a trace session's counts as Prometheus metrics,
// read at every scrape: hits per tracepoint, lost events and read
// failures, and an aggregation's rows read from the kernel's map (keys as
// labels, sums as counters, histograms with their le buckets), with the
// Go and process collectors.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/bpf/trace"
)

// Counter is a count another part of the session keeps, served as a
// counter: the NATS publisher's dropped messages, say.
type Counter struct {
	Name, Help string
	Value      func() uint64
}

// Collector collects a session's metrics at each scrape.
type Collector struct {
	s     *trace.Session
	extra []Counter

	hits, lost, dropped, failures *prometheus.Desc
	rowHits, rowSum, rowMin       *prometheus.Desc
	rowMax, rowHist               *prometheus.Desc
	extraDescs                    []*prometheus.Desc

	// bounds are the upper bounds (le) every histogram row is served
	// with: each one any row has had since the start. So the rows' buckets
	// sum by le into a histogram too, and a bucket once served stays. A
	// histogram has at most 65 power-of-two bounds, or its --lhist steps.
	mu     sync.Mutex
	bounds []float64
}

// New collects the metrics of s, and the extra counters.
func New(s *trace.Session, extra ...Counter) (*Collector, error) {
	c := &Collector{s: s, extra: extra}
	c.hits = prometheus.NewDesc("usdtkit_tracepoint_hits_total", "Hits of a tracepoint, counted in the kernel.", []string{"tracepoint"}, nil)
	c.lost = prometheus.NewDesc("usdtkit_events_lost_total", "Events dropped because the ring buffer was full (their hits are counted).", nil, nil)
	c.dropped = prometheus.NewDesc("usdtkit_dropped_keys_total", "Hits an aggregation did not count because their key found no room in the map.", nil, nil)
	c.failures = prometheus.NewDesc("usdtkit_read_failures_total", "Argument values, strings and buffers that could not be read.", nil, nil)
	if a := s.Aggregation(); a != nil {
		if err := Check(a); err != nil {
			return nil, err
		}
		labels := rowLabels(a)
		c.rowHits = prometheus.NewDesc("usdtkit_aggregate_hits_total", "Hits counted in the row of a key (--by).", labels, nil)
		if a.Value != bpf.ValueCount {
			withValue := append(append([]string{}, labels...), "value")
			c.rowSum = prometheus.NewDesc("usdtkit_aggregate_sum_total", "Sum of the aggregated argument (value) in a row.", withValue, nil)
			c.rowMin = prometheus.NewDesc("usdtkit_aggregate_min", "Least value of the aggregated argument in a row.", withValue, nil)
			c.rowMax = prometheus.NewDesc("usdtkit_aggregate_max", "Greatest value of the aggregated argument in a row.", withValue, nil)
			c.rowHist = prometheus.NewDesc("usdtkit_aggregate_value", "Histogram of the aggregated argument in a row.", withValue, nil)
		}
	}
	for _, e := range extra {
		c.extraDescs = append(c.extraDescs, prometheus.NewDesc(e.Name, e.Help, nil, nil))
	}
	return c, nil
}

// Check says whether the aggregation's rows can be served: the key
// "value" is the label that names the aggregated argument.
func Check(a *trace.Aggregation) error {
	if a != nil && a.Value != bpf.ValueCount && slices.Contains(a.By, "value") {
		return errors.New("--metrics: the --by key value is the name of the label that says which argument is aggregated: name the key argN")
	}
	return nil
}

// rowLabels are the labels of an aggregation's rows: the tracepoint, then
// the keys.
func rowLabels(a *trace.Aggregation) []string {
	labels := []string{"tracepoint"}
	for _, k := range a.By {
		if k != "tracepoint" {
			labels = append(labels, k)
		}
	}
	return labels
}

// Describe sends the descriptions of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.lost, c.dropped, c.failures, c.rowHits, c.rowSum, c.rowMin, c.rowMax, c.rowHist} {
		if d != nil {
			ch <- d
		}
	}
	for _, d := range c.extraDescs {
		ch <- d
	}
}

// Collect reads the session's counts, and an aggregation's rows, now.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	for _, tp := range st.Tracepoints {
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(tp.Hits), tp.Probe)
	}
	lost, dropped := st.Lost, uint64(0)
	a := c.s.Aggregation()
	if a != nil {
		lost, dropped = 0, st.Lost
	}
	ch <- prometheus.MustNewConstMetric(c.lost, prometheus.CounterValue, float64(lost))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(dropped))
	ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(st.ReadFailures))
	for i, e := range c.extra {
		ch <- prometheus.MustNewConstMetric(c.extraDescs[i], prometheus.CounterValue, float64(e.Value()))
	}
	if a == nil {
		return
	}
	snap, err := c.s.Snapshot(false, -1)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.rowHits, err)
		return
	}
	var bounds []float64
	if snap.Value == bpf.ValueHist || snap.Value == bpf.ValueLinear {
		c.mu.Lock()
		for _, r := range snap.Rows {
			c.bounds = addBounds(c.bounds, r.Buckets)
		}
		bounds = c.bounds
		c.mu.Unlock()
	}
	send := func(m prometheus.Metric, err error) {
		if err != nil {
			m = prometheus.NewInvalidMetric(c.rowHits, err)
		}
		ch <- m
	}
	for _, s := range group(snap, bounds) {
		send(prometheus.NewConstMetric(c.rowHits, prometheus.CounterValue, float64(s.count), s.labels...))
		if c.rowSum == nil {
			continue
		}
		withValue := append(append([]string{}, s.labels...), snap.Of)
		send(prometheus.NewConstMetric(c.rowSum, prometheus.CounterValue, s.sum, withValue...))
		if s.hasMinMax {
			send(prometheus.NewConstMetric(c.rowMin, prometheus.GaugeValue, s.min, withValue...))
			send(prometheus.NewConstMetric(c.rowMax, prometheus.GaugeValue, s.max, withValue...))
		}
		if snap.Value == bpf.ValueHist || snap.Value == bpf.ValueLinear {
			send(prometheus.NewConstHistogram(c.rowHist, s.bucketed, s.sum, s.buckets, withValue...))
		}
	}
}

// group makes the snapshot's rows series: rows whose keys show the same
// (strings cut at their length, bytes made valid UTF-8) are one series,
// whose counts add up.
func group(snap *trace.Snapshot, bounds []float64) []*row {
	var out []*row
	byLabels := map[string]*row{}
	for _, r := range snap.Rows {
		labels := []string{strings.ToValidUTF8(r.Tracepoint, "\uFFFD")}
		for i, k := range snap.By {
			if k != "tracepoint" {
				labels = append(labels, strings.ToValidUTF8(fmt.Sprint(r.Key[i]), "\uFFFD"))
			}
		}
		id := strings.Join(labels, "\xff")
		s := byLabels[id]
		if s == nil {
			s = &row{labels: labels, min: math.Inf(1), max: math.Inf(-1)}
			byLabels[id] = s
			out = append(out, s)
		}
		s.add(r, bounds)
	}
	return out
}

// row is one series of an aggregation: the rows with its labels.
type row struct {
	labels    []string
	count     uint64
	sum       float64
	hasMinMax bool
	min, max  float64
	buckets   map[float64]uint64 // cumulative, at the bounds
	bucketed  uint64             // the values in every bucket: the +Inf bucket
}

func (s *row) add(r trace.Row, bounds []float64) {
	s.count += r.Count
	s.sum += number(r.Sum)
	if r.Min != nil {
		s.hasMinMax = true
		s.min, s.max = math.Min(s.min, number(r.Min)), math.Max(s.max, number(r.Max))
	}
	if r.Buckets == nil {
		return
	}
	if s.buckets == nil {
		s.buckets = make(map[float64]uint64, len(bounds))
	}
	for le, n := range cumulative(r.Buckets, bounds) {
		s.buckets[le] += n
	}
	// Read while programs count, a row's count may lag its buckets: the
	// histogram's count is its buckets', so that no bucket exceeds it.
	for _, b := range r.Buckets {
		s.bucketed += b.Count
	}
}

// number is an int64 or uint64 of a row as a float.
func number(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case uint64:
		return float64(n)
	}
	return math.NaN()
}

// addBounds adds the upper bounds of a row's buckets to the sorted
// bounds. A new bound makes a new slice, so one handed out stays as it
// was.
func addBounds(bounds []float64, bs []trace.Bucket) []float64 {
	for _, b := range bs {
		if b.High == nil {
			continue
		}
		le := number(b.High)
		i := sort.SearchFloat64s(bounds, le)
		if i < len(bounds) && bounds[i] == le {
			continue
		}
		grown := make([]float64, 0, len(bounds)+1)
		grown = append(append(append(grown, bounds[:i]...), le), bounds[i:]...)
		bounds = grown
	}
	return bounds
}

// cumulative turns a row's buckets into Prometheus's: at each of the
// bounds (le), the count of values at or below it. A bucket open above
// is the +Inf bucket Prometheus adds itself.
func cumulative(bs []trace.Bucket, bounds []float64) map[float64]uint64 {
	type bucket struct {
		le    float64
		count uint64
	}
	row := make([]bucket, 0, len(bs))
	for _, b := range bs {
		if b.High != nil {
			row = append(row, bucket{number(b.High), b.Count})
		}
	}
	sort.Slice(row, func(i, j int) bool { return row[i].le < row[j].le })
	out := make(map[float64]uint64, len(bounds))
	var n uint64
	next := 0
	for _, le := range bounds {
		for ; next < len(row) && row[next].le <= le; next++ {
			n += row[next].count
		}
		out[le] = n
	}
	return out
}

// Listen binds the address --metrics gives: "HOST:PORT" as it is, ":PORT"
// on every interface (asked for), and a bare "PORT" on 127.0.0.1 only.
func Listen(addr string) (net.Listener, error) {
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		addr = "127.0.0.1:" + addr
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("--metrics %q: want PORT, HOST:PORT or :PORT", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return l, nil
}

// Server serves /metrics: the collector's metrics, and the Go and
// process collectors.
type Server struct {
	srv *http.Server
	l   net.Listener
}

// Serve starts serving c on l, in the background; when it cannot, it
// closes l.
func Serve(l net.Listener, c *Collector) (*Server, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		l.Close()
		return nil, err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: errorLog{},
		Registry: reg})) // promhttp_metric_handler_errors_total counts what a scrape could not serve
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "usdtkit: metrics at /metrics")
	})
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, l: l}
	go s.srv.Serve(l)
	return s, nil
}

// errorLog says on stderr what a scrape could not serve.
type errorLog struct{}

func (errorLog) Println(v ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"usdtkit: metrics:"}, v...)...)
}

// Addr is where the server listens.
func (s *Server) Addr() string { return s.l.Addr().String() }

// Close stops serving.
func (s *Server) Close() error {
	if err := s.srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
