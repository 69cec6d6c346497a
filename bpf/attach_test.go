package bpf

import (
	"context"
	"errors"
	"os/exec"
	"syscall"
	"testing"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
)

var operandReads = map[string][]ArgRead{
	"test:str":     {{Kind: ReadString}},
	"test:longstr": {{Kind: ReadString, MaxLen: 8}},
	"test:badstr":  {{Kind: ReadString}},
	"test:bufs":    {{Kind: ReadBytes, MaxLen: 32}, {Kind: ReadBytes, LenArg: 3, MaxLen: 16}},
}

func TestOperands(t *testing.T) {
	for _, name := range []string{"operands-O2-pie", "operands-O2-nopie", "operands-O0-pie", "operands-O0-nopie", "operands-i386"} {
		t.Run(name, func(t *testing.T) {
			bin := build(t, name)
			f := openELF(t, bin)
			r := trace(t, bin, []string{"5"}, Options{File: f, Reads: operandReads})
			compare(t, f, r)
			if len(r.events) == 0 {
				t.Fatal("no events")
			}
			t.Logf("mode %v, %d events", r.mode, len(r.events))
		})
	}
}

func TestHandwritten(t *testing.T) {
	for _, mode := range []Mode{ModeUprobeMulti, ModeUprobe, ModeProgramPerSite} {
		t.Run(mode.String(), func(t *testing.T) {
			bin := build(t, "handwritten")
			f := openELF(t, bin)
			r := trace(t, bin, []string{"20"}, Options{File: f, Mode: mode})
			compare(t, f, r)
			if r.mode != mode {
				t.Errorf("mode %v, want %v", r.mode, mode)
			}
			if len(r.events) != 80 {
				t.Errorf("%d events, want 80", len(r.events))
			}
			if !r.faults {
				t.Errorf("%v: programs do not fault pages in", mode)
			}
			t.Logf("%s", r.stderr)
		})
	}
}

func TestSharedLibrary(t *testing.T) {
	lib := build(t, "libtp.so")
	bin := build(t, "libmain")
	f := openELF(t, lib)
	if len(f.Probes) != 3 {
		t.Fatalf("%d tracepoints in %s, want 3", len(f.Probes), lib)
	}
	// Started stopped, the library is not mapped yet when the uprobes
	// and the semaphore are set: they take effect when it is.
	r := trace(t, bin, []string{"6"}, Options{File: f, Reads: map[string][]ArgRead{"lib:hello": {{Kind: ReadString}}}})
	compare(t, f, r)
	if len(r.events) != 18 {
		t.Errorf("%d events, want 18", len(r.events))
	}
}

// TestNoPageFaults reads string literals from pages of .rodata the
// process has not touched yet without faulting them in: such a read must
// fail with EFAULT, never read as an empty or wrong string.
func TestNoPageFaults(t *testing.T) {
	lib := build(t, "libtp.so")
	bin := build(t, "libmain")
	f := openELF(t, lib)
	r := trace(t, bin, []string{"6"}, Options{File: f, NoPageFaults: true, Reads: map[string][]ArgRead{"lib:hello": {{Kind: ReadString}}}})
	if r.faults {
		t.Error("programs fault pages in despite NoPageFaults")
	}
	efaults := 0
	for _, ev := range r.events {
		if ev.Probe != "lib:hello" {
			continue
		}
		v := ev.Args[0]
		switch {
		case errors.Is(v.Err, syscall.EFAULT):
			efaults++
		case v.Err != nil:
			t.Errorf("hello: %v", v.Err)
		case v.Str != "world" && v.Str != "library":
			t.Errorf("hello: %q", v.Str)
		}
	}
	if efaults == 0 {
		t.Log("no read hit an untouched page")
	}
	if r.stats.ReadFailures != uint64(efaults) {
		t.Errorf("stats count %d read failures, events have %d", r.stats.ReadFailures, efaults)
	}
}

// TestPIDFilter runs the same program twice while attached to one of
// them: only that process's hits arrive.
func TestPIDFilter(t *testing.T) {
	bpftest.Require(t)
	bin := build(t, "operands-O2-pie")
	f := openELF(t, bin)
	traced := exec.Command(bin, "3")
	st, err := StartStopped(traced)
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Process.Kill()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sess, err := Attach(ctx, Options{File: f, PID: st.PID()})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := exec.Command(bin, "3").Run(); err != nil {
		t.Fatal(err)
	}
	if err := st.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := traced.Wait(); err != nil {
		t.Fatal(err)
	}
	// Cancelling the context ends the session like Close.
	cancel()
	n := 0
	for ev := range sess.Events() {
		if ev.PID != st.PID() {
			t.Fatalf("event of process %d, attached to %d", ev.PID, st.PID())
		}
		n++
	}
	var hits uint64
	for _, tp := range sess.Stats().Tracepoints {
		hits += tp.Hits
	}
	if hits != 3*15 {
		t.Errorf("%d hits, want %d (%d events received before the context ended)", hits, 3*15, n)
	}
}
