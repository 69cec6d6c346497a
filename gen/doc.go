// Package gen writes bpftrace and bcc programs, tracing doc entries and
// functional-test skeletons for USDT tracepoints, from the tracing docs and
// the binary joined by context:event.
//
// [Join] builds the [Model]: one [Tracepoint] per context:event that the doc,
// the binary or both have, each with its arguments named after their
// documented descriptions, typed by the doc ([docs.Type]) and sized by the
// binary's argument specs ([docs.Spec]) where the two are known. [Generate]
// renders a model in one [Lang]; [FileName] names the file one tracepoint
// goes to.
//
// [Options.Layout] is the source tree the output is for (package patches
// reads it from the tree's own files): a test skeleton imports and calls
// only what that tree's test framework defines, and makes the checks it
// lacks itself; without a path, the programs attach to the binary where
// the tree builds it.
//
// Everything the output cannot do is a [Warning] rather than an error:
// bpftrace 0.23 and older cannot read a seventh argument, a doc and a
// binary may disagree. The output is still written, with the limit said in
// a comment where it applies.
//
// # Security
//
// Docs and binaries are untrusted input, and what they contain ends up in
// programs that run as root. Names in the output code are identifiers
// derived from the descriptions, never the descriptions themselves;
// descriptions go only into line comments, with line breaks and comment
// or string delimiters removed. [Join] leaves out, with a warning,
// tracepoints whose context or event is not a C identifier, and [Generate]
// rejects a path that a bpftrace probe or a Python string cannot hold.
package gen
