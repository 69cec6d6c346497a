package main

import (
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/patches"
)

// views are the inputs a command is given: a tracing doc, a source tree,
// binaries. load reads each of them once and joins them.
type views struct {
	Docs     string
	Src      string
	Binaries []string
}

// load reads and joins the views. A doc that cannot be read, a tree that
// cannot be walked or a binary that cannot be read is an error; a doc's
// syntax problems are in the contract's Doc, and the source files that
// could not be scanned are scanErr, for the command to report.
func (v views) load() (c *contract.Contract, scanErr error, err error) {
	in := contract.Input{DocPath: v.Docs}
	if v.Docs != "" {
		doc, err := docs.ParseFile(v.Docs)
		if doc == nil {
			return nil, nil, err
		}
		in.Doc = doc
	}
	if v.Src != "" {
		macros, err := patches.ScanDir(v.Src)
		if macros == nil && err != nil && !isScanProblem(err) {
			return nil, nil, err
		}
		in.Source, scanErr = &contract.Source{Path: v.Src, Macros: macros}, err
	}
	for _, p := range v.Binaries {
		f, err := elf.Open(p)
		if err != nil {
			return nil, nil, err
		}
		in.Binaries = append(in.Binaries, contract.Binary{Path: p, File: f})
	}
	return contract.Join(in), scanErr, nil
}

// isScanProblem tells the errors of files in a tree from the error of a
// tree that cannot be scanned at all (missing, not a directory).
func isScanProblem(err error) bool {
	_, joined := err.(interface{ Unwrap() []error })
	return joined
}
