package bpf

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
)

func TestReleaseAtLeast(t *testing.T) {
	for _, c := range []struct {
		release string
		want    bool
	}{
		{"6.18.0-1-amd64", true},
		{"5.11.0", true},
		{"5.11", true},
		{"5.10.0-28-amd64", false},
		{"4.19.0", false},
		{"10.0.0", true},
		{"5.9.0", false},
		{"", false},
		{"linux", false},
		{"5", false},
	} {
		if got := releaseAtLeast(c.release, 5, 11); got != c.want {
			t.Errorf("releaseAtLeast(%q, 5, 11) = %v, want %v", c.release, got, c.want)
		}
	}
}

func TestLiftMemlock(t *testing.T) {
	var set []unix.Rlimit
	record := func(l *unix.Rlimit) error { set = append(set, *l); return nil }

	if err := liftMemlock(nil, record); err != nil || len(set) != 0 {
		t.Errorf("memory cgroup accounting: err %v, limits set %v; want neither", err, set)
	}

	probeErr := errors.New("probe memlock accounting: create map: invalid argument")
	if err := liftMemlock(probeErr, record); err != probeErr || len(set) != 0 {
		t.Errorf("failed probe: err %v, limits set %v; want the probe's error and no limit set", err, set)
	}

	if err := liftMemlock(errMemlockCharged, record); err != nil {
		t.Errorf("charged: %v", err)
	}
	if want := (unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}); len(set) != 1 || set[0] != want {
		t.Errorf("charged: limits set %v, want [%v]", set, want)
	}

	err := liftMemlock(errMemlockCharged, func(*unix.Rlimit) error { return unix.EPERM })
	if !errors.Is(err, unix.EPERM) {
		t.Errorf("charged, set refused: %v, want EPERM", err)
	}
}

// TestProbeMemlock runs the probe on this kernel: it must put the limit
// back as it was and agree with the kernel's version from 5.11 on, where
// memory cgroup accounting is certain.
func TestProbeMemlock(t *testing.T) {
	bpftest.Require(t)
	var before, after unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, nil, &before); err != nil {
		t.Fatal(err)
	}
	err := probeMemlock()
	if err := unix.Prlimit(0, unix.RLIMIT_MEMLOCK, nil, &after); err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Errorf("memlock limit %+v after the probe, was %+v", after, before)
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	switch {
	case releaseAtLeast(release, 5, 11) && err != nil:
		t.Errorf("Linux %s: probe says %v, want memory cgroup accounting (nil)", release, err)
	case err != nil && !errors.Is(err, errMemlockCharged):
		t.Errorf("Linux %s: probe failed: %v", release, err)
	}
	if err := memlockCharged(); releaseAtLeast(release, 5, 11) && err != nil {
		t.Errorf("Linux %s: memlockCharged() = %v, want nil", release, err)
	}
}
