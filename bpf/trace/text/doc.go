// Package text writes what a trace session gives for people: one line per
// event, the summary at the end, and the aligned tables (tab-separated
// when not on a terminal) that every command prints.
package text
