package gen

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/patches"
	"github.com/usdtkit/usdtkit/patches/patchtest"
)

// treeModel is a model of the tracepoints the tree's sources call, joined
// with its doc.
func treeModel(t *testing.T, root string) *Model {
	t.Helper()
	doc, err := docs.ParseFile(filepath.Join(root, "doc", "tracing.md"))
	if doc == nil {
		t.Fatal(err)
	}
	macros, err := patches.ScanDir(filepath.Join(root, "src"))
	if err != nil {
		t.Fatal(err)
	}
	m := join(doc, nil, &contract.Source{Path: filepath.Join(root, "src"), Macros: macros})
	if len(m.Tracepoints) != 2 {
		t.Fatalf("%d tracepoints in %s", len(m.Tracepoints), root)
	}
	return m
}

// In each test tree the skeleton imports and calls only what the tree's
// test framework defines, and makes the checks it lacks itself.
func TestGenSkeletonFrameworks(t *testing.T) {
	for _, tr := range patchtest.Trees {
		t.Run(tr.Name, func(t *testing.T) {
			root := tr.Dir(t)
			l, err := patches.ReadLayout(root)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Generate(Test, treeModel(t, root), Options{Layout: l})
			if err != nil {
				t.Fatal(err)
			}
			patchtest.CheckSkeleton(t, out.Text, root)
			text := out.Text
			own := strings.Contains(text, "the test makes its own")
			if own == tr.Helpers || strings.Contains(text, "self.skip_if_no_python_bcc()") != tr.Helpers {
				t.Errorf("checks of its own: %v, with the framework's helpers: %v", own, tr.Helpers)
			}
			newest := tr.Name == "semaphores"
			if strings.Contains(text, "cflags=bpf_cflags()") != newest || strings.Contains(text, "skip_if_running_under_valgrind") != newest {
				t.Errorf("bpf_cflags and the valgrind check: want them %v", newest)
			}
			if strings.Contains(text, "(__file__).main()") != l.Framework.TestFile {
				t.Errorf("constructed with __file__: want %v", l.Framework.TestFile)
			}
		})
	}
}

// The check fails a skeleton for a newer framework than the tree's, so
// that the test above can fail.
func TestGenSkeletonCheckFails(t *testing.T) {
	var old patchtest.Tree
	for _, tr := range patchtest.Trees {
		if tr.Name == "trace-n" {
			old = tr
		}
	}
	root := old.Dir(t)
	out, err := Generate(Test, treeModel(t, root), Options{})
	if err != nil {
		t.Fatal(err)
	}
	inner := &recorder{TB: t}
	patchtest.CheckSkeleton(inner, out.Text, root)
	for _, want := range []string{
		"imports bpf_cflags from test_framework.util, which does not define it",
		"uses self.skip_if_no_bitcoind_tracepoints, which BitcoinTestFramework does not define",
		"constructs NetTracepointTest with 1 arguments; BitcoinTestFramework takes 0",
	} {
		if !strings.Contains(inner.errors.String(), want) {
			t.Errorf("the check did not say %q:\n%s", want, inner.errors.String())
		}
	}
}

// recorder is a testing.TB whose Errorf is recorded, not reported.
type recorder struct {
	testing.TB
	errors strings.Builder
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors.WriteString(fmt.Sprintf(format, args...) + "\n")
}

// Without a path, every program attaches to where the tree builds its
// binary; a path given wins.
func TestGenLayoutBinaryPath(t *testing.T) {
	m := treeModel(t, patchtest.Trees[0].Dir(t))
	l := &patches.Layout{Root: "/tree", Binary: "build/bin/bitcoind"}
	for _, tt := range []struct {
		lang Lang
		want string
	}{
		{BPFtrace, "usdt:/tree/build/bin/bitcoind:net:inbound_message\n"},
		{BCC, "PATH = \"/tree/build/bin/bitcoind\"\n"},
		{Go, "const defaultPath = \"/tree/build/bin/bitcoind\"\n"},
	} {
		out, err := Generate(tt.lang, m, Options{Layout: l})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.Text, tt.want) {
			t.Errorf("%v: no %q", tt.lang, tt.want)
		}
		out, err = Generate(tt.lang, m, Options{Layout: l, Path: "/other/bitcoind"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.Text, "/tree/") {
			t.Errorf("%v: the tree's path beside the one given", tt.lang)
		}
	}
	// A tree whose build does not say: the script takes the path.
	out, err := Generate(BPFtrace, m, Options{Layout: &patches.Layout{Root: "/tree"}})
	if err != nil || !strings.Contains(out.Text, "usdt:$1:net:inbound_message\n") {
		t.Errorf("no binary: %v\n%s", err, out.Text)
	}
}
