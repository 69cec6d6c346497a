package bpf

import (
	"errors"
	"syscall"
	"testing"
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
