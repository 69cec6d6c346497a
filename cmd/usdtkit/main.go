package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=..."; when
// it was not, main takes it from what the go command recorded.
var version = "dev"

func main() {
	if info, ok := debug.ReadBuildInfo(); ok && version == "dev" {
		version = buildVersion(info)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // the command winds down: detaches, drains, prints its summary
		<-sigs
		fmt.Fprintln(os.Stderr, "usdtkit: interrupted again; exiting now")
		os.Exit(130)
	}()
	io := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTerminal: term.IsTerminal(int(os.Stdout.Fd())) || os.Getenv("USDTKIT_FORCE_TTY") == "1"}
	os.Exit(run(ctx, io, os.Args[1:]))
}

// Exit codes, documented in docs/cli.md.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed, or found what --fail-on asks about
	exitUsage   = 2 // the command line is wrong
)

// run executes one command line and returns the process exit code. It is
// the one place that maps errors to exit codes and prints them: by their
// type, never by their text.
func run(ctx context.Context, io *IOStreams, args []string) int {
	root := newRootCmd(io, args)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(io.ErrOut, "usdtkit: "+ee.msg)
		}
		return ee.code
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintln(io.ErrOut, "usdtkit: "+strings.ReplaceAll(msg, "\n", " "))
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}

// usageError is a bad command line: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, v ...any) error { return &usageError{fmt.Errorf(format, v...)} }

// flagError marks cobra's and pflag's flag errors as usage errors.
func flagError(_ *cobra.Command, err error) error { return &usageError{err} }

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &usageError{err}
		}
		return nil
	}
}

// exitError ends the command with a given code, after output that already
// said what happened (findings, failed checks); msg may be empty.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
