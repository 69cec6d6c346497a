package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// benchWatch times usdtkit watch from a new build's rename into place until
// its tracepoints are attached, beside the time bpftrace needs to attach
// to a new binary when it is restarted by hand.
func benchWatch(work string) {
	fmt.Println("\n== watch: from a rebuild's rename into place until its tracepoints are attached")
	if os.Geteuid() != 0 {
		fmt.Println("  (needs root: skipped)")
		return
	}
	dir := filepath.Join(work, "watch")
	os.MkdirAll(dir, 0o755)
	// Two builds that differ (another build-id), renamed in turn over one path.
	a, err := buildHot(dir)
	if err != nil {
		fmt.Printf("  (no benchmark program: %v)\n", err)
		return
	}
	b := filepath.Join(dir, "hot-O1")
	if out, err := exec.Command("gcc", "-O1", "-o", b, filepath.Join(dir, "hot.c")).CombinedOutput(); err != nil {
		fmt.Printf("  (gcc: %v: %s)\n", err, firstLine(out))
		return
	}
	bin := filepath.Join(dir, "target")
	if err := copyFile(a, bin); err != nil {
		fmt.Printf("  (%v)\n", err)
		return
	}
	w := exec.Command(*usdtkit, "watch", bin, "--attach", "bench:*")
	stderr, _ := w.StderrPipe()
	w.Stdout = io.Discard
	if err := w.Start(); err != nil {
		fmt.Printf("  (%v)\n", err)
		return
	}
	defer func() {
		w.Process.Signal(syscall.SIGINT)
		w.Wait()
	}()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitFor := func(build int) error {
		want := fmt.Sprintf("build %d: attached", build)
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return fmt.Errorf("watch ended")
				}
				if strings.Contains(l, want) {
					return nil
				}
			case <-timeout:
				return fmt.Errorf("no %q after 10 s", want)
			}
		}
	}
	if err := waitFor(1); err != nil {
		fmt.Printf("  (%v)\n", err)
		return
	}
	var times []time.Duration
	for i := 0; i < 2**slow; i++ {
		src := b
		if i%2 == 1 {
			src = a
		}
		// Rebuilds come seconds apart: let watch finish detaching the
		// build before last, so each rebuild is timed on its own.
		time.Sleep(500 * time.Millisecond)
		tmp := bin + ".new"
		if err := copyFile(src, tmp); err != nil {
			fmt.Printf("  (%v)\n", err)
			return
		}
		start := time.Now()
		if err := os.Rename(tmp, bin); err != nil {
			fmt.Printf("  (%v)\n", err)
			return
		}
		if err := waitFor(i + 2); err != nil {
			fmt.Printf("  (%v)\n", err)
			return
		}
		times = append(times, time.Since(start))
	}
	d := median(times)
	fmt.Printf("  %-40s %s (median of %d rebuilds)\n", "usdtkit watch, rename -> attached", ms(d), len(times))
	goalValue("usdtkit watch, rename -> attached", ms(d), d < 100*time.Millisecond, "< 100 ms")
	bt, _, err := timeToAttach(a, []string{"bpftrace", "-p", "PID", "-e", "usdt:" + a + ":bench:* { @[probe] = count(); }"}, *slow)
	if err != nil {
		fmt.Printf("  %-40s (%v)\n", "bpftrace restarted on the new binary", err)
		return
	}
	fmt.Printf("  %-40s %s, after a person notices the rebuild and restarts it\n", "bpftrace restarted on the new binary", ms(bt))
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}
