package bpf

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

const pidnsEnv = "USDTKIT_BPF_TEST_PIDNS"

// TestAttachInPIDNamespace attaches with a PID filter from a PID
// namespace of its own, as usdtkit in a container without --pid=host
// would: the programs would compare the host's process ids with one of
// that namespace and drop every hit, so Attach refuses and says what to
// do. The test binary runs itself in a new PID namespace for it.
func TestAttachInPIDNamespace(t *testing.T) {
	if os.Getenv(pidnsEnv) == "1" {
		f, err := elf.Open(elftest.Path(t, "semaphores"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Attach(context.Background(), Options{File: f, PID: os.Getpid()})
		if err == nil {
			s.Close()
			t.Fatalf("attached to pid %d of a PID namespace of its own: its hits would all be dropped", os.Getpid())
		}
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "--pid=host") {
			t.Fatalf("in a PID namespace: %v", err)
		}
		t.Logf("pid %d in a new PID namespace: %v", os.Getpid(), err)
		return
	}
	bpftest.Require(t)
	if err := checkPIDNamespace("/proc/self/ns/pid"); err != nil {
		t.Skipf("this test runs in a PID namespace of its own already: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestAttachInPIDNamespace$", "-test.v")
	cmd.Env = append(os.Environ(), pidnsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestAttachInPIDNamespace") {
		t.Fatalf("in a new PID namespace: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "new PID namespace") {
			t.Log(strings.TrimSpace(line))
		}
	}
}
