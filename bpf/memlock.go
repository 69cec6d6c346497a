package bpf

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Before Linux 5.11 the kernel charges the memory of BPF maps and programs
// against RLIMIT_MEMLOCK, whose default (64 KiB or 8 MiB) is too small for a
// session's ring buffer; from 5.11 it charges the memory cgroup instead and
// the limit does not matter. An older kernel may have that change
// backported, so below 5.11 a probe decides. All of it happens on the first
// Attach, not at start-up: a command that loads no BPF makes no BPF system
// call.

// errMemlockCharged says that the kernel charges BPF memory against
// RLIMIT_MEMLOCK.
var errMemlockCharged = errors.New("BPF memory is charged against RLIMIT_MEMLOCK")

// memlockCharged asks the kernel once. Every Attach calls it before its
// first BPF system call, so the probe, which lowers the process's limit
// for a moment, never runs beside another BPF call of this package.
var memlockCharged = sync.OnceValue(func() error {
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil && releaseAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 11) {
		return nil
	}
	return probeMemlock()
})

// releaseAtLeast reports whether a kernel release ("6.18.0-1-amd64",
// "5.10.0") is major.minor or later; false when it does not start with
// two numbers.
func releaseAtLeast(release string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(release, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// probeMemlock creates a one-entry array map with RLIMIT_MEMLOCK lowered
// to zero, then puts the limit back. It returns nil when the map could be
// created (memory cgroup accounting), errMemlockCharged when the kernel
// refused it with EPERM, and any other failure as it is.
func probeMemlock() error {
	var old unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, nil, &old); err != nil {
		return fmt.Errorf("read memlock limit: %w", err)
	}
	// Lowering Cur and keeping Max is allowed without privileges, and Max
	// is never lowered: that could not be undone.
	zero := unix.Rlimit{Cur: 0, Max: old.Max}
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, &zero, nil); err != nil {
		return fmt.Errorf("lower memlock limit: %w", err)
	}
	fd, mapErr := createProbeMap()
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, &old, nil); err != nil {
		if mapErr == nil {
			unix.Close(fd)
		}
		return fmt.Errorf("restore memlock limit: %w", err)
	}
	switch {
	case mapErr == nil:
		unix.Close(fd)
		return nil
	case errors.Is(mapErr, unix.EPERM):
		return errMemlockCharged
	}
	return fmt.Errorf("probe memlock accounting: create map: %w", mapErr)
}

// createProbeMap creates BPF_MAP_TYPE_ARRAY with one 4-byte entry and
// returns its file descriptor.
func createProbeMap() (int, error) {
	// The leading fields of union bpf_attr for BPF_MAP_CREATE; the kernel
	// reads the rest as zero.
	attr := struct{ mapType, keySize, valueSize, maxEntries uint32 }{
		mapType: 2, keySize: 4, valueSize: 4, maxEntries: 1,
	}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// removeMemlock lifts RLIMIT_MEMLOCK where the kernel charges BPF memory
// against it, and leaves it alone where it does not.
func removeMemlock() error {
	return liftMemlock(memlockCharged(), func(l *unix.Rlimit) error {
		return unix.Prlimit(0, unix.RLIMIT_MEMLOCK, l, nil)
	})
}

// liftMemlock sets the limit to infinity with set when probed says the
// kernel charges BPF memory against it; it returns a failed probe as is.
func liftMemlock(probed error, set func(*unix.Rlimit) error) error {
	if probed == nil {
		return nil
	}
	if !errors.Is(probed, errMemlockCharged) {
		return probed
	}
	if err := set(&unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}); err != nil {
		return fmt.Errorf("set memlock limit to unlimited: %w", err)
	}
	return nil
}
