package metrics

import (
	"reflect"
	"testing"

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
