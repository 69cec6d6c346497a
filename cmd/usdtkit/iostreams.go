package main

import "io"

// IOStreams are the command's standard streams; tests replace them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal is set when Out is a terminal: tables for people, else
	// tab-separated lines without a header.
	IsTerminal bool
}
