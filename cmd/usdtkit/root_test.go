package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func subcommandNames() []string {
	var names []string
	for _, c := range subcommands {
		names = append(names, c.name)
	}
	return names
}

func TestSubcommandNames(t *testing.T) {
	s := &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	for _, c := range subcommands {
		if got := c.new(s).Name(); got != c.name {
			t.Errorf("subcommand listed as %q is named %q", c.name, got)
		}
	}
}

// TestRootBuildsNamedSubcommand checks which subcommands a command line
// builds: only the one it names first, else all of them.
func TestRootBuildsNamedSubcommand(t *testing.T) {
	s := &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	all := subcommandNames()
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"list", "--json", "x"}, []string{"list"}},
		{[]string{"attach", "x", "--", "y"}, []string{"attach"}},
		{[]string{"scaffold"}, []string{"scaffold"}},
		{nil, all},
		{[]string{"--version"}, all},
		{[]string{"help", "list"}, all},
		{[]string{"completion", "bash"}, all},
		{[]string{"__complete", "li"}, all},
		{[]string{"lst"}, all},
		{[]string{"x", "list"}, all},
	} {
		root := newRootCmd(s, c.args)
		var got []string
		for _, sub := range root.Commands() {
			got = append(got, sub.Name())
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("%q builds %v, want %v", c.args, got, want)
		}
		if one := len(c.want) == 1; root.CompletionOptions.DisableDefaultCmd != one {
			t.Errorf("%q: completion command disabled %v, want %v", c.args, root.CompletionOptions.DisableDefaultCmd, one)
		}
	}
}

// TestRootHelpAndSuggestions checks what needs every subcommand: the
// root's help lists them all, a misspelt one is suggested, and shell
// completion works.
func TestRootHelpAndSuggestions(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}} {
		out, errOut, code := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errOut)
		}
		for _, name := range subcommandNames() {
			if !strings.Contains(out, "\n  "+name+" ") {
				t.Errorf("%q does not list %s:\n%s", args, name, out)
			}
		}
	}
	_, errOut, code := runCmd(t, "lst")
	if code != 2 || !strings.Contains(errOut, "did you mean list?") || !strings.Contains(errOut, "list") {
		t.Errorf("usdtkit lst: exit %d, %q; want 2 and a suggestion of list", code, errOut)
	}
	out, errOut, code := runCmd(t, "list", "--help")
	if code != 0 || !strings.Contains(out, "usdtkit list") {
		t.Errorf("usdtkit list --help: exit %d, %q %q", code, out, errOut)
	}
	out, errOut, code = runCmd(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "bash completion") {
		t.Errorf("usdtkit completion bash: exit %d, %.100q %q", code, out, errOut)
	}
	out, errOut, code = runCmd(t, "__complete", "li")
	if code != 0 || !strings.Contains(out, "list") {
		t.Errorf("usdtkit __complete li: exit %d, %q %q", code, out, errOut)
	}
}
