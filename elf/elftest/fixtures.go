package elftest

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

//go:embed fixtures
var sources embed.FS

// Fixture is one test binary built from the sources in fixtures/.
type Fixture struct {
	Name     string
	Compiler string
	Args     []string
	Sources  []string
	// Machine is the e_machine name the result has: x86_64, i386, aarch64.
	Machine string
}

// Fixtures are all the builds: every operand form at -O0 and -O2, PIE and
// not, 32-bit, aarch64, a shared library, a relocatable object, and
// semaphore-guarded tracepoints in Bitcoin Core's style.
var Fixtures = []Fixture{
	{"x86_64-O0-pie", "gcc", []string{"-O0", "-fPIE", "-pie"}, []string{"operands.c"}, "x86_64"},
	{"x86_64-O2-pie", "gcc", []string{"-O2", "-fPIE", "-pie"}, []string{"operands.c"}, "x86_64"},
	{"x86_64-O0-nopie", "gcc", []string{"-O0", "-fno-pie", "-no-pie"}, []string{"operands.c"}, "x86_64"},
	{"x86_64-O2-nopie", "gcc", []string{"-O2", "-fno-pie", "-no-pie"}, []string{"operands.c"}, "x86_64"},
	{"x86_64-object.o", "gcc", []string{"-O2", "-c"}, []string{"operands.c"}, "x86_64"},
	{"handwritten", "gcc", []string{"-O0"}, []string{"highbyte.c"}, "x86_64"},
	{"semaphores", "g++", []string{"-O2", "-std=c++20"}, []string{"semaphores.cpp"}, "x86_64"},
	{"libfixture.so", "gcc", []string{"-O2", "-fPIC", "-shared"}, []string{"lib.c"}, "x86_64"},
	{"i386-O2-nopie", "gcc", []string{"-m32", "-O2", "-fno-pie", "-no-pie"}, []string{"operands.c"}, "i386"},
	{"i386-O0-pie", "gcc", []string{"-m32", "-O0", "-fPIE", "-pie"}, []string{"operands.c"}, "i386"},
	{"aarch64-O2", "aarch64-linux-gnu-gcc-12", []string{"-O2"}, []string{"operands.c"}, "aarch64"},
	{"aarch64-O0", "aarch64-linux-gnu-gcc-12", []string{"-O0"}, []string{"operands.c"}, "aarch64"},
	{"i386-object.o", "gcc", []string{"-m32", "-O2", "-c"}, []string{"operands.c"}, "i386"},
	{"aarch64-object.o", "aarch64-linux-gnu-g++-12", []string{"-O2", "-std=c++20", "-c"}, []string{"semaphores.cpp"}, "aarch64"},
	{"aarch64-semaphores", "aarch64-linux-gnu-g++-12", []string{"-O2", "-std=c++20"}, []string{"semaphores.cpp"}, "aarch64"},
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Path builds the named fixture (once per process; results are cached by
// content in the user cache directory) and returns its path. A missing
// compiler or header skips the test, or fails it when CI=true.
func Path(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	var fx *Fixture
	for i := range Fixtures {
		if Fixtures[i].Name == name {
			fx = &Fixtures[i]
		}
	}
	if fx == nil {
		t.Fatalf("no fixture %q", name)
	}
	p, err := build(fx)
	if err != nil {
		Unavailable(t, err.Error())
	}
	built[name] = p
	return p
}

// Unavailable skips the test for a missing tool, or fails it when CI=true,
// so CI can never pass by skipping.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: tests must not skip; run 'make test', which installs it)", reason)
	}
	t.Skip(reason)
}

// SDTInclude returns a directory with sys/sdt.h that any of the compilers
// can use: Debian installs it in the native multiarch directory only.
func SDTInclude() (string, error) {
	var hdr string
	for _, p := range []string{"/usr/include/sys/sdt.h", "/usr/include/x86_64-linux-gnu/sys/sdt.h", "/usr/include/aarch64-linux-gnu/sys/sdt.h"} {
		if _, err := os.Stat(p); err == nil {
			hdr = p
			break
		}
	}
	if hdr == "" {
		return "", fmt.Errorf("sys/sdt.h not found: install systemtap-sdt-dev")
	}
	dir := filepath.Join(cacheDir(), "include")
	if err := os.MkdirAll(filepath.Join(dir, "sys"), 0o755); err != nil {
		return "", err
	}
	for _, name := range []string{"sdt.h", "sdt-config.h"} {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(hdr), name))
		if err != nil {
			return "", err
		}
		if err := writeAtomic(filepath.Join(dir, "sys", name), data, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func cacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "usdtkit-test")
}

func build(fx *Fixture) (string, error) {
	if _, err := exec.LookPath(fx.Compiler); err != nil {
		return "", fmt.Errorf("fixture %s needs %s: %v", fx.Name, fx.Compiler, err)
	}
	inc, err := SDTInclude()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, fx.Compiler, fx.Args)
	srcDir := filepath.Join(cacheDir(), "src")
	if err := os.MkdirAll(srcDir, 0o755); err != nil {
		return "", err
	}
	var srcs []string
	for _, s := range fx.Sources {
		data, err := sources.ReadFile("fixtures/" + s)
		if err != nil {
			return "", err
		}
		h.Write(data)
		p := filepath.Join(srcDir, s)
		if err := writeAtomic(p, data, 0o644); err != nil {
			return "", err
		}
		srcs = append(srcs, p)
	}
	out := filepath.Join(cacheDir(), hex.EncodeToString(h.Sum(nil))[:16], fx.Name)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	args := append([]string{"-g", "-I", inc}, fx.Args...)
	args = append(args, "-o", tmp)
	args = append(args, srcs...)
	if fx.Compiler == "gcc" && !contains(fx.Args, "-c") && !contains(fx.Args, "-shared") {
		args = append(args, "-lpthread")
	}
	cmd := exec.Command(fx.Compiler, args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build fixture %s: %v: %s", fx.Name, err, msg)
	}
	return out, os.Rename(tmp, out)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
