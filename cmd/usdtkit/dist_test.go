package main

import (
	"bytes"
	"context"
	goelf "debug/elf"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/elf/elftest"
)

// TestDist runs make dist and checks what it ships: static binaries for
// linux/amd64 and linux/arm64, SHA256SUMS, completions and man pages; then
// it runs the arm64 binary under qemu-user and checks that it lists every
// fixture and the real Debian binaries with notes exactly as the amd64
// binary does, and that attach, which qemu-user cannot do, refuses with
// one clear line.
func TestDist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release binaries")
	}
	for _, tool := range []string{"make", "go", "git", "sha256sum", "qemu-aarch64-static"} {
		if _, err := exec.LookPath(tool); err != nil {
			elftest.Unavailable(t, tool+" not installed (make deps installs it)")
		}
	}
	build := t.TempDir()
	dist := filepath.Join(build, "dist")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	mk := exec.CommandContext(ctx, "make", "-C", "../..", "dist", "BUILD="+build)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	amd64 := filepath.Join(dist, "usdtkit-linux-amd64")
	arm64 := filepath.Join(dist, "usdtkit-linux-arm64")

	t.Run("static", func(t *testing.T) {
		for bin, machine := range map[string]goelf.Machine{amd64: goelf.EM_X86_64, arm64: goelf.EM_AARCH64} {
			checkStatic(t, bin, machine)
		}
	})

	t.Run("SHA256SUMS", func(t *testing.T) {
		cmd := exec.Command("sha256sum", "--strict", "-c", "SHA256SUMS")
		cmd.Dir = dist
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
		}
		sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		var listed, files []string
		for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
			_, name, _ := strings.Cut(line, "  ")
			listed = append(listed, name)
		}
		filepath.WalkDir(dist, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && d.Name() != "SHA256SUMS" {
				rel, _ := filepath.Rel(dist, path)
				files = append(files, rel)
			}
			return nil
		})
		sort.Strings(listed)
		sort.Strings(files)
		if strings.Join(listed, " ") != strings.Join(files, " ") {
			t.Errorf("SHA256SUMS lists %v; dist has %v", listed, files)
		}
	})

	t.Run("completions and man pages", func(t *testing.T) {
		for file, want := range map[string]string{
			"completion/bash/usdtkit":      "__start_usdtkit",
			"completion/zsh/_usdtkit":      "#compdef usdtkit",
			"completion/fish/usdtkit.fish": "complete -c usdtkit",
			"man/usdtkit.1":                `.TH "USDTKIT" "1"`,
			"man/usdtkit-list.1":           `.TH "USDTKIT-LIST" "1"`,
			"man/usdtkit-attach.1":         `.TH "USDTKIT-ATTACH" "1"`,
		} {
			data, err := os.ReadFile(filepath.Join(dist, file))
			if err != nil {
				t.Error(err)
				continue
			}
			if !strings.Contains(string(data), want) {
				t.Errorf("%s does not contain %q", file, want)
			}
		}
		if bash, err := exec.LookPath("bash"); err == nil {
			out, err := exec.Command(bash, "-c", "source "+filepath.Join(dist, "completion/bash/usdtkit")+" && complete -p usdtkit").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "usdtkit") {
				t.Errorf("bash completion does not register: %v: %s", err, out)
			}
		}
	})

	qemu := func(args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, "qemu-aarch64-static", append([]string{arm64}, args...)...)
	}

	t.Run("version", func(t *testing.T) {
		want, err := exec.Command(amd64, "--version").Output()
		if err != nil {
			t.Fatalf("usdtkit --version: %v", err)
		}
		if strings.Contains(string(want), "dev") {
			t.Errorf("amd64 --version: %q: no version from git", want)
		}
		got, err := qemu("--version").Output()
		if err != nil {
			t.Fatalf("arm64 --version under qemu-user: %v", err)
		}
		if string(got) != string(want) {
			t.Errorf("arm64 --version %q, amd64 %q", got, want)
		}
	})

	t.Run("list under qemu-user", func(t *testing.T) {
		var paths []string
		for _, fx := range elftest.Fixtures {
			paths = append(paths, elftest.Path(t, fx.Name))
		}
		paths = append(paths, debianBinaries(t)...)
		for _, p := range paths {
			for _, args := range [][]string{{"list", "--json", p}, {"list", "-v", p}} {
				want := runBinary(exec.CommandContext(ctx, amd64, args...))
				got := runBinary(qemu(args...))
				if want.code != 0 {
					t.Errorf("amd64 %s: exit %d: %s", strings.Join(args, " "), want.code, want.stderr)
					continue
				}
				if args[1] == "--json" {
					var tps []json.RawMessage
					if err := json.Unmarshal([]byte(want.stdout), &tps); err != nil || len(tps) == 0 {
						t.Errorf("amd64 %s: %d tracepoints, %v", strings.Join(args, " "), len(tps), err)
					}
				}
				if got != want {
					t.Errorf("%s: arm64 under qemu-user differs from amd64:\narm64 exit %d, %d bytes out, stderr %q\namd64 exit %d, %d bytes out, stderr %q",
						strings.Join(args, " "), got.code, len(got.stdout), got.stderr, want.code, len(want.stdout), want.stderr)
				}
			}
		}
		t.Logf("%d files listed alike", len(paths))
	})

	t.Run("attach under qemu-user", func(t *testing.T) {
		target := elftest.Path(t, "aarch64-semaphores")
		if os.Geteuid() != 0 {
			elftest.Unavailable(t, "not root: unprivileged, attach stops at the capability check before it meets qemu-user")
		}
		self := []string{"-p", strconv.Itoa(os.Getpid())}
		for _, tail := range [][]string{self, {"--", "/bin/true"}} {
			args := append([]string{"attach", target}, tail...)
			r := runBinary(qemu(args...))
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 1 || len(lines) != 1 || !strings.Contains(r.stderr, "qemu-user") || !strings.Contains(r.stderr, "own kernel") {
				t.Errorf("%s under qemu-user: exit %d, stderr %q; want exit 1 and one line that names qemu-user and what to do", strings.Join(args, " "), r.code, r.stderr)
			}
		}
	})
}

// checkStatic fails t unless bin is an executable for machine that needs
// no dynamic loader and no shared library.
func checkStatic(t *testing.T, bin string, machine goelf.Machine) {
	t.Helper()
	f, err := goelf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != machine || f.Type != goelf.ET_EXEC {
		t.Errorf("%s: %v %v, want an executable for %v", bin, f.Type, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == goelf.PT_INTERP || p.Type == goelf.PT_DYNAMIC {
			t.Errorf("%s: has %v: dynamically linked", bin, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s: needs %v", bin, libs)
	}
}

// debianBinaries are the real programs and libraries with notes that make
// deps installs: libstdc++, PostgreSQL's server and the JVM.
func debianBinaries(t *testing.T) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for _, pattern := range []string{"/usr/lib/*/libstdc++.so.6", "/usr/lib/postgresql/*/bin/postgres", "/usr/lib/jvm/*/lib/server/libjvm.so"} {
		found := 0
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			real, err := filepath.EvalSymlinks(m)
			if err != nil || seen[real] || !hasStapsdt(real) {
				continue
			}
			seen[real] = true
			out = append(out, m)
			found++
		}
		if found == 0 {
			elftest.Unavailable(t, "no "+pattern+" with notes on this machine (make deps installs it)")
		}
	}
	return out
}

type result struct {
	code           int
	stdout, stderr string
}

func runBinary(cmd *exec.Cmd) result {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			errOut.WriteString(err.Error())
		}
	}
	return result{code, out.String(), errOut.String()}
}
