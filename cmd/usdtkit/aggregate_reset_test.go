package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
)

// With --reset every hit is in exactly one snapshot: the counts of all
// snapshots add up to the hits the demo passed, however many snapshots
// the run spans (without the reset they would add up to more).
func TestAggregateReset(t *testing.T) {
	bpftest.Require(t)
	bin, doc := demo(t)
	cmd := []string{"attach", bin, "utxocache:add", "--docs", doc, "--json", "--by", "tracepoint",
		"--interval", "10ms", "--reset", "--", bin, "--iterations", "6", "--interval-ms", "40", "--print"}
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
	var counted uint64
	snaps := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var s jsonl.Snapshot
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("bad snapshot %q: %v", line, err)
		}
		snaps++
		for _, r := range s.Rows {
			counted += r.Count
		}
	}
	t.Logf("%d snapshots, %d hits", snaps, hits)
	if hits == 0 || counted != hits {
		t.Errorf("%d snapshots count %d hits; the demo passed %d", snaps, counted, hits)
	}
}
