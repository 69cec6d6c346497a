package bpf

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
)

// Snapshots taken while the session closes (a Prometheus scrape as
// attach ends) read the maps whole or not at all: after Close, Snapshot
// says the session is closed. (Run with -race to see the maps' release
// races no read.)
func TestSnapshotWhileClosing(t *testing.T) {
	bpftest.Require(t)
	bin := build(t, "handwritten")
	f := openELF(t, bin)
	agg := &Aggregation{Fields: []Field{{Kind: FieldPID}}, MaxKeys: 16, Tracepoints: map[string]AggTracepoint{}}
	for _, p := range f.Probes {
		agg.Tracepoints[p.ID()] = AggTracepoint{Value: -1}
	}
	s, err := Attach(context.Background(), Options{File: f, Aggregate: agg})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000; i++ {
				if _, err := s.Snapshot(i%2 == 0); err != nil {
					if !strings.Contains(err.Error(), "closed") {
						t.Errorf("snapshot: %v", err)
					}
					return
				}
			}
		}()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := s.Snapshot(false); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("a snapshot after Close: %v", err)
	}
}

// A snapshot of a histogram's rows costs memory by the rows there are,
// not by the most a batch could hold: ten of an empty map allocate less
// than one batch buffer of 4,096 rows would.
func TestSnapshotMemory(t *testing.T) {
	bpftest.Require(t)
	bin := build(t, "handwritten")
	f := openELF(t, bin)
	agg := &Aggregation{Fields: []Field{{Kind: FieldPID}}, Value: ValueHist, MaxKeys: 8192, Tracepoints: map[string]AggTracepoint{}}
	for _, p := range f.Probes {
		agg.Tracepoints[p.ID()] = AggTracepoint{Args: nil, Value: 0}
	}
	s, err := Attach(context.Background(), Options{File: f, Aggregate: agg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := s.Snapshot(false); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	oneBatch := uint64(4096 * agg.valueSize() * s.ncpu)
	if got := after.TotalAlloc - before.TotalAlloc; got > oneBatch {
		t.Errorf("10 snapshots allocated %d bytes; one batch of 4,096 rows is %d", got, oneBatch)
	}
}
