package bpf

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// warmUprobes starts, in the background, the wait that the kernel makes
// the first uprobe registered for a while pay: registering takes a
// per-CPU semaphore for writing (dup_mmap_sem, which keeps fork from
// copying a process while its breakpoints change), and its first writer
// waits for an RCU grace period, about 10 ms here. A throwaway uprobe on
// a memory file that no process maps pays it while the programs are
// verified, so the real uprobes, registered right after, find the
// semaphore ready. Nothing is traced: the file is never mapped. The
// uprobe's link comes on the channel, nil when it could not be made
// (then there is only no head start); closeWarm removes it, which waits
// for a grace period of another kind (RCU Tasks Trace) in the background.
func warmUprobes(mode Mode) <-chan link.Link {
	ch := make(chan link.Link, 1)
	go func() {
		ch <- warmUprobe(mode)
	}()
	return ch
}

// warmUprobe makes the throwaway uprobe as the session makes its own.
func warmUprobe(mode Mode) link.Link {
	fd, err := unix.MemfdCreate("usdtkit-warm", unix.MFD_CLOEXEC)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, tinyELF()); err != nil {
		return nil
	}
	ex, err := link.OpenExecutable(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return nil
	}
	spec := &ebpf.ProgramSpec{
		Type: ebpf.Kprobe, License: "Dual MIT/GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	}
	if mode == ModeUprobeMulti {
		spec.AttachType = ebpf.AttachTraceUprobeMulti
	}
	prog, err := ebpf.NewProgram(spec)
	if err != nil {
		return nil
	}
	defer prog.Close() // the link holds it
	var l link.Link
	if mode == ModeUprobeMulti {
		l, err = ex.UprobeMulti(nil, prog, &link.UprobeMultiOptions{Addresses: []uint64{64}})
	} else {
		l, err = ex.Uprobe("", prog, &link.UprobeOptions{Address: 64})
	}
	if err != nil {
		return nil
	}
	return l
}

// tinyELF is an ELF header and nothing else, which is all
// link.OpenExecutable needs of a file to put a uprobe at an offset.
func tinyELF() []byte {
	b := make([]byte, 128)
	copy(b, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(b[16:], 2) // ET_EXEC
	binary.LittleEndian.PutUint16(b[18:], 62)
	binary.LittleEndian.PutUint32(b[20:], 1)
	binary.LittleEndian.PutUint16(b[52:], 64)
	binary.LittleEndian.PutUint16(b[54:], 56)
	binary.LittleEndian.PutUint16(b[58:], 64)
	return b
}

// closeWarm closes warmUprobes' link once it is made.
func closeWarm(warm <-chan link.Link) {
	if l := <-warm; l != nil {
		l.Close()
	}
}
