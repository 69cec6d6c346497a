package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/bpf/trace/jsonl"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// freePort is a TCP port on 127.0.0.1 nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// natsServer runs Debian's nats-server on a free port, with JetStream
// storing into dir; restart runs it again on the same port and storage.
type natsServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		elftest.Unavailable(t, "nats-server is not installed (Debian: apt-get install nats-server; make deps)")
	}
	s := &natsServer{t: t, port: freePort(t), dir: t.TempDir()}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *natsServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatal("nats-server did not start")
}

func (s *natsServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// demoEvents are the events of the demo's --print lines, by tracepoint:
// the values of each hit.
func demoPrinted(stderr string) map[string][]string {
	out := map[string][]string{}
	for _, l := range strings.Split(stderr, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && strings.Count(f[0], ":") == 1 && strings.HasPrefix(f[1], "arg0=") {
			out[f[0]] = append(out[f[0]], l)
		}
	}
	return out
}

// eventLine renders a JSON event as the demo prints it.
func eventLine(t *testing.T, data []byte) (string, string) {
	t.Helper()
	var ev jsonl.Event
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("bad event %q: %v", data, err)
	}
	line := ev.Tracepoint
	for i, a := range ev.Args {
		v := fmt.Sprint(a.Value)
		switch {
		case a.Type == "string":
			v = strconv.Quote(v)
		case a.Type == "bytes" && len(v) == 64:
			v = reverseHex(v) // shown reversed, printed in memory order
		}
		line += " arg" + strconv.Itoa(i) + "=" + v
	}
	return ev.Tracepoint, line
}

