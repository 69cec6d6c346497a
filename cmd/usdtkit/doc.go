// Command usdtkit lists, audits, generates stubs for and traces USDT
// tracepoints in C/C++ programs, with Bitcoin Core's bitcoind as the
// first-class target.
//
// This package holds only the cobra commands: flags, wiring and output. The
// domain logic lives in the elf, docs, patches, gen and bpf packages.
//
// # Exit codes
//
//	0  success
//	1  an error, or findings at or above --fail-on (audit), or failed checks (verify)
//	2  usage error: bad flags, arguments or patterns
package main
