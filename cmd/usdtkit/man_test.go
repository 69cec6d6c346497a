package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// The man pages are made by this test, so that the library that writes
// them is not linked into usdtkit, whose start-up it would slow: make dist
// runs it with -man DIR.
var manDir = flag.String("man", "", "TestManPages writes the man pages into this directory")

// TestManPages writes a man page for every command, from the command tree
// itself, and checks that each command has its page. The date on the
// pages is SOURCE_DATE_EPOCH's when set.
func TestManPages(t *testing.T) {
	dir := *manDir
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, nil)
	// What executing the root command would add.
	root.InitDefaultVersionFlag()
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	indented := map[*cobra.Command]bool{}
	var verbatim func(c *cobra.Command)
	verbatim = func(c *cobra.Command) {
		indented[c] = strings.Contains(c.Long, "\n  ")
		c.Long = manVerbatim(c.Long)
		for _, sub := range c.Commands() {
			verbatim(sub)
		}
	}
	verbatim(root)
	hdr := &doc.GenManHeader{Section: "1", Source: "usdtkit " + version, Manual: "usdtkit manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		t.Fatalf("write man pages: %v", err)
	}
	var walk func(c *cobra.Command)
	pages := 0
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root {
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		data, err := os.ReadFile(filepath.Join(dir, name+".1"))
		if err != nil {
			t.Errorf("no man page for %s: %v", c.CommandPath(), err)
			return
		}
		page := string(data)
		title := strings.ToUpper(name)
		if !strings.HasPrefix(page, ".nh\n.TH \""+title+"\" \"1\"") || !strings.Contains(page, "usdtkit "+version) {
			t.Errorf("%s.1 starts %q", name, page[:min(len(page), 80)])
		}
		if indented[c] && !strings.Contains(page, "\n.EX\n") {
			t.Errorf("%s.1: the indented lines of the help are not kept as they are", name)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && !strings.Contains(page, `\fB--`+f.Name+`\fP`) {
				t.Errorf("%s.1 does not list --%s", name, f.Name)
			}
		})
		pages++
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, want := range []string{"list", "audit", "gen", "attach", "verify", "watch", "scaffold", "completion"} {
		if _, err := os.Stat(filepath.Join(dir, "usdtkit-"+want+".1")); err != nil {
			t.Errorf("no man page for usdtkit %s", want)
		}
	}
	t.Logf("%d man pages in %s", pages, dir)
}

// manVerbatim makes the indented blocks of a command's help (tables of
// choices, the files a patch touches) verbatim blocks of the markdown the
// man pages are made from, which would otherwise run their lines together.
func manVerbatim(long string) string {
	var out []string
	indented := false
	for _, line := range strings.Split(long, "\n") {
		in := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
		if in != indented && line != "" && len(out) > 0 && out[len(out)-1] != "" {
			out = append(out, "")
		}
		if in {
			line = "    " + line
		}
		if line != "" {
			indented = in
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
