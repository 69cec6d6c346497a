package main

import (
	"flag"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/usdtkit/usdtkit/bpf/bpftest"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

var updateScripts = flag.Bool("update", false, "rewrite the files that cmp compares with in testdata/script")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"usdtkit": main})
}

// TestScripts runs the end-to-end scripts in testdata/script: the usdtkit
// binary on the fixture programs, whose paths are in the environment.
func TestScripts(t *testing.T) {
	fixtures := map[string]string{
		"O2":      elftest.Path(t, "x86_64-O2-pie"),
		"O0NOPIE": elftest.Path(t, "x86_64-O0-nopie"),
		"SEMA":    elftest.Path(t, "semaphores"),
		"LIB":     elftest.Path(t, "libfixture.so"),
		"HAND":    elftest.Path(t, "handwritten"),
		"I386":    elftest.Path(t, "i386-O2-nopie"),
		"AARCH64": elftest.Path(t, "aarch64-semaphores"),
		"OBJECT":  elftest.Path(t, "x86_64-object.o"),
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			for k, v := range fixtures {
				env.Setenv(k, v)
			}
			env.Setenv("USDTKIT_FORCE_TTY", "")
			return nil
		},
		RequireExplicitExec: true,
		UpdateScripts:       *updateScripts,
	})
}

// TestBPFScripts runs the end-to-end scripts in testdata/bpfscript, which
// trace the demo live: attach, verify and watch. They need root and BPF,
// as the other live tests do.
func TestBPFScripts(t *testing.T) {
	bpftest.Require(t)
	bin, doc := demo(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/bpfscript",
		Setup: func(env *testscript.Env) error {
			env.Setenv("DEMO", bin)
			env.Setenv("DOC", doc)
			env.Setenv("USDTKIT_FORCE_TTY", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitmatch": waitMatch,
		},
		RequireExplicitExec: true,
		UpdateScripts:       *updateScripts,
	})
}

// waitMatch is the script command "waitmatch FILE REGEXP": it waits up to
// 20 s for FILE, written by a command in the background, to match.
func waitMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitmatch FILE REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _ := os.ReadFile(ts.MkAbs(args[0]))
		if re.Match(data) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s does not match %q after 20s:\n%s", args[0], args[1], data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
