// Package bpftest gates the tests that load BPF programs: they skip, with
// the reason, where BPF tracing is unavailable, and fail instead when the
// environment variable CI is "true", so CI can never pass by skipping.
package bpftest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/rlimit"
)

var (
	once   sync.Once
	reason string
)

// Require skips t, or fails it when CI=true, unless this process can load
// BPF tracing programs with ring buffers and attach uprobes.
func Require(t testing.TB) {
	t.Helper()
	once.Do(func() { reason = probe() })
	gate(t, reason)
}

// Reason says why BPF tracing is unavailable here, "" when it is not.
func Reason() string {
	once.Do(func() { reason = probe() })
	return reason
}

// gate skips or fails t for reason, unless reason is empty.
func gate(t testing.TB, reason string) {
	t.Helper()
	if reason == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("BPF unavailable: %s (CI=true: tests must not skip; run them as root on Linux 5.8 or later)", reason)
		return
	}
	t.Skip("BPF unavailable: " + reason)
}

func probe() string {
	if runtime.GOOS != "linux" {
		return "not Linux"
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Sprintf("raise memlock limit: %v", err)
	}
	check := func(what string, err error) string {
		switch {
		case err == nil:
			return ""
		case errors.Is(err, os.ErrPermission):
			return what + ": needs root or CAP_BPF+CAP_PERFMON"
		case errors.Is(err, ebpf.ErrNotSupported):
			return what + ": not supported by this kernel"
		}
		return fmt.Sprintf("%s: %v", what, err)
	}
	if r := check("kprobe programs", features.HaveProgramType(ebpf.Kprobe)); r != "" {
		return r
	}
	if r := check("ring buffers", features.HaveMapType(ebpf.RingBuf)); r != "" {
		return r
	}
	if _, err := os.Stat("/sys/bus/event_source/devices/uprobe"); err != nil {
		return "no uprobe PMU (/sys/bus/event_source/devices/uprobe): kernel without CONFIG_UPROBE_EVENTS"
	}
	return ""
}

// Buffer is a bytes.Buffer that a traced program or a tracer writes
// while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
