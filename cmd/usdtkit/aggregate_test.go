package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// demoHits runs the demo with --print under attach's aggregation flags
// and returns the snapshot and what the demo printed: per tracepoint, the
// values of each hit, by argument index.
func demoHits(t *testing.T, iterations int, args ...string) (jsonl.Snapshot, map[string][][]string, string) {
	t.Helper()
	bin, doc := demo(t)
	cmd := append([]string{"attach", bin, "--docs", doc, "--json"}, args...)
	cmd = append(cmd, "--", bin, "--iterations", strconv.Itoa(iterations), "--interval-ms", "0", "--print")
	stdout, stderr, code := runCmdCtx(context.Background(), cmd...)
	if code != 0 {
		t.Fatalf("usdtkit %s: exit %d: %s", strings.Join(cmd, " "), code, stderr)
	}
	var snaps []jsonl.Snapshot
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var s jsonl.Snapshot
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber() // integers stay exact
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("bad snapshot %q: %v", line, err)
		}
		snaps = append(snaps, s)
	}
	if len(snaps) != 1 || !snaps[0].Final {
		t.Fatalf("%d snapshots, want one final one:\n%s", len(snaps), stdout)
	}
	printed := map[string][][]string{}
	for _, l := range strings.Split(stderr, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || strings.Count(f[0], ":") != 1 || !strings.HasPrefix(f[1], "arg0=") {
			continue
		}
		var vals []string
		for _, kv := range f[1:] {
			_, v, _ := strings.Cut(kv, "=")
			vals = append(vals, strings.Trim(v, `"`))
		}
		printed[f[0]] = append(printed[f[0]], vals)
	}
	return snaps[0], printed, stderr
}

// rowsOf renders a snapshot's rows as "tracepoint key=value... count [sum]".
func rowsOf(s jsonl.Snapshot, withSum bool) []string {
	var out []string
	for _, r := range s.Rows {
		var keys []string
		for k, v := range r.Key {
			keys = append(keys, fmt.Sprintf("%s=%v", k, v))
		}
		sort.Strings(keys)
		line := r.Tracepoint + " " + strings.Join(keys, " ") + " " + strconv.FormatUint(r.Count, 10)
		if withSum {
			line += fmt.Sprintf(" %v", r.Sum)
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

func sortedLines(m map[string]uint64) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+" "+strconv.FormatUint(v, 10))
	}
	sort.Strings(out)
	return out
}

