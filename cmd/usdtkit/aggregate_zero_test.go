package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
)

// A new row starts from zero whatever another tracepoint of the session
// left in the scratch area: mempool:removed keeps its key where
// utxocache:add's zero value lies, and fires before it in every
// iteration of the demo.
func TestAggregateNewRowsStartAtZero(t *testing.T) {
	bpftest.Require(t)
	snap, hits, _ := demoHits(t, 3, "utxocache:add", "mempool:removed", "--by", "tracepoint", "--sum", "arg2")
	want := map[string][2]uint64{}
	for _, tp := range []string{"utxocache:add", "mempool:removed"} {
		for _, h := range hits[tp] {
			v, err := strconv.ParseUint(h[2], 10, 64)
			if err != nil {
				t.Fatalf("%s arg2 %q: %v", tp, h[2], err)
			}
			w := want[tp]
			want[tp] = [2]uint64{w[0] + 1, w[1] + v}
		}
	}
	var w []string
	for tp, v := range want {
		w = append(w, fmt.Sprintf("%s tracepoint=%s %d %d", tp, tp, v[0], v[1]))
	}
	sort.Strings(w)
	if got := rowsOf(snap, true); len(w) != 2 || strings.Join(got, "\n") != strings.Join(w, "\n") {
		t.Errorf("--by tracepoint --sum arg2:\n%s\nthe demo passed:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
}
