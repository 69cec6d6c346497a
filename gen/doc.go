// Package gen writes bpftrace, bcc and Go programs, tracing doc entries
// and functional-test skeletons for USDT tracepoints, from their contract
// (package docs/contract: the doc, the source and the binary joined by
// context:event).
//
// [NewModel] takes the contract's tracepoints that match the patterns, each
// with its arguments named, typed and read as the contract says, and gives
// every tracepoint names unique in the output. [Generate] renders a model in
// one [Lang]; [Model.FileName] names the file one tracepoint goes to and
// [WriteFiles] writes one file each. [Scaffold] is the patch that adds a
// new tracepoint to a source tree: the call in the tree's style (package
// patches), its doc entry, its bpftrace example and its test skeleton.
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
// or string delimiters removed. [NewModel] leaves out, with a warning,
// tracepoints whose context or event is not a C identifier, and [Generate]
// rejects a path that a bpftrace probe or a Python string cannot hold.
package gen
