package bpf

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Under qemu-user the bpf system call fails with ENOSYS: Attach says so,
// and what to do, instead of passing the errno on.
func TestKernelErrNoSyscall(t *testing.T) {
	err := kernelErr("BPF ring buffers need Linux 5.8 or later", fmt.Errorf("detect support for RingBuf: %w", unix.ENOSYS))
	if !errors.Is(err, ErrUnsupported) || errors.Is(err, ErrPermission) {
		t.Errorf("ENOSYS: %v is not ErrUnsupported alone", err)
	}
	for _, want := range []string{"no bpf system call", "qemu-user", "own kernel"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ENOSYS: %q does not say %q", err, want)
		}
	}
	if err := kernelErr("x", fmt.Errorf("probe: %w", unix.EPERM)); !errors.Is(err, ErrPermission) {
		t.Errorf("EPERM: %v is not ErrPermission", err)
	}
}
