package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	io := &IOStreams{
		In:         os.Stdin,
		Out:        os.Stdout,
		ErrOut:     os.Stderr,
		IsTerminal: term.IsTerminal(int(os.Stdout.Fd())) || os.Getenv("USDTKIT_FORCE_TTY") == "1",
	}
	os.Exit(run(ctx, io, os.Args[1:]))
}

// run executes one command line and returns the process exit code. It is the
// one place that maps errors to exit codes and prints them.
func run(ctx context.Context, io *IOStreams, args []string) int {
	root := newRootCmd(io, args)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
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
	if errors.As(err, &ue) || isCobraUsageError(msg) {
		return 2
	}
	return 1
}

// usageError is a bad command line: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, v ...any) error { return &usageError{fmt.Errorf(format, v...)} }

// exitError ends the command with a given code, after output that already
// said what happened (findings, failed checks); msg may be empty.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// isCobraUsageError recognises cobra's and pflag's own argument errors,
// which come as plain errors.
func isCobraUsageError(msg string) bool {
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "bad flag syntax", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
