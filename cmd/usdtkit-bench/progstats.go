package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/usdtkit/usdtkit/elf"
)

// programTime runs argv with the kernel's BPF run-time statistics on and
// returns how long, on average, the BPF programs it loaded ran per hit,
// and how many hits they ran for. It opens every program that appears
// while argv runs, so the totals are read after the tool has gone.
func programTime(argv []string) (perHit time.Duration, hits uint64, err error) {
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		return 0, 0, fmt.Errorf("enable BPF statistics: %w", err)
	}
	defer stats.Close()
	before := lastProgramID()
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	progs := map[ebpf.ProgramID]*ebpf.Program{}
	defer func() {
		for _, p := range progs {
			p.Close()
		}
	}()
	collect := func() {
		for id := before; ; {
			next, err := ebpf.ProgramGetNextID(id)
			if err != nil {
				return
			}
			id = next
			if progs[id] == nil {
				if p, err := ebpf.NewProgramFromID(id); err == nil {
					progs[id] = p
				}
			}
		}
	}
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				return 0, 0, fmt.Errorf("%v: %s", err, firstLine([]byte(stderr.String())))
			}
			waiting = false
		case <-time.After(time.Millisecond):
			collect()
		}
	}
	var total time.Duration
	for _, p := range progs {
		if st, err := p.Stats(); err == nil {
			total += st.Runtime
			hits += st.RunCount
		}
	}
	if hits == 0 {
		return 0, 0, fmt.Errorf("no BPF program of %s ran", argv[0])
	}
	return total / time.Duration(hits), hits, nil
}

// lastProgramID is the highest id of a BPF program loaded now.
func lastProgramID() ebpf.ProgramID {
	var last ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(last)
		if err != nil {
			return last
		}
		last = next
	}
}

// kernelFloor is what the kernel alone takes to attach an empty program
// to every call site of bin in process pid, semaphores included, with one
// uprobe_multi link (as usdtkit does), and to detach it: the part of
// attaching no tool can cut. Medians of runs.
func kernelFloor(bin string, pid, runs int) (attach, detach time.Duration, err error) {
	f, err := elf.Open(bin)
	if err != nil {
		return 0, 0, err
	}
	opts := &link.UprobeMultiOptions{PID: uint32(pid)}
	for _, p := range f.Probes {
		for _, cs := range p.CallSites {
			ref := uint64(0)
			if p.Semaphore != nil {
				ref = p.Semaphore.FileOffset
			}
			opts.Addresses, opts.RefCtrOffsets = append(opts.Addresses, cs.FileOffset), append(opts.RefCtrOffsets, ref)
		}
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.Kprobe, AttachType: ebpf.AttachTraceUprobeMulti, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		return 0, 0, fmt.Errorf("load an empty program: %w", err)
	}
	defer prog.Close()
	ex, err := link.OpenExecutable(bin)
	if err != nil {
		return 0, 0, err
	}
	var as, ds []time.Duration
	for r := 0; r < runs; r++ {
		start := time.Now()
		l, err := ex.UprobeMulti(nil, prog, opts)
		if err != nil {
			return 0, 0, fmt.Errorf("uprobe_multi: %w", err)
		}
		mid := time.Now()
		l.Close()
		as, ds = append(as, mid.Sub(start)), append(ds, time.Since(mid))
	}
	return median(as), median(ds), nil
}
