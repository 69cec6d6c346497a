package contract

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/patches"
)

// Paths name the three views on disk: a tracing doc, a source tree,
// binaries. Any may be missing.
type Paths struct {
	Docs     string
	Src      string
	Binaries []string
}

// Given is how many of the three views are named.
func (p Paths) Given() int {
	n := 0
	for _, given := range []bool{p.Docs != "", p.Src != "", len(p.Binaries) > 0} {
		if given {
			n++
		}
	}
	return n
}

// Discover names the views of a Bitcoin Core checkout at dir: its
// doc/tracing.md, its src/ and the first bitcoind of the build layouts it
// has had (CMake's build/bin and build/src, autotools' src).
func Discover(dir string) Paths {
	var p Paths
	if isFile(filepath.Join(dir, "doc/tracing.md")) {
		p.Docs = filepath.Join(dir, "doc/tracing.md")
	}
	if st, err := os.Stat(filepath.Join(dir, "src")); err == nil && st.IsDir() {
		p.Src = filepath.Join(dir, "src")
	}
	for _, b := range []string{"build/bin/bitcoind", "build/src/bitcoind", "src/bitcoind"} {
		if isFile(filepath.Join(dir, b)) {
			p.Binaries = []string{filepath.Join(dir, b)}
			break
		}
	}
	return p
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Load reads each view once and joins them. A doc that cannot be read, a
// tree that cannot be walked or a binary that cannot be read is an error;
// a doc's syntax problems are in the contract's Doc, and the source files
// that could not be scanned are scanErr, for the caller to report.
func Load(p Paths) (c *Contract, scanErr error, err error) {
	in := Input{DocPath: p.Docs}
	if p.Docs != "" {
		doc, err := docs.ParseFile(p.Docs)
		if doc == nil {
			return nil, nil, err
		}
		in.Doc = doc
	}
	if p.Src != "" {
		macros, err := patches.ScanDir(p.Src)
		if macros == nil && err != nil && !isScanProblem(err) {
			return nil, nil, err
		}
		in.Source, scanErr = &Source{Path: p.Src, Macros: macros}, err
	}
	for _, path := range p.Binaries {
		f, err := elf.Open(path)
		if err != nil {
			return nil, nil, err
		}
		in.Binaries = append(in.Binaries, Binary{Path: path, File: f})
	}
	return Join(in), scanErr, nil
}

// isScanProblem tells the errors of files in a tree from the error of a
// tree that cannot be scanned at all (missing, not a directory).
func isScanProblem(err error) bool {
	_, joined := err.(interface{ Unwrap() []error })
	return joined
}

// Warnings say what of the views Load read is incomplete: the doc's syntax
// problems (the first of them), the source files that could not be
// scanned (scanErr, its first line), the binaries without notes.
func (c *Contract) Warnings(scanErr error) []string {
	var ws []string
	if c.Doc != nil && len(c.Doc.Problems) > 0 {
		n, s := len(c.Doc.Problems), "s"
		if n == 1 {
			s = ""
		}
		ws = append(ws, fmt.Sprintf("%s has %d problem%s (usdtkit audit lists them), the first: %v", c.DocPath, n, s, c.Doc.Problems[0]))
	}
	if scanErr != nil {
		first, _, more := strings.Cut(scanErr.Error(), "\n")
		if more {
			first += " (and more)"
		}
		ws = append(ws, first)
	}
	for _, b := range c.Binaries {
		if b.File.Notes == 0 {
			ws = append(ws, b.Path+" has no USDT tracepoints (no .note.stapsdt notes)")
		}
	}
	return ws
}
