package metrics

import (
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/usdtkit/usdtkit/bpf/trace"
)

// Every histogram row is served at every bound any row has had, so that
// rows sum by le: a row without values near a bound still has its bucket.
func TestBoundsShared(t *testing.T) {
	u := func(v uint64) any { return v }
	small := []trace.Bucket{{Low: u(4), High: u(7), Count: 2}, {Low: u(8), High: u(15), Count: 1}}
	large := []trace.Bucket{{Low: u(1024), High: u(2047), Count: 5}, {Low: u(8), High: u(15), Count: 3}}
	var bounds []float64
	bounds = addBounds(bounds, small)
	before := bounds
	bounds = addBounds(bounds, large)
	if want := []float64{7, 15}; !reflect.DeepEqual(before, want) {
		t.Errorf("a bound added changed the slice handed out before: %v, want %v", before, want)
	}
	if want := []float64{7, 15, 2047}; !reflect.DeepEqual(bounds, want) {
		t.Fatalf("bounds %v, want %v", bounds, want)
	}
	if got, want := cumulative(small, bounds), map[float64]uint64{7: 2, 15: 3, 2047: 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("small row: %v, want %v", got, want)
	}
	if got, want := cumulative(large, bounds), map[float64]uint64{7: 0, 15: 3, 2047: 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("large row: %v, want %v", got, want)
	}
	// The bucket open above (no High) is counted in +Inf only.
	open := []trace.Bucket{{Low: u(1 << 62), Count: 4}}
	if got, want := cumulative(open, bounds), map[float64]uint64{7: 0, 15: 0, 2047: 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("open row: %v, want %v", got, want)
	}
	if got := addBounds(bounds, open); !reflect.DeepEqual(got, bounds) {
		t.Errorf("a bucket open above added a bound: %v", got)
	}
}

// Keys that show the same make one series, their counts added; a key of
// bytes that are not UTF-8 makes a label Prometheus accepts; a
// histogram's count is its buckets', however the row's count lags.
func TestGroup(t *testing.T) {
	u := func(v uint64) any { return v }
	snap := &trace.Snapshot{By: []string{"tracepoint", "message_type"}, Rows: []trace.Row{
		{Tracepoint: "net:inbound_message", Key: []any{"net:inbound_message", "abc..."}, Count: 2, Sum: u(10),
			Buckets: []trace.Bucket{{Low: u(4), High: u(7), Count: 2}}},
		{Tracepoint: "net:inbound_message", Key: []any{"net:inbound_message", "abc..."}, Count: 1, Sum: u(20),
			Buckets: []trace.Bucket{{Low: u(16), High: u(31), Count: 2}}},
		{Tracepoint: "net:inbound_message", Key: []any{"net:inbound_message", "bad\xffbytes"}, Count: 1, Sum: u(1)},
	}}
	bounds := addBounds(addBounds(nil, snap.Rows[0].Buckets), snap.Rows[1].Buckets)
	got := group(snap, bounds)
	if len(got) != 2 {
		t.Fatalf("%d series, want 2: %+v", len(got), got)
	}
	if s := got[0]; s.count != 3 || s.sum != 30 || s.bucketed != 4 || !reflect.DeepEqual(s.buckets, map[float64]uint64{7: 2, 31: 4}) {
		t.Errorf("merged series %+v", s)
	}
	if l := got[1].labels[1]; !utf8.ValidString(l) || l != "bad\uFFFDbytes" {
		t.Errorf("label %q", l)
	}
	c := &Collector{rowHits: prometheus.NewDesc("x_total", "x", []string{"tracepoint", "message_type"}, nil)}
	if _, err := prometheus.NewConstMetric(c.rowHits, prometheus.CounterValue, 1, got[1].labels...); err != nil {
		t.Errorf("Prometheus refuses the label: %v", err)
	}
}