// Every event of a demo run arrives on its subject once, with the values
// the demo passed.
func TestNATSEvents(t *testing.T) {
	bpftest.Require(t)
	srv := startNATS(t)
	bin, doc := demo(t)
	nc, err := nats.Connect(srv.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	got := map[string][]string{}
	subjects := map[string]string{}
	sub, err := nc.Subscribe("usdtkit.test.>", func(m *nats.Msg) {
		tp, line := eventLine(t, m.Data)
		mu.Lock()
		got[tp] = append(got[tp], line)
		subjects[tp] = m.Subject
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	nc.Flush()
	_, stderr, code := runCmdCtx(context.Background(), "attach", bin, "--docs", doc, "--nats", srv.url(), "--nats-subject", "usdtkit.test",
		"--", bin, "--iterations", "5", "--interval-ms", "0", "--print")
	if code != 0 {
		t.Fatalf("attach --nats: exit %d: %s", code, stderr)
	}
	want := demoPrinted(stderr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n, m := 0, 0
		for tp := range want {
			n += len(want[tp])
			m += len(got[tp])
		}
		done := m >= n
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(want) != 10 {
		t.Fatalf("the demo printed %d tracepoints, want 10", len(want))
	}
	for tp, lines := range want {
		if strings.Join(got[tp], "\n") != strings.Join(lines, "\n") {
			t.Errorf("%s: NATS delivered\n  %s\nthe demo passed\n  %s", tp, strings.Join(got[tp], "\n  "), strings.Join(lines, "\n  "))
		}
		ctx, event, _ := strings.Cut(tp, ":")
		if subjects[tp] != "usdtkit.test."+ctx+"."+event {
			t.Errorf("%s came on subject %s", tp, subjects[tp])
		}
	}
	if !strings.Contains(stderr, " messages published, 0 dropped") {
		t.Errorf("the summary does not count the messages:\n%s", stderr)
	}
}

// A nats-server restart in the middle of a run: attach goes on, and with
// a JetStream stream every event is stored, or counted as dropped.
func TestNATSRestart(t *testing.T) {
	bpftest.Require(t)
	srv := startNATS(t)
	bin, doc := demo(t)
	nc, err := nats.Connect(srv.url())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "USDTKIT", Subjects: []string{"usdtkit.restart.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	us := usdtkitCmd("attach", bin, "validation:block_connected", "--docs", doc, "--nats", srv.url(), "--nats-subject", "usdtkit.restart", "--nats-stream", "USDTKIT",
		"--", bin, "--iterations", "60", "--interval-ms", "50")
	var stderr bpftest.Buffer
	us.Stderr = &stderr
	if err := us.Start(); err != nil {
		t.Fatal(err)
	}
	defer us.Process.Kill()
	time.Sleep(1 * time.Second) // some blocks published
	srv.stop()
	time.Sleep(500 * time.Millisecond) // some published while it is away
	srv.start()
	if err := us.Wait(); err != nil {
		t.Fatalf("attach through a nats-server restart: %v\n%s", err, stderr.String())
	}
	var published, dropped int
	for _, l := range strings.Split(stderr.String(), "\n") {
		if _, rest, ok := strings.Cut(l, "usdtkit: nats: "); ok {
			fmt.Sscanf(rest, "%d messages published, %d dropped", &published, &dropped)
		}
	}
	nc, err = nats.Connect(srv.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	stream, err := js.Stream(ctx, "USDTKIT")
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := int(info.State.Msgs)
	// Every block after the restart is stored: the heights up to the last.
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	heights := map[int64]bool{}
	for i := 0; i < stored; i++ {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var ev jsonl.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		h, _ := ev.Args[1].Value.(float64)
		heights[int64(h)] = true
	}
	if !heights[100+59] || stored+dropped != 60 || !strings.Contains(stderr.String(), "nats: reconnected") {
		t.Errorf("of 60 blocks: %d stored, %d dropped, last height stored %v; the log:\n%s", stored, dropped, heights[159], stderr.String())
	}
	_ = published
}

// A real Prometheus scrapes the three exporters docs/monitoring.md runs
// on a node: the hit counters are there, with the aggregations' rows as
// labelled series; promtool accepts the pages; every histogram row has
// the same buckets; and every query of the example dashboard has data.
func TestMetricsPrometheus(t *testing.T) {
	bpftest.Require(t)
	for _, tool := range []string{"prometheus", "promtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			elftest.Unavailable(t, tool+" is not installed (Debian: apt-get install prometheus; make deps)")
		}
	}
	bin, doc := demo(t)
	node := exec.Command(bin, "--interval-ms", "20")
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { node.Process.Kill(); node.Wait() }()
	pid := strconv.Itoa(node.Process.Pid)
	exporters := [][]string{
		{"net:*_message", "--by", "message_type", "--sum", "message_size"},
		{"validation:block_connected", "--hist", "time_it_took"},
		{"mempool:*"},
	}
	dir := t.TempDir()
	promPort := freePort(t)
	var ports, targets []string
	for _, args := range exporters {
		port := strconv.Itoa(freePort(t))
		ports = append(ports, port)
		targets = append(targets, "'127.0.0.1:"+port+"'")
		us := usdtkitCmd(append(append([]string{"attach", bin}, args...), "--docs", doc, "-p", pid, "--metrics", port)...)
		var stderr bpftest.Buffer
		us.Stderr = &stderr
		if err := us.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			us.Process.Kill()
			if us.Wait(); t.Failed() {
				t.Logf("usdtkit attach %s said:\n%s", strings.Join(args, " "), stderr.String())
			}
		}()
	}
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: usdtkit\n    static_configs:\n      - targets: [%s]\n        labels: {node: demo}\n", strings.Join(targets, ", "))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := exec.Command("prometheus", "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort))
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { prom.Process.Kill(); prom.Wait() }()

	// The dashboard's queries, with what Grafana puts for its variables.
	var dashboard struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	data, err := os.ReadFile("../../docs/monitoring/grafana-bitcoind.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dashboard); err != nil {
		t.Fatalf("docs/monitoring/grafana-bitcoind.json: %v", err)
	}
	pending := map[string]string{}
	for _, p := range dashboard.Panels {
		for _, tg := range p.Targets {
			pending[strings.NewReplacer("$node", ".*", "$__rate_interval", "10s").Replace(tg.Expr)] = p.Title
		}
	}
	if len(pending) < 8 {
		t.Fatalf("the dashboard has %d queries", len(pending))
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(pending) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		for q := range pending {
			r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", promPort, url.QueryEscape(q)))
			if err != nil {
				continue
			}
			var res struct {
				Status string
				Error  string
				Data   struct{ Result []json.RawMessage }
			}
			json.NewDecoder(r.Body).Decode(&res)
			r.Body.Close()
			if res.Status == "error" {
				t.Fatalf("Prometheus refuses the query %s: %s", q, res.Error)
			}
			if len(res.Data.Result) > 0 {
				delete(pending, q)
			}
		}
	}
	for q, title := range pending {
		t.Errorf("panel %q: no data for %s", title, q)
	}

	pages := ""
	for _, port := range ports {
		r, err := http.Get("http://127.0.0.1:" + port + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		check := exec.Command("promtool", "check", "metrics")
		check.Stdin = bytes.NewReader(b)
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, b)
		}
		pages += string(b)
	}
	for _, want := range []string{`usdtkit_aggregate_hits_total{message_type="ping",tracepoint="net:inbound_message"}`,
		`usdtkit_aggregate_sum_total{message_type="inv",tracepoint="net:inbound_message",value="message_size"}`,
		`usdtkit_aggregate_value_bucket{tracepoint="validation:block_connected",value="time_it_took",le="2.097151e+06"}`,
		`usdtkit_tracepoint_hits_total{tracepoint="mempool:replaced"}`, "usdtkit_events_lost_total 0", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(pages, want) {
			t.Errorf("the pages lack %s:\n%s", want, pages)
		}
	}
}

