// Package patches finds tracepoint macros in C and C++ sources and knows
// where in a file a patch that adds one has to go.
//
// [Scan] and [ScanDir] return every call of TRACEPOINT and
// TRACEPOINT_SEMAPHORE (Bitcoin Core's util/trace.h), of the legacy TRACE to
// TRACE12, and of sys/sdt.h's DTRACE_PROBE, STAP_PROBE (0 to 12) and
// STAP_PROBEV, as a [Macro]: its kind, context and event, the argument
// expressions as written, its position and the #if conditions around it.
// [ScanFile] also returns a [FileInfo] with the file's includes and the lines
// of its semaphores.
//
// [ReadLayout] reads what a patch or a generated file has to follow in one
// tree, as a [Layout]: the generation of tracepoint macros its
// util/trace.h defines (TRACEn, the same wrapped in pragmas, one variadic
// TRACEPOINT, or TRACEPOINT with TRACEPOINT_SEMAPHORE), where its
// configure.ac or CMakeLists.txt builds bitcoind, and what its Python test
// framework defines. [Layout.AddTracepoint] writes a tracepoint in the
// tree's style.
//
// The source is read by a C/C++ tokenizer, not by patterns: calls in
// comments, string and character literals (raw strings included) and in
// #define bodies are not calls, so util/trace.h's own definitions are never
// reported; names that only start like a macro (TRACEPOINT_ACTIVE) or end
// like one (MY_TRACEPOINT) are not either. Arguments are split at top-level
// commas, not at commas nested in parentheses, brackets, braces or template
// argument lists. As a < may or may not open a template argument list, one
// written right after an identifier with no space between is taken to open
// one when a matching > (or >>, closing two) follows before a ; or the end
// of the enclosing group: std::pair<int, int>{1, 2} is one argument,
// a < b, c > d are two, and the rare a<b, c>d is one. Line splices are
// honoured everywhere, as by the compiler; digraphs are not recognised. The
// #if conditions are recorded, not evaluated: calls in #if 0 blocks are
// reported with the condition "0".
//
// # Errors
//
// A file that cannot be read through (an unterminated block comment,
// string, raw string or macro call, or #if blocks nested deeper or holding
// more calls than the limits against hostile input allow) makes the scan of
// that file return a [*SyntaxError] with its file, line and column,
// together with the calls found before it. A call that can be read but is
// ill-formed (TRACE5 with four arguments, a context that is not an
// identifier) is reported as a Macro whose Err is a [*SyntaxError]; it is not
// dropped. TRACE, being a common name for logging macros, is only taken for
// a tracepoint when its first two arguments are identifiers.
//
// [ScanDir] goes on past a file it cannot scan and returns the errors of
// all such files joined, together with the calls in the others.
//
// # Security
//
// Sources are untrusted input, and so are the build files and Python
// modules ReadLayout reads (by lines and patterns; nothing is run). Files
// larger than [MaxFileSize] are not read (the error wraps [ErrTooLarge]);
// ScanDir reads only regular files and does not follow symbolic links. The work and memory a scan takes are bounded by
// the size of the file. The exported functions recover from panics and
// return them as errors, so fuzzing the unexported scanner still sees bugs.
package patches
