package gen

import (
	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/docs/contract"

	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/elf/elftest"
)

// TestGoOnDemo builds the Go program for every demo tracepoint inside the
// module, so that it imports usdtkit's own bpf and elf packages, runs it
// with -p on a minid that waits for it, and compares every hit with what
// minid printed: all of them arrive, in order, since the kernel enables
// the semaphores when the program attaches, before minid goes on.
func TestGoOnDemo(t *testing.T) {
	requireRoot(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		elftest.Unavailable(t, "no go command to build the program with")
	}
	minid := demoMinid(t)
	m := demoModel(t, minid)
	out, err := Generate(Go, m, Options{Path: minid})
	if err != nil {
		t.Fatal(err)
	}
	// A directory under testdata is inside the module, yet no ./...
	// pattern sees it.
	dir, err := os.MkdirTemp("testdata", "gotrace-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "trace.go"), []byte(out.Text), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := "./" + filepath.ToSlash(dir)
	if msg, err := exec.Command(goTool, "vet", pkg).CombinedOutput(); err != nil {
		t.Fatalf("go vet: %v\n%s", err, msg)
	}
	bin := filepath.Join(t.TempDir(), "trace")
	if msg, err := exec.Command(goTool, "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node := startMinid(t, ctx, minid, "--iterations", "3", "--interval-ms", "0")
	tracer := exec.CommandContext(ctx, bin, "-p", strconv.Itoa(node.cmd.Process.Pid)) // the binary: minid, the program's default
	var stdout, stderr bytes.Buffer
	tracer.Stdout, tracer.Stderr = &stdout, &stderr
	if err := tracer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if tracer.ProcessState == nil {
			tracer.Process.Kill()
			tracer.Wait()
		}
	})
	if err := node.cmd.Wait(); err != nil {
		tracer.Process.Kill()
		tracer.Wait()
		if s := stderr.String(); strings.Contains(s, "CAP_BPF") || strings.Contains(s, "not supported") {
			elftest.Unavailable(t, "the Go program could not attach: "+tail(s))
		}
		t.Fatalf("minid: %v (status 3: no tracer enabled a semaphore)\nthe program's stderr:\n%s", err, stderr.String())
	}
	// With -p the program ends when the process does.
	if err := tracer.Wait(); err != nil {
		t.Fatalf("the program: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Tracing 10 tracepoints in "+minid+". Ctrl-C to end.") {
		t.Errorf("the program's stderr:\n%s", stderr.String())
	}

	compareAllHits(t, m, node.hits(t), parseHits(t, stdout.String()), true, true, stderr.String())

	// Without -p: every process that runs minid, until Ctrl-C.
	var out2 bytes.Buffer
	var err2 bpftest.Buffer
	tracer = exec.CommandContext(ctx, bin, minid)
	tracer.Stdout, tracer.Stderr = &out2, &err2
	if err := tracer.Start(); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(err2.String(), "Ctrl-C to end") {
		if ctx.Err() != nil || tracer.ProcessState != nil {
			t.Fatalf("the program did not start:\n%s", err2.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	node = startMinid(t, ctx, minid, "--iterations", "1", "--interval-ms", "0")
	node.wait(t, &bytes.Buffer{})
	time.Sleep(300 * time.Millisecond) // for the ring buffer to be read
	tracer.Process.Signal(os.Interrupt)
	if err := tracer.Wait(); err != nil {
		t.Fatalf("the program after Ctrl-C: %v\n%s", err, err2.String())
	}
	compareAllHits(t, m, node.hits(t), parseHits(t, out2.String()), true, true, err2.String())
}

func reverseHex(s string) string {
	var b strings.Builder
	for i := len(s); i >= 2; i -= 2 {
		b.WriteString(s[i-2 : i])
	}
	return b.String()
}

// compareAllHits checks that a tracer printed every hit minid passed, with
// the same values, in order when ordered is set. A program shows hashes as
// usdtkit attach does, reversed (minid prints them in memory order); a
// test skeleton's values are the bytes in memory order (reversed unset).
func compareAllHits(t *testing.T, m *Model, want, got map[string][]hit, ordered, reversed bool, stderr string) {
	t.Helper()
	for _, tp := range m.Tracepoints {
		w, g := want[tp.ID()], got[tp.ID()]
		if len(w) == 0 {
			t.Fatalf("minid did not pass %s", tp.ID())
		}
		var expect, seen []string
		for _, h := range w {
			expect = append(expect, minidView(t, tp, h, len(tp.Args)))
		}
		for _, h := range g {
			for i := range h {
				if reversed && i < len(tp.Args) && tp.Args[i].Plan(contract.Limits{}).Reversed {
					h[i] = reverseHex(h[i])
				}
			}
			seen = append(seen, normalizeHit(t, tp, h, len(tp.Args)))
		}
		if ordered && strings.Join(expect, "\n") != strings.Join(seen, "\n") || !sameMultiset(expect, seen) {
			t.Errorf("%s: the program printed\n  %s\nminid passed\n  %s\nstderr:\n%s", tp.ID(), strings.Join(seen, "\n  "), strings.Join(expect, "\n  "), tail(stderr))
		}
	}
}
