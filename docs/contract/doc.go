// Package contract joins the three views of a program's tracepoints, the
// tracing doc, the TRACEPOINT(...) calls in the source and the binary's
// stapsdt notes, into one contract per context:event.
//
// It is the only place where the views meet, and the only place that
// holds the rules every command shares: how an argument is named in
// generated code and on the command line ([Arg.Name]), which argument
// holds the length of a byte buffer ([Arg.LenArg]), which type a spec or
// a source expression gives an argument the doc does not type, how a
// documented type is read and shown ([Arg.Plan]), and how a new doc entry
// is written ([Entry]). audit checks a [Contract], gen renders it,
// scaffold and audit --fix write doc entries through it, and the trace
// session reads every argument by it.
//
// [Load] reads the views named by [Paths] (each once) and joins them;
// [Discover] names those of a Bitcoin Core checkout.
//
// [Join] never fails on disagreeing views: it records the decisions it had
// to make in [Tracepoint.Notes] and leaves the judging to its callers.
package contract