// The counts in the kernel equal what the demo passed, key by key: an
// integer key and two of them, a string key with a predicate on it, sums
// by key, both histograms and a predicate on integers.
func TestAggregateMatchesDemo(t *testing.T) {
	bpftest.Require(t)
	const n = 7

	snap, hits, _ := demoHits(t, n, "utxocache:add", "--by", "value_of_coin,output_index")
	want := map[string]uint64{}
	for _, h := range hits["utxocache:add"] {
		want[fmt.Sprintf("utxocache:add output_index=%s value_of_coin=%s", h[1], h[3])]++
	}
	if got, w := rowsOf(snap, false), sortedLines(want); strings.Join(got, "\n") != strings.Join(w, "\n") {
		t.Errorf("--by value_of_coin,output_index:\n%s\nthe demo passed:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}

	snap, hits, _ = demoHits(t, n, "net:*_message", "--by", "message_type", "--sum", "message_size", "--where", `message_type != "ping" && message_size >= 8`)
	wantSum := map[string][2]uint64{}
	for _, tp := range []string{"net:inbound_message", "net:outbound_message"} {
		for _, h := range hits[tp] {
			size, _ := strconv.ParseUint(h[4], 10, 64)
			if h[3] == "ping" || size < 8 {
				continue
			}
			k := tp + " message_type=" + h[3]
			c := wantSum[k]
			wantSum[k] = [2]uint64{c[0] + 1, c[1] + size}
		}
	}
	var w []string
	for k, v := range wantSum {
		w = append(w, fmt.Sprintf("%s %d %d", k, v[0], v[1]))
	}
	sort.Strings(w)
	if got := rowsOf(snap, true); strings.Join(got, "\n") != strings.Join(w, "\n") {
		t.Errorf("--sum with --where:\n%s\nthe demo passed:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}

	snap, hits, _ = demoHits(t, n, "utxocache:add", "--by", "is_coinbase_output", "--hist", "value_of_coin", "--where", "height_of_block > 101 || !(is_coinbase_output == 1)")
	type agg struct {
		count, sum, min, max uint64
		buckets              map[uint64]uint64 // by the bucket's low bound
	}
	wantHist := map[string]*agg{}
	for _, h := range hits["utxocache:add"] {
		height, _ := strconv.ParseUint(h[2], 10, 64)
		v, _ := strconv.ParseUint(h[3], 10, 64)
		if !(height > 101 || h[4] != "1") {
			continue
		}
		a := wantHist[h[4]]
		if a == nil {
			a = &agg{min: v, max: v, buckets: map[uint64]uint64{}}
			wantHist[h[4]] = a
		}
		a.count++
		a.sum += v
		a.min, a.max = min(a.min, v), max(a.max, v)
		low := uint64(0)
		if v > 0 {
			low = 1 << (bits.Len64(v) - 1)
		}
		a.buckets[low]++
	}
	if len(snap.Rows) != len(wantHist) {
		t.Fatalf("--hist: %d rows, want %d: %+v", len(snap.Rows), len(wantHist), snap.Rows)
	}
	for _, r := range snap.Rows {
		a := wantHist[fmt.Sprint(r.Key["is_coinbase_output"])]
		if a == nil {
			t.Fatalf("--hist: a row for %v, which the demo never passed", r.Key)
		}
		if r.Count != a.count || fmt.Sprint(r.Sum) != fmt.Sprint(a.sum) || fmt.Sprint(r.Min) != fmt.Sprint(a.min) || fmt.Sprint(r.Max) != fmt.Sprint(a.max) {
			t.Errorf("--hist row %v: count %d sum %v min %v max %v; the demo passed count %d sum %d min %d max %d", r.Key, r.Count, r.Sum, r.Min, r.Max, a.count, a.sum, a.min, a.max)
		}
		got := map[uint64]uint64{}
		for _, b := range r.Buckets {
			lo, _ := strconv.ParseUint(fmt.Sprint(b.Low), 10, 64)
			hi, _ := strconv.ParseUint(fmt.Sprint(b.High), 10, 64)
			if lo > 0 && hi != 2*lo-1 {
				t.Errorf("bucket [%v, %v] is not a power of two", b.Low, b.High)
			}
			got[lo] = b.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(a.buckets) {
			t.Errorf("--hist row %v: buckets %v, the demo passed %v", r.Key, got, a.buckets)
		}
	}

	snap, hits, _ = demoHits(t, n, "utxocache:add", "--lhist", "height_of_block=100:106:2")
	wantLin := map[string]uint64{}
	for _, h := range hits["utxocache:add"] {
		height, _ := strconv.ParseInt(h[2], 10, 64)
		switch {
		case height < 100:
			wantLin["[<nil>,99]"]++
		case height >= 106:
			wantLin["[106,<nil>]"]++
		default:
			lo := 100 + (height-100)/2*2
			wantLin[fmt.Sprintf("[%d,%d]", lo, lo+1)]++
		}
	}
	if len(snap.Rows) != 1 {
		t.Fatalf("--lhist: %d rows, want 1", len(snap.Rows))
	}
	gotLin := map[string]uint64{}
	for _, b := range snap.Rows[0].Buckets {
		gotLin[fmt.Sprintf("[%v,%v]", b.Low, b.High)] = b.Count
	}
	if fmt.Sprint(gotLin) != fmt.Sprint(wantLin) {
		t.Errorf("--lhist buckets %v, the demo passed %v", gotLin, wantLin)
	}
}

// A map that fills up is never silent: every hit is in a row or counted
// as dropped, exactly.
func TestAggregateMapFull(t *testing.T) {
	bpftest.Require(t)
	snap, hits, stderr := demoHits(t, 9, "utxocache:add", "--by", "value_of_coin", "--map-size", "4")
	var counted uint64
	for _, r := range snap.Rows {
		counted += r.Count
	}
	all := uint64(len(hits["utxocache:add"]))
	distinct := map[string]bool{}
	for _, h := range hits["utxocache:add"] {
		distinct[h[3]] = true
	}
	if len(snap.Rows) != 4 || len(distinct) <= 4 || counted+snap.DroppedKeys != all || snap.DroppedKeys == 0 {
		t.Errorf("%d rows counting %d hits, %d dropped, of %d hits over %d keys", len(snap.Rows), counted, snap.DroppedKeys, all, len(distinct))
	}
	if !strings.Contains(stderr, fmt.Sprintf("usdtkit: %d dropped keys", snap.DroppedKeys)) {
		t.Errorf("the summary does not say the dropped keys:\n%s", stderr)
	}
}

// bpftrace, attached to the same run with its map large enough, counts
// the same hits per value.
func TestAggregateLikeBpftrace(t *testing.T) {
	bpftest.Require(t)
	bpftrace, err := exec.LookPath("bpftrace")
	if err != nil {
		elftest.Unavailable(t, "bpftrace is not installed (Debian: apt-get install bpftrace)")
	}
	bin, doc := demo(t)
	// A copy of its own: no other test's uprobes on this file.
	own := filepath.Join(t.TempDir(), "minid")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(own, data, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The demo starts once both tracers are attached.
	start := filepath.Join(t.TempDir(), "start")
	node := exec.CommandContext(ctx, own, "--iterations", "30", "--interval-ms", "0", "--start-file", start)
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	defer node.Process.Kill()
	pid := strconv.Itoa(node.Process.Pid)
	// bpftrace runs BEGIN once its probes are attached.
	bt := exec.CommandContext(ctx, bpftrace, "-p", pid, "-e", `BEGIN { printf("attached\n"); } usdt:`+own+`:utxocache:add { @[arg3] = count(); }`)
	bt.Env = append(os.Environ(), "BPFTRACE_MAP_KEYS_MAX=100000")
	var btOut, btErr bpftest.Buffer
	bt.Stdout, bt.Stderr = &btOut, &btErr
	if err := bt.Start(); err != nil {
		t.Fatal(err)
	}
	defer bt.Process.Kill()
	us := usdtkitCmd("attach", own, "utxocache:add", "--docs", doc, "--by", "arg3", "--json", "-p", pid)
	var usOut, usErr bpftest.Buffer
	us.Stdout, us.Stderr = &usOut, &usErr
	if err := us.Start(); err != nil {
		t.Fatal(err)
	}
	defer us.Process.Kill()
	for !strings.Contains(btOut.String(), "attached") || !strings.Contains(usErr.String(), "usdtkit: attached") {
		if ctx.Err() != nil {
			t.Fatalf("the tracers did not attach:\nbpftrace: %s\nusdtkit: %s", btErr.String(), usErr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(start, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := node.Wait(); err != nil {
		t.Fatalf("the demo: %v", err)
	}
	if err := us.Wait(); err != nil { // attach -p ends with the process
		t.Fatalf("attach: %v: %s", err, usErr.String())
	}
	bt.Process.Signal(os.Interrupt)
	bt.Wait()
	stdout := usOut.String()
	var snap jsonl.Snapshot
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	if err := dec.Decode(&snap); err != nil {
		t.Fatalf("bad snapshot %q: %v", stdout, err)
	}
	ours := map[string]uint64{}
	for _, r := range snap.Rows {
		ours[fmt.Sprint(r.Key["arg3"])] = r.Count
	}
	theirs := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(btOut.String()))
	for sc.Scan() { // @[312502820]: 1
		l := sc.Text()
		k, v, ok := strings.Cut(strings.TrimPrefix(l, "@["), "]: ")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		theirs[k] = n
	}
	if len(ours) == 0 || fmt.Sprint(ours) != fmt.Sprint(theirs) {
		t.Errorf("usdtkit counted %v, bpftrace %v\nbpftrace printed:\n%s", ours, theirs, btOut.String())
	}
}

// The live view in a real terminal: tmux runs attach --interval, and the
// screen shows one snapshot at a time, redrawn in place, then the final
// one.
func TestAggregateLiveView(t *testing.T) {
	bpftest.Require(t)
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		elftest.Unavailable(t, "tmux is not installed (Debian: apt-get install tmux)")
	}
	bin, doc := demo(t)
	self, _ := os.Executable()
	dir := t.TempDir()
	usdtkit := filepath.Join(dir, "usdtkit")
	if err := os.Symlink(self, usdtkit); err != nil { // testscript.Main runs it as usdtkit
		t.Fatal(err)
	}
	session := fmt.Sprintf("usdtkit-live-%d", os.Getpid())
	script := fmt.Sprintf("%s attach %s 'net:*_message' --docs %s --by peer_id,message_type --sum message_size --interval 200ms -- %s --iterations 40 --interval-ms 50; echo done; sleep 60",
		usdtkit, bin, doc, bin)
	if out, err := exec.Command(tmux, "new-session", "-d", "-s", session, "-x", "150", "-y", "50", script).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	defer exec.Command(tmux, "kill-session", "-t", session).Run()
	capture := func() string {
		out, err := exec.Command(tmux, "capture-pane", "-p", "-t", session).Output()
		if err != nil {
			t.Fatalf("tmux capture-pane: %v", err)
		}
		return string(out)
	}
	deadline := time.Now().Add(30 * time.Second)
	var live string
	for time.Now().Before(deadline) {
		if s := capture(); strings.Contains(s, "every interval (Ctrl-C to end)") && strings.Contains(s, "usdtkit:") && strings.Contains(s, "dropped keys") {
			live = s
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if live == "" {
		t.Fatalf("no live snapshot on the screen:\n%s", capture())
	}
	// Redrawn in place: one snapshot on the screen, its header at the top.
	if n := strings.Count(live, "every interval (Ctrl-C to end)"); n != 1 || !strings.HasPrefix(strings.TrimSpace(live), "usdtkit: ") {
		t.Errorf("the screen holds %d snapshots, want 1 at the top:\n%s", n, live)
	}
	for _, want := range []string{"PEER ID", "MESSAGE TYPE", "COUNT", "SUM", "net:inbound_message"} {
		if !strings.Contains(live, want) {
			t.Errorf("the live view lacks %q:\n%s", want, live)
		}
	}
	var final string
	for time.Now().Before(deadline) {
		if s := capture(); strings.Contains(s, "done") {
			final = s
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(final, ", final") || strings.Contains(final, "every interval") {
		t.Errorf("the final snapshot is not what the screen shows at the end:\n%s", final)
	}
}
