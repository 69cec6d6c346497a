// Package trace is the trace session that attach, verify and watch
// share: it picks a binary's tracepoints, reads every argument as the
// tracepoint contract says (package docs/contract), attaches with package
// bpf, starts and follows the traced command or process, and delivers
// typed events and the session's counts.
//
// Its outputs are packages of their own below it: text for people (event
// lines, tables, the summary) and jsonl for programs; metrics serves its
// counts to Prometheus and publish its events to NATS, and export opens
// both for a command (docs/monitoring.md); follow re-attaches on every
// rebuild (watch).
package trace
