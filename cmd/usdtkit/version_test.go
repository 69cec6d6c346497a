package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/elf/elftest"
)

func TestBuildVersion(t *testing.T) {
	const rev = "41af18d1e2f3a4b5c6d7e8f90123456789abcdef"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "dev"},
		{"nothing recorded", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"go install @v0.3.0", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "v0.3.0"},
		{"go install @latest of an untagged commit", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260102150405-41af18d1e2f3"}}, "v0.0.0-20260102150405-41af18d1e2f3"},
		{"checkout, clean", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260102150405-41af18d1e2f3"}, Settings: vcs("false")}, "41af18d1e2f3"},
		{"checkout, changed", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260102150405-41af18d1e2f3+dirty"}, Settings: vcs("true")}, "41af18d1e2f3-dirty"},
		{"checkout after a tag", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1-0.20260102150405-41af18d1e2f3"}, Settings: vcs("false")}, "41af18d1e2f3"},
		{"checkout at a tag", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}, Settings: vcs("false")}, "v0.3.0"},
		{"checkout, go without checkout versions", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")}, "41af18d1e2f3-dirty"},
	} {
		if got := buildVersion(tc.info); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestVersionOfCheckoutBuild builds usdtkit with go build in a git
// checkout of this source tree and checks that --version names its commit,
// with -dirty once a file changed.
func TestVersionOfCheckoutBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds usdtkit")
	}
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			elftest.Unavailable(t, tool+" not installed")
		}
	}
	// A new repository with this tree as it is, changes included, since
	// go reads no commit in a git worktree (whose .git is a file).
	files, err := exec.Command("git", "-C", "../..", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	dir := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join("../..", f))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=usdtkit", "-c", "user.email=usdtkit@localhost", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "tree under test")
	head := git("rev-parse", "HEAD")

	bin := filepath.Join(t.TempDir(), "usdtkit")
	build := func() string {
		t.Helper()
		cmd := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/usdtkit")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v: %s", err, out)
		}
		out, err := exec.Command(bin, "--version").Output()
		if err != nil {
			t.Fatalf("usdtkit --version: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	if got, want := build(), "usdtkit version "+head[:12]; got != want {
		t.Errorf("clean checkout: %q, want %q", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := build(), "usdtkit version "+head[:12]+"-dirty"; got != want {
		t.Errorf("changed checkout: %q, want %q", got, want)
	}
}
