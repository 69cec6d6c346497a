package elftest

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// Open builds the file s describes and reads it back with newFile, as
// elf.NewFile reads it (elftest cannot import package elf, whose own
// tests import elftest): the file a test works on.
func Open[T any](t testing.TB, s Spec, newFile func(io.ReaderAt) (T, error)) T {
	t.Helper()
	img, _ := Build(s)
	f, err := newFile(strings.NewReader(string(img)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Archive is a golden file: a txtar archive that a test reads and, with
// its -update flag, rewrites.
type Archive struct{ *txtar.Archive }

// ReadArchive reads the archive at path.
func ReadArchive(path string) (*Archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &Archive{txtar.Parse(data)}, nil
}

// Format is the archive as a file.
func (a *Archive) Format() []byte { return txtar.Format(a.Archive) }

// File is the named file's contents.
func (a *Archive) File(name string) ([]byte, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// Set replaces the named file's contents, or adds the file.
func (a *Archive) Set(name string, data []byte) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, txtar.File{Name: name, Data: data})
}

// LineDiff shows the first line where want and got differ.
func LineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(same lines)"
}

// Golden runs a subtest for every archive that glob matches: render
// makes the sections named in sections from the archive's inputs, and
// each is compared with the archive's own, or, when update is set (a
// test's -update flag), written into the archive.
func Golden(t *testing.T, glob string, update bool, sections []string, render func(t *testing.T, ar *Archive) map[string]string) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files %s: %v", glob, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := ReadArchive(file)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, ar)
			if update {
				for _, name := range sections {
					ar.Set(name, []byte(got[name]))
				}
				if err := os.WriteFile(file, ar.Format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, name := range sections {
				want, ok := ar.File(name)
				if !ok {
					t.Errorf("no %s section; run go test -update", name)
					continue
				}
				if string(want) != got[name] {
					t.Errorf("%s differs (go test -update rewrites it)\n%s", name, LineDiff(string(want), got[name]))
				}
			}
		})
	}
}
