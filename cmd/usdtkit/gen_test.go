package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/elf/elftest"
	"github.com/usdtkit/usdtkit/gen"
)

// TestGenArgs checks how gen splits its arguments, without running it.
func TestGenArgs(t *testing.T) {
	sema := elftest.Path(t, "semaphores")
	tests := []struct {
		args     []string
		lang     gen.Lang
		binary   string
		patterns string
		err      string
	}{
		{args: []string{"--lang", "bpftrace", sema}, lang: gen.BPFtrace, binary: sema},
		{args: []string{"--lang", "bcc", sema, "net:*", "added"}, lang: gen.BCC, binary: sema, patterns: "net:* added"},
		{args: []string{"--lang", "doc", "--docs", "doc.md", "net:*"}, lang: gen.Doc, patterns: "net:*"},
		{args: []string{"--lang=test", "--docs", "doc.md"}, lang: gen.Test},
		{args: []string{"--lang", "go", sema}, lang: gen.Go, binary: sema},
		{args: []string{sema}, err: "gen needs --lang: one of bpftrace, bcc, go, doc, test"},
		{args: []string{"--lang", "python", sema}, err: `unknown language "python" (want bpftrace, bcc, go, doc, test)`},
		{args: []string{"--lang", "bcc"}, err: "gen needs --docs FILE, --src DIR, a BINARY or any of them together"},
		{args: []string{"--lang", "bcc", "net:*"}, err: "gen needs --docs FILE, --src DIR, a BINARY or any of them together"},
		{args: []string{"--lang", "doc", "--src", "src", "--docs", "doc.md", "--new", "--since", "v30.0"}, lang: gen.Doc},
		{args: []string{"--lang", "doc", "--src", "src", "net:*"}, lang: gen.Doc, patterns: "net:*"},
		{args: []string{"--lang", "doc", "--src", "src", "--new"}, err: "--new needs --src DIR and --docs FILE"},
		{args: []string{"--lang", "doc", "--docs", "doc.md", "--new"}, err: "--new needs --src DIR and --docs FILE"},
		{args: []string{"--lang", "doc", "--docs", "doc.md", "--since", "HEAD"}, err: "--since needs --src DIR"},
		{args: []string{"--lang", "bcc", "bitcoind"}, err: "open bitcoind: no such file"},
		{args: []string{"--lang", "bcc", "build/nothere"}, lang: gen.BCC, binary: "build/nothere"},
		{args: []string{"--lang", "bcc", sema, "[x"}, err: `bad pattern "[x": syntax error in pattern`},
		{args: []string{"--lang", "bcc", "--docs", "doc.md", "./x/y"}, lang: gen.BCC, binary: "./x/y"},
		{args: []string{"--lang", "bcc", "--docs", "doc.md", "net:*", "a/b"}, err: `pattern "a/b" has a '/': a binary goes first`},
	}
	for _, tt := range tests {
		var got *genOptions
		cmd := newGenCmd(&IOStreams{}, func(_ context.Context, o *genOptions) error {
			got = o
			return nil
		})
		cmd.SetArgs(tt.args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("gen %v: error %v, want %q", tt.args, err, tt.err)
			}
		case err != nil:
			t.Errorf("gen %v: %v", tt.args, err)
		case got.Lang != tt.lang || strings.Join(got.Binaries, " ") != tt.binary || strings.Join(got.Patterns, " ") != tt.patterns:
			t.Errorf("gen %v: lang %v binary %q patterns %q", tt.args, got.Lang, got.Binaries, got.Patterns)
		}
	}
}

func TestGenExitCodes(t *testing.T) {
	sema := elftest.Path(t, "semaphores")
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"gen", "--lang", "bpftrace", sema}, 0},
		{[]string{"gen", "--lang", "doc", sema, "mempool:*"}, 0},
		{[]string{"gen", sema}, 2},
		{[]string{"gen", "--lang", "go", sema}, 0},
		{[]string{"gen", "--lang", "python", sema}, 2},
		{[]string{"gen", "--lang", "doc", "--src", "/nonexistent"}, 1},
		{[]string{"gen", "--lang", "doc", "--src", "/etc", "--docs", "/dev/null", "--new", "--since", "nosuchrev"}, 1},
		{[]string{"gen", "--lang", "doc", "--docs", "/dev/null", "--new"}, 2},
		{[]string{"gen", "--lang", "bcc"}, 2},
		{[]string{"gen", "--lang", "bcc", "--bogus", sema}, 2},
		{[]string{"gen", "--lang", "bcc", sema, "[x"}, 2},
		{[]string{"gen", "--lang", "bcc", sema, "nomatch:*"}, 0},
		{[]string{"gen", "--lang", "bcc", "/etc/passwd"}, 1},
		{[]string{"gen", "--lang", "bcc", "/nonexistent"}, 1},
		{[]string{"gen", "--lang", "bcc", "--docs", "/nonexistent"}, 1},
		{[]string{"gen", "--lang", "bpftrace", "--out", "/proc/nope", sema}, 1},
	}
	for _, tt := range tests {
		_, stderr, code := runCmd(t, tt.args...)
		if code != tt.code {
			t.Errorf("usdtkit %s: exit %d, want %d (stderr %q)", strings.Join(tt.args, " "), code, tt.code, stderr)
		}
		if code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("usdtkit %s: error is not one line: %q", strings.Join(tt.args, " "), stderr)
		}
	}
}

// TestGenOut checks the files --out writes: one per tracepoint, scripts
// executable, the same text gen prints for that tracepoint alone.
func TestGenOut(t *testing.T) {
	sema := elftest.Path(t, "semaphores")
	for _, l := range gen.Langs {
		dir := filepath.Join(t.TempDir(), "out")
		stdout, stderr, code := runCmd(t, "gen", "--lang", l.String(), "--out", dir, sema)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", l, code, stderr)
		}
		paths := strings.Fields(stdout)
		if len(paths) != 3 {
			t.Fatalf("%s: wrote %q, want 3 files", l, paths)
		}
		for _, p := range paths {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if exec := st.Mode()&0o111 != 0; exec != (l != gen.Doc && l != gen.Go) {
				t.Errorf("%s: mode %v", p, st.Mode())
			}
			data, _ := os.ReadFile(p)
			id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "interface_usdt_"), filepath.Ext(p))
			id = strings.Replace(id, "_", ":", 1)
			alone, _, _ := runCmd(t, "gen", "--lang", l.String(), sema, id)
			script := filepath.Base(p)
			if l == gen.BPFtrace || l == gen.BCC {
				alone = strings.ReplaceAll(alone, "SCRIPT"+filepath.Ext(p), script)
			}
			if l == gen.Go { // the command is named after its file, and its comment rewrapped
				data = []byte(strings.ReplaceAll(string(data), strings.TrimSuffix(script, ".go"), "trace"))
				data = []byte(strings.Join(strings.Fields(strings.ReplaceAll(string(data), "//", "")), " "))
				alone = strings.Join(strings.Fields(strings.ReplaceAll(alone, "//", "")), " ")
			}
			if string(data) != alone {
				t.Errorf("%s differs from gen --lang %s %s", p, l, id)
			}
		}
	}
}
