package elf_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

func buildNotes(t *testing.T, notes ...elftest.Note) *elf.File {
	t.Helper()
	data, _ := elftest.Build(elftest.Spec{Notes: notes})
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDiff(t *testing.T) {
	const pc = elftest.TextAddr
	sem := uint64(elftest.DataAddr)
	note := func(provider, name, args string, site uint64) elftest.Note {
		return elftest.Note{Provider: provider, Name: name, Args: args, PC: pc + site}
	}
	guarded := func(n elftest.Note) elftest.Note { n.Semaphore = sem; return n }
	base := []elftest.Note{
		note("net", "inbound_message", "-8@%rbx 8@%rsi", 0),
		note("validation", "block_connected", "-4@%esi 8@%rdi", 0x10),
		note("mempool", "added", "8@%rax", 0x20),
	}
	tests := []struct {
		name     string
		old, new []elftest.Note
		want     []string
	}{
		{"same", base, base, nil},
		{"nil old", nil, base[:1], []string{"+ net:inbound_message (2 args)"}},
		{"added and removed", base, append(base[:2:2], note("net", "outbound_message", "-8@%rbx 8@%rsi", 0x30), note("net", "outbound_message", "-8@%rax 8@%rsi", 0x40)),
			[]string{"- mempool:added (1 arg)", "+ net:outbound_message (2 args, 2 call sites)"}},
		{"arg changed", base, []elftest.Note{base[0], note("validation", "block_connected", "-8@%rsi 8@%rdi", 0x10), base[2]},
			[]string{"~ validation:block_connected arg0 -4@%esi -> -8@%rsi"}},
		{"arg count changed", base, []elftest.Note{base[0], base[1], note("mempool", "added", "8@%rax -4@%edx", 0x20)},
			[]string{`~ mempool:added args "8@%rax" -> "8@%rax -4@%edx"`}},
		{"call site added", base, append(base[:3:3], note("mempool", "added", "8@%rcx", 0x50)),
			[]string{"~ mempool:added call sites 1 -> 2"}},
		{"second site changed", append(base[:3:3], note("mempool", "added", "8@%rcx", 0x50)), append(base[:3:3], note("mempool", "added", "8@%rdx", 0x50)),
			[]string{"~ mempool:added#1 arg0 8@%rcx -> 8@%rdx"}},
		{"semaphore added", base, []elftest.Note{guarded(base[0]), base[1], base[2]}, []string{"+ net:inbound_message semaphore"}},
		{"semaphore removed", []elftest.Note{guarded(base[0]), base[1], base[2]}, base, []string{"- net:inbound_message semaphore"}},
		{"everything", base, []elftest.Note{guarded(note("net", "inbound_message", "-8@%rbx 4@%esi", 0)), note("net", "inbound_message", "-8@%rbx 8@%rsi", 0x60), base[1], note("zmq", "sent", "", 0x70)},
			[]string{"- mempool:added (1 arg)", "+ net:inbound_message semaphore", "~ net:inbound_message call sites 1 -> 2", "~ net:inbound_message#0 arg1 8@%rsi -> 4@%esi", "+ zmq:sent (0 args)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var old *elf.File
			if tt.old != nil {
				old = buildNotes(t, tt.old...)
			}
			var got []string
			for _, c := range elf.Diff(old, buildNotes(t, tt.new...)) {
				got = append(got, c.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
