package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// benchExport times export: the highest event rate published to a local
// nats-server with nothing lost, beside the rate attach --json holds to a
// file, and the cost of a scrape of 10,000 aggregated series.
func benchExport(work string) {
	fmt.Println("\n== export: NATS and Prometheus")
	if os.Geteuid() != 0 {
		fmt.Println("  (needs root: skipped)")
		return
	}
	bin, err := buildHot(work)
	if err != nil {
		fmt.Printf("  (no benchmark program: %v)\n", err)
		return
	}
	if _, err := exec.LookPath("nats-server"); err != nil {
		fmt.Println("  (nats-server not installed: make deps)")
	} else {
		benchNATS(work, bin)
	}
	benchScrape(bin)
}

func benchNATS(work, bin string) {
	port := freeTCPPort()
	srv := exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := srv.Start(); err != nil {
		fmt.Printf("  (nats-server: %v)\n", err)
		return
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	var nc *nats.Conn
	for i := 0; i < 100; i++ {
		var err error
		if nc, err = nats.Connect(url); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if nc == nil {
		fmt.Println("  (could not connect to nats-server)")
		return
	}
	defer nc.Close()
	var received atomic.Int64
	sub, err := nc.Subscribe("usdtkit.bench.>", func(*nats.Msg) { received.Add(1) })
	if err != nil {
		fmt.Printf("  (subscribe: %v)\n", err)
		return
	}
	sub.SetPendingLimits(-1, -1)
	nc.Flush()
	fmt.Println("\n(a) events per second with nothing lost: published to nats-server, and attach --json to a file")
	file := filepath.Join(work, "events.json")
	best := map[string]int{}
	natsOK, fileOK := true, true
	for _, rate := range []int{50000, 100000, 200000, 400000, 800000, 1600000} {
		interval := int(time.Second) / rate
		hot := []string{bin, "hot", strconv.Itoa(rate), strconv.Itoa(interval), "1"}
		received.Store(0)
		natsArgv := append([]string{*usdtkit, "attach", bin, "bench:hot", "--nats", url, "--nats-subject", "usdtkit.bench", "--"}, hot...)
		lost, published, dropped, err := exportRun(natsArgv, nil)
		if err != nil {
			fmt.Printf("  %8d/s: nats (%v)\n", rate, err)
			break
		}
		deadline := time.Now().Add(10 * time.Second)
		for received.Load() < int64(rate) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		got := received.Load()
		fileArgv := append([]string{*usdtkit, "attach", bin, "bench:hot", "--json", "--"}, hot...)
		out, err := os.Create(file)
		if err != nil {
			fmt.Printf("  (%v)\n", err)
			return
		}
		fileLost, _, _, ferr := exportRun(fileArgv, out)
		out.Close()
		lines := countLines(file)
		fmt.Printf("  %8d/s: nats %d received, %d lost in the kernel, %d dropped of %d published;  --json to a file: %d written, %d lost",
			rate, got, lost, dropped, published, lines, fileLost)
		if ferr != nil {
			fmt.Printf(" (%v)", ferr)
		}
		fmt.Println()
		if natsOK = natsOK && lost == 0 && dropped == 0 && got == int64(rate); natsOK {
			best["nats"] = rate
		}
		if fileOK = fileOK && fileLost == 0 && lines == rate; fileOK {
			best["file"] = rate
		}
		if !natsOK && !fileOK {
			break
		}
	}
	fmt.Printf("  highest rate with nothing lost: %d events/s to nats-server, %d events/s to a file\n", best["nats"], best["file"])
}

// exportRun runs attach over one paced run and reads its summary: events
// lost in the kernel, NATS messages published and dropped.
func exportRun(argv []string, stdout io.Writer) (lost, published, dropped int, err error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, fmt.Errorf("%v: %s", err, firstLine(stderr.Bytes()))
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if _, rest, ok := strings.Cut(l, "usdtkit: "); ok {
			if strings.Contains(rest, "events lost") {
				fmt.Sscanf(rest, "%d events lost", &lost)
			}
			if r, ok := strings.CutPrefix(rest, "nats: "); ok {
				fmt.Sscanf(r, "%d messages published, %d dropped", &published, &dropped)
			}
		}
	}
	return lost, published, dropped, nil
}

func countLines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return bytes.Count(data, []byte("\n"))
}

// benchScrape times a scrape of 10,000 aggregated series: attach --by
// arg0 over 10,000 hits of distinct values, then GET /metrics.
func benchScrape(bin string) {
	const keys = 10000
	fmt.Printf("\n(b) a scrape of %d aggregated series (attach --by arg0 --metrics)\n", keys)
	port := freeTCPPort()
	attach := exec.Command(*usdtkit, "attach", bin, "bench:hot", "--by", "arg0", "--metrics", strconv.Itoa(port))
	var stderr bytes.Buffer
	attach.Stderr = &stderr
	if err := attach.Start(); err != nil {
		fmt.Printf("  (%v)\n", err)
		return
	}
	defer stopTool(attach)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	for i := 0; i < 200 && !strings.Contains(stderr.String(), "metrics at"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := exec.Command(bin, "hot", strconv.Itoa(keys), "0", "1").CombinedOutput(); err != nil {
		fmt.Printf("  (the program: %v: %s)\n", err, firstLine(out))
		return
	}
	var times []time.Duration
	series := 0
	for r := 0; r < max(*runs, 5); r++ {
		start := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			fmt.Printf("  (scrape: %v)\n", err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		times = append(times, time.Since(start))
		series = bytes.Count(body, []byte("\nusdtkit_aggregate_hits_total{"))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Printf("  %d series: median %s, best %s per scrape\n", series, ms(median(times)), ms(times[0]))
}

func freeTCPPort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
