package bpf

import (
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
			compare(t, f, "test", r)
			if len(r.events) == 0 {
				t.Fatal("no events")
			}
			t.Logf("mode %v, %d events", r.mode, len(r.events))
		})
	}
}
