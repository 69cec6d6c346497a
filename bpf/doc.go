// Package bpf traces USDT tracepoints live: it compiles each call site's
// argument specs to BPF with cilium/ebpf's asm package (no clang, LLVM or
// kernel headers), attaches them as uprobes with their semaphores, and
// delivers typed, decoded events from a BPF ring buffer.
//
// [Attach] takes the tracepoints of one ELF file (an executable or a
// shared library) as package elf reads them. Every call site gets its own
// generated code, chosen by its id, which is the uprobe's BPF cookie; up
// to 64 call sites share one program and one uprobe_multi link, so
// attaching stays fast and every program stays far below the verifier's
// limits however many call sites a file has. Registers are read from the
// uprobe's pt_regs at offsets chosen by the target's e_machine (x86-64,
// i386 processes on x86-64, aarch64); memory operands are read from user
// memory; symbols (sym(%rip), absolute addresses) are
// relocated by the load bias, the instruction pointer at the probe minus
// the call site's link-time address. Arguments can be read as integers,
// NUL-terminated strings or byte buffers ([ArgRead]).
//
// Semaphore-guarded tracepoints are enabled by the kernel through the
// uprobe's ref_ctr_offset: it raises the semaphore in every process that
// maps the file while the session is attached, once per call site, and
// lowers it again on [Session.Detach] or [Session.Close].
//
// Where the kernel allows it the programs are sleepable and read user
// memory with bpf_copy_from_user, which faults pages in: a string literal
// in a page of .rodata the process has not touched yet reads correctly
// instead of failing with EFAULT ([Session.FaultsIn], [Options.NoPageFaults]).
//
// [StartStopped] starts a command stopped at its first instruction, so
// that a session attached with its PID sees every hit from the start.
//
// # Kernel requirements
//
// Linux 6.6 or later attaches with uprobe_multi links ([ModeUprobeMulti]).
// Below that, Linux 5.15 to 6.5 attach one perf-event uprobe per call
// site that shares the same programs through BPF cookies ([ModeUprobe]),
// and Linux 5.8 to 5.14 load one program per call site
// ([ModeProgramPerSite]). Both are as fast to attach but slow to detach:
// the kernel waits for an RCU grace period per perf-event uprobe, about
// 0.1 s each. Below 5.8 there are no BPF ring buffers and Attach fails
// with [ErrUnsupported]. Programs fault pages in from Linux 6.0 (sleepable
// uprobes) or 6.6 (sleepable uprobe_multi); below, they are loaded so that
// they do not. Semaphores need Linux 4.20, always met here.
//
// # Errors
//
// Attach wraps [ErrPermission] ("needs root or CAP_BPF+CAP_PERFMON") when
// the process may not load BPF programs or create uprobes, and
// [ErrUnsupported] when the kernel lacks a feature or the file is for
// another machine, where there is no bpf system call at all, as under
// qemu-user ([StartStopped] too, for ptrace), and for a PID filter set
// from a PID namespace other than the initial one (a container without
// the host's), whose process ids the programs cannot see. An argument that cannot be read never fails the
// session and never reads as zero: its [Value] carries an [*ArgError]
// whose Err is a [syscall.Errno] for a failed read of user memory (EFAULT
// for an unmapped address, or for a page not yet faulted in when the
// programs cannot fault) or wraps [ErrUnreadable] for operands a uprobe cannot see
// (thread-local storage, vector registers, specs package elf could not
// decode).
package bpf
