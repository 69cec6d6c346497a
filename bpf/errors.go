package bpf

import "errors"

// Errors callers branch on.
var (
	// ErrPermission is wrapped by the error of Attach when the process
	// may not load BPF programs or create uprobes.
	ErrPermission = errors.New("needs root or CAP_BPF+CAP_PERFMON")
	// ErrUnsupported is wrapped when the kernel lacks a feature Attach
	// needs, or the file is for a machine this kernel does not run.
	ErrUnsupported = errors.New("not supported")
	// ErrUnreadable is wrapped by the error of an argument whose operand
	// a uprobe cannot read: thread-local storage, vector registers, a
	// 64-bit value in a 32-bit register, specs package elf could not
	// decode.
	ErrUnreadable = errors.New("operand cannot be read by a uprobe")
)
