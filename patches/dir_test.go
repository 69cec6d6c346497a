package patches

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanDir(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"a.cpp":                    "TRACEPOINT(a, one);\n",
		"sub/b.h":                  "#pragma once\nTRACE1(b, two, x);\n",
		"sub/c.c":                  "DTRACE_PROBE(c, three);\n",
		"sub/d.cxx":                "STAP_PROBE1(d, four, 1);\n",
		"sub/e.hpp":                "TRACEPOINT_SEMAPHORE(e, five);\n",
		"sub/f.cc":                 "TRACEPOINT(f, six);\nTRACEPOINT(f, seven, (x);\n",
		"notes.txt":                "TRACEPOINT(skipped, txt);\n",
		".git/g.cpp":               "TRACEPOINT(skipped, hidden);\n",
		"build/h.cpp":              "TRACEPOINT(skipped, build);\n",
		"build-debug/i.cpp":        "TRACEPOINT(skipped, build_dash);\n",
		"cmake-build-release/j.cc": "TRACEPOINT(skipped, clion);\n",
		"out/CMakeCache.txt":       "",
		"out/k.cpp":                "TRACEPOINT(skipped, cmake);\n",
	}
	for name, text := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "a.cpp"), filepath.Join(root, "link.cpp")); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(root, "big.cpp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	big.Close()

	macros, err := ScanDir(root)
	var got []string
	for _, m := range macros {
		rel, _ := filepath.Rel(root, m.File)
		got = append(got, rel+" "+m.ID())
	}
	want := []string{"a.cpp a:one", "sub/b.h b:two", "sub/c.c c:three", "sub/d.cxx d:four", "sub/e.hpp e:five", "sub/f.cc f:six"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), filepath.Join(root, "big.cpp")) {
		t.Errorf("err = %v, want ErrTooLarge naming big.cpp", err)
	}
	var se *SyntaxError
	if !errors.As(err, &se) || se.File != filepath.Join(root, "sub/f.cc") || se.Line != 2 {
		t.Errorf("err = %v, want a *SyntaxError at sub/f.cc:2", err)
	}

	// A file as the root is scanned by itself.
	macros, err = ScanDir(filepath.Join(root, "a.cpp"))
	if err != nil || len(macros) != 1 {
		t.Errorf("file root: %d macros, %v", len(macros), err)
	}
	// A root inside a hidden directory is not skipped.
	macros, err = ScanDir(filepath.Join(root, ".git"))
	if err != nil || len(macros) != 1 {
		t.Errorf("hidden root: %d macros, %v", len(macros), err)
	}
	if _, err := ScanDir(filepath.Join(root, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing root: %v", err)
	}
}
