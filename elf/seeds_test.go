package elf

import (
	goelf "debug/elf"
	"encoding/binary"

	"github.com/usdtkit/usdtkit/elf/elftest"
)

// fuzzFileSeeds are small ELF files of each class and byte order.
func fuzzFileSeeds() [][]byte {
	var out [][]byte
	for _, class := range []goelf.Class{goelf.ELFCLASS32, goelf.ELFCLASS64} {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			img, _ := elftest.Build(elftest.Spec{Class: class, ByteOrder: bo, StapsdtBase: elftest.TextAddr,
				Symbols: []elftest.Symbol{{Name: "g", Value: elftest.DataAddr}},
				Notes: []elftest.Note{{Provider: "p", Name: "n", PC: elftest.TextAddr + 8, Base: elftest.TextAddr, Semaphore: elftest.DataAddr,
					Args: "-4@%eax 8@g(%rip) 8@[x0, #:lo12:g]"}}})
			out = append(out, img)
		}
	}
	return out
}
