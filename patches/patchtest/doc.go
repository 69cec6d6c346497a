// Package patchtest holds small source trees in the shape of Bitcoin Core's,
// one per generation of its tracepoint macros, and the checks that what
// usdtkit writes into them builds and fits them: a C++ compile against the
// tree's util/trace.h, and a test skeleton's imports and self.* uses
// against the tree's Python test framework.
package patchtest
