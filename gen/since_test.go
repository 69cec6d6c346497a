package gen

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/usdtkit/usdtkit/patches"
)

// gitRepo makes a git repository in a temporary directory with one commit
// per step, each step's files written over the last, and returns it.
func gitRepo(t *testing.T, steps ...map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	for i, files := range steps {
		for name, text := range files {
			path := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if text == "" {
				os.Remove(path)
				continue
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		git("add", "-A")
		git("commit", "-q", "-m", "step")
		git("tag", "v"+string(rune('0'+i)))
	}
	return dir
}

func TestAddedSince(t *testing.T) {
	dir := gitRepo(t,
		map[string]string{
			"src/net.cpp":      "void f() { TRACEPOINT(net, closed, id); }\n",
			"src/mempool.cpp":  "void g() { TRACEPOINT(mempool, added, txid); }\n",
			"README":           "not a source\n",
			"other/unused.cpp": "void h() { TRACEPOINT(other, old, 1); }\n",
		},
		map[string]string{
			// closed moves to another file: not added.
			"src/net.cpp":         "void f() { TRACEPOINT(net, misbehaving, id, score); }\n",
			"src/net_closed.cpp":  "TRACEPOINT_SEMAPHORE(net, evicted);\nvoid f() { TRACEPOINT(net, closed, id); }\n",
			"src/validation.cpp":  "void v() { TRACEPOINT(validation, pruned, h); }\n",
			"other/unused.cpp":    "",
			"other/elsewhere.cpp": "void h() { TRACEPOINT(other, new, 1); }\n",
		},
	)
	// Uncommitted work counts too: it is the work tree that is compared.
	if err := os.WriteFile(filepath.Join(dir, "src", "wip.cpp"), []byte("void w() { TRACEPOINT(net, evicted, id); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src")
	now, err := patches.ScanDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rev  string
		want []string
	}{
		{"v0", []string{"net:evicted", "net:misbehaving", "validation:pruned"}},
		{"v1", []string{"net:evicted"}},
		{"HEAD~1", []string{"net:evicted", "net:misbehaving", "validation:pruned"}},
		{"main", []string{"net:evicted"}},
	} {
		added, err := AddedSince(src, now, tt.rev)
		if err != nil {
			t.Fatalf("%s: %v", tt.rev, err)
		}
		got := []string{}
		for id := range added {
			got = append(got, id)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("since %s: got %v, want %v", tt.rev, got, tt.want)
		}
	}
	for _, rev := range []string{"nosuchtag", "--output=/tmp/x", "v0..v1"} {
		if _, err := AddedSince(src, now, rev); !errors.Is(err, ErrUnknownRevision) {
			t.Errorf("since %s: got %v, want ErrUnknownRevision", rev, err)
		}
	}
	if _, err := AddedSince(t.TempDir(), now, "HEAD"); err == nil {
		t.Error("a directory outside git: no error")
	}
}
