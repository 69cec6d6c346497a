package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/usdtkit/usdtkit/docs/audit"
	"github.com/usdtkit/usdtkit/patches"
)

// scanSources scans a source tree for tracepoint macros and gives them to
// the audit as its source view. Calls the scanner could not read become
// source-syntax findings; a tree that cannot be walked is an error.
func scanSources(root string) ([]audit.Source, []audit.Finding, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("scan %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("scan %s: not a directory", root)
	}
	// A root given as a symbolic link is followed; links inside the tree are not.
	walk := root
	if real, err := filepath.EvalSymlinks(root); err == nil {
		walk = real
	}
	macros, err := patches.ScanDir(walk)
	var problems []audit.Finding
	for _, e := range flatten(err) {
		f := audit.Finding{Kind: audit.SourceSyntax, Severity: audit.Error, Message: e.Error(),
			Fix: "fix the source so it compiles; the scanner reads C and C++ as the compiler does"}
		var se *patches.SyntaxError
		if errors.As(e, &se) {
			f.File, f.Line, f.Message = se.File, se.Line, se.Msg
		}
		problems = append(problems, f)
	}
	var srcs []audit.Source
	for _, m := range macros {
		file := m.File
		if walk != root {
			if rel, err := filepath.Rel(walk, m.File); err == nil {
				file = filepath.Join(root, rel)
			}
		}
		if m.Err != nil {
			f := audit.Finding{Kind: audit.SourceSyntax, Severity: audit.Error, Tracepoint: m.ID(), File: m.File, Line: m.Line,
				Message: m.Err.Error(), Fix: "make the call match its macro"}
			var se *patches.SyntaxError
			if errors.As(m.Err, &se) {
				f.Message = se.Msg
			}
			problems = append(problems, f)
		}
		s := audit.Source{Macro: m.Name, Context: m.Context, Event: m.Event, File: file, Line: m.Line, Args: m.Args, Cond: m.Condition()}
		if m.Kind == patches.Semaphore {
			s.Kind = audit.SourceSemaphore
		}
		srcs = append(srcs, s)
	}
	return srcs, problems, nil
}

// flatten unwraps errors.Join.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
