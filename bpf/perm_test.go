package bpf

import (
	"context"
	goelf "debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/usdtkit/usdtkit/elf"
)

const unprivEnv = "USDTKIT_BPF_TEST_UNPRIVILEGED"

// TestPermissionError attaches without privileges: as itself when it is
// not root, else in a copy of the test binary run as nobody.
func TestPermissionError(t *testing.T) {
	if os.Getenv(unprivEnv) == "1" || os.Geteuid() != 0 {
		err := attachUnprivileged()
		if os.Getenv(unprivEnv) == "1" {
			fmt.Println(err)
			return
		}
		checkPermErr(t, err)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "usdtkit-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(dir, "bpf.test")
	if err := copyFile(exe, cp); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cp, "-test.run=^TestPermissionError$")
	cmd.Env = append(os.Environ(), unprivEnv+"=1")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	t.Logf("as nobody: %s", first)
	if !strings.Contains(first, "needs root or CAP_BPF+CAP_PERFMON") {
		t.Errorf("unprivileged attach: %s", out)
	}
}

func attachUnprivileged() error {
	f := &elf.File{
		Path:    "/bin/true",
		Machine: goelf.EM_X86_64,
		Class:   goelf.ELFCLASS64,
		Probes: []elf.Probe{{
			Provider: "p", Name: "n",
			CallSites: []elf.CallSite{{Address: 0x1000, FileOffset: 0x1000, ArgsRaw: "8@%rdi", Args: elf.ParseArgs(goelf.EM_X86_64, "8@%rdi")}},
		}},
	}
	if err := checkHost(f.Machine); err != nil {
		f.Machine = goelf.EM_AARCH64
		f.Probes[0].CallSites[0].Args = elf.ParseArgs(goelf.EM_AARCH64, "8@x0")
	}
	s, err := Attach(context.Background(), Options{File: f})
	if err == nil {
		s.Close()
		return errors.New("attached without privileges")
	}
	return err
}

func checkPermErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "needs root or CAP_BPF+CAP_PERFMON") {
		t.Errorf("unprivileged attach: %v", err)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func TestKernelErrors(t *testing.T) {
	err := kernelErr("uprobe_multi links need Linux 6.6 or later", fmt.Errorf("probe: %w", ebpf.ErrNotSupported))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Linux 6.6") {
		t.Errorf("missing feature: %v", err)
	}
	err = kernelErr("x", fmt.Errorf("probe: %w", os.ErrPermission))
	if !errors.Is(err, ErrPermission) || errors.Is(err, ErrUnsupported) {
		t.Errorf("no permission: %v", err)
	}
}
