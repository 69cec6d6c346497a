package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
)

// With --reset every hit is in exactly one snapshot, counted in a row or
// as dropped: the counts of all snapshots add up to the hits the demo
// passed, however many snapshots the run spans (without the reset they
// would add up to more). Rows cleared while hits keep coming are made
// again, not dropped; the final snapshot counts only its own drops.
func TestAggregateReset(t *testing.T) {
	bpftest.Require(t)
	bin, doc := demo(t)
	for _, tc := range []struct {
		name  string
		flags []string
		iters string
		gap   string
		fills bool // the map is too small: some hits are dropped
	}{
		{"slow", []string{"--by", "tracepoint", "--interval", "10ms"}, "6", "40", false},
		{"churn", []string{"--by", "tracepoint", "--interval", "1ms"}, "3000", "0", false},
		{"full", []string{"--by", "arg2", "--map-size", "1", "--interval", "5ms"}, "40", "5", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := append([]string{"attach", bin, "utxocache:add", "--docs", doc, "--json", "--reset"}, tc.flags...)
			cmd = append(cmd, "--", bin, "--iterations", tc.iters, "--interval-ms", tc.gap, "--print")
			stdout, stderr, code := runCmdCtx(context.Background(), cmd...)
			if code != 0 {
				t.Fatalf("usdtkit %s: exit %d: %s", strings.Join(cmd, " "), code, stderr)
			}
			var hits uint64
			for _, l := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(l, "utxocache:add arg0=") {
					hits++
				}
			}
			var counted, dropped uint64
			snaps := 0
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				var s jsonl.Snapshot
				if err := json.Unmarshal([]byte(line), &s); err != nil {
					t.Fatalf("bad snapshot %q: %v", line, err)
				}
				snaps++
				dropped += s.DroppedKeys
				for _, r := range s.Rows {
					counted += r.Count
				}
			}
			t.Logf("%d snapshots, %d hits, %d counted, %d dropped", snaps, hits, counted, dropped)
			if hits == 0 || counted+dropped != hits || tc.fills != (dropped > 0) {
				t.Errorf("%d snapshots count %d hits and %d dropped; the demo passed %d", snaps, counted, dropped, hits)
			}
		})
	}
}
