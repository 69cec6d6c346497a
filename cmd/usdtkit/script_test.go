package main

import (
	"flag"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