// A Prometheus histogram per row, every row at the same bounds: the rows
// sum by le.
func TestMetricsBucketsShared(t *testing.T) {
	bpftest.Require(t)
	bin, doc := demo(t)
	port := strconv.Itoa(freePort(t))
	us := usdtkitCmd("attach", bin, "net:*_message", "--docs", doc, "--by", "message_type", "--hist", "message_size", "--metrics", port,
		"--", bin, "--iterations", "100", "--interval-ms", "20")
	var stderr bpftest.Buffer
	us.Stderr = &stderr
	if err := us.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { us.Process.Kill(); us.Wait() }()
	les := map[string]map[string]bool{}
	for deadline := time.Now().Add(30 * time.Second); len(les) < 4 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r, err := http.Get("http://127.0.0.1:" + port + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		les = map[string]map[string]bool{}
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "usdtkit_aggregate_value_bucket{") {
				continue
			}
			at := strings.Index(line, ",le=")
			row, le := line[:at], line[at:strings.LastIndex(line, " ")]
			if les[row] == nil {
				les[row] = map[string]bool{}
			}
			les[row][le] = true
		}
	}
	if len(les) < 4 {
		t.Fatalf("%d histogram rows on the page; usdtkit said:\n%s", len(les), stderr.String())
	}
	var first map[string]bool
	for row, set := range les {
		if first == nil {
			first = set
		}
		if len(set) != len(first) || len(set) < 3 {
			t.Errorf("the row %s has the buckets %v, another %v", row, set, first)
		}
	}
}

// --user: once attached, attach goes on as nobody without capabilities,
// and still serves metrics read from the kernel; the command runs as
// nobody too.
func TestDropPrivileges(t *testing.T) {
	bpftest.Require(t)
	built, doc := demo(t)
	// A copy nobody may run, in a directory nobody may enter.
	dir, err := os.MkdirTemp("", "usdtkit-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "minid")
	data, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	us := usdtkitCmd("attach", bin, "validation:block_connected", "--docs", doc, "--by", "block_height", "--metrics", strconv.Itoa(port), "--user", "nobody",
		"--", bin, "--iterations", "60", "--interval-ms", "50")
	var stderr bpftest.Buffer
	us.Stderr = &stderr
	if err := us.Start(); err != nil {
		t.Fatal(err)
	}
	defer us.Process.Kill()
	scrape := func() string {
		r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		if err != nil {
			return ""
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "going on as nobody") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", us.Process.Pid))
	if !strings.Contains(string(status), "\nCapEff:\t0000000000000000\n") || !strings.Contains(string(status), "\nUid:\t65534\t65534\t65534\t65534\n") {
		t.Fatalf("attach after --user nobody:\n%s\nit said:\n%s", status, stderr.String())
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", us.Process.Pid))
	var kids []string
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(kids) != 1 {
		t.Fatalf("attach has %d children, want the demo", len(kids))
	}
	if st, _ := os.ReadFile("/proc/" + kids[0] + "/status"); !strings.Contains(string(st), "\nUid:\t65534\t65534\t65534\t65534\n") {
		t.Errorf("the command after --user nobody:\n%s", st)
	}
	count := func(page string) int { return strings.Count(page, "usdtkit_aggregate_hits_total{block_height=") }
	first := count(scrape())
	time.Sleep(500 * time.Millisecond)
	second := count(scrape())
	if first == 0 || second <= first {
		t.Errorf("rows served as nobody: %d, then %d; want more and more\n%s", first, second, stderr.String())
	}
	if err := us.Wait(); err != nil {
		t.Fatalf("attach --user: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "usdtkit: 0 dropped keys, 0 read failures") {
		t.Errorf("the summary as nobody:\n%s", stderr.String())
	}
}

// The export and aggregation flags that cannot go together, or that
// would replace one another, are refused before anything is opened or
// attached: exit 2, one line.
func TestExportUsage(t *testing.T) {
	bin := elftest.Path(t, "semaphores")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nats-subject", "a.b"}, "need --nats URL"},
		{[]string{"--nats", "nats://127.0.0.1:1", "--nats-subject", "a.*"}, "subject"},
		{[]string{"--metrics", "9435", "--by", "arg0", "--interval", "1s", "--reset"}, "leave out --reset"},
		{[]string{"--metrics", "9435", "--by", "value", "--sum", "arg1"}, "name the key argN"},
		{[]string{"--user", "no-such-user-here"}, "no-such-user-here"},
		{[]string{"--by", "arg0", "--sum", "arg1", "--sum", "arg2"}, "given twice"},
		{[]string{"--where", "arg0 == 1", "--where", "arg1 == 2"}, "given twice"},
	} {
		_, stderr, code := runCmd(t, append([]string{"attach", bin}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("attach %s: exit %d, want 2 and one line with %q:\n%s", strings.Join(tc.args, " "), code, tc.want, stderr)
		}
	}
}
