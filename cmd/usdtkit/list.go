package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/usdtkit/usdtkit/elf"
)

type listOptions struct {
	IO       *IOStreams
	PID      int
	JSON     bool
	Verbose  bool
	Targets  []string
	Patterns []string
}

func newListCmd(io *IOStreams, runF func(context.Context, *listOptions) error) *cobra.Command {
	opts := &listOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "list [flags] TARGET... [PATTERN...]",
		Short: "List the tracepoints of binaries, libraries or a process",
		Long: `List the USDT tracepoints (SystemTap SDT notes) of ELF binaries and shared
libraries, or of a running process (-p PID: its executable and every mapped
library with notes, with each semaphore's current value).

Each tracepoint is shown with its call sites, its semaphore and its decoded
arguments. TARGETs are files; the arguments after the first one that is not
a file are PATTERNs: globs over provider:name ('net:*'), or over the name
alone when they have no ':'.

On a terminal the output is a table; piped, it is tab-separated without a
header; --json prints the documented JSON schema (docs/list.md).`,
		Example: `  usdtkit list build/bin/bitcoind
  usdtkit list build/bin/bitcoind 'net:*' -v
  usdtkit list -p $(pidof bitcoind) --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.classify(args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runList(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVarP(&opts.PID, "pid", "p", 0, "list the tracepoints of a running process")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON (schema in docs/list.md)")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "add a row per call site with its raw spec and file offsets")
	return cmd
}

// classify splits the positional arguments into targets and patterns.
func (o *listOptions) classify(args []string) error {
	i := 0
	for ; i < len(args); i++ {
		if _, err := os.Stat(args[i]); err != nil {
			break
		}
		o.Targets = append(o.Targets, args[i])
	}
	o.Patterns = args[i:]
	if len(o.Targets) == 0 && o.PID == 0 {
		if len(args) == 0 {
			return usagef("list needs a TARGET file or -p PID")
		}
		return fmt.Errorf("open %s: %w", args[0], fs.ErrNotExist)
	}
	for _, p := range o.Patterns {
		if strings.Contains(p, "/") {
			return fmt.Errorf("open %s: %w", p, fs.ErrNotExist)
		}
		if err := elf.CheckPattern(p); err != nil {
			return &usageError{err}
		}
	}
	if o.PID < 0 {
		return usagef("bad pid %d", o.PID)
	}
	return nil
}

// listed is one file's tracepoints, with semaphore values when it is mapped
// into a process.
type listed struct {
	file   *elf.File
	obj    *elf.Object // nil for a file named on the command line
	probes []*elf.Probe
}

func runList(ctx context.Context, opts *listOptions) error {
	var files []listed
	for _, path := range opts.Targets {
		f, err := elf.Open(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if f.Notes == 0 {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: %s has no USDT tracepoints (no .note.stapsdt notes)\n", path)
		}
		files = append(files, listed{file: f})
	}
	if opts.PID != 0 {
		objs, err := elf.ProcessObjects(opts.PID)
		if err != nil {
			return err
		}
		found := false
		for _, o := range objs {
			f, err := elf.Open(o.OpenPath())
			if err != nil {
				if !errors.Is(err, elf.ErrNotELF) {
					fmt.Fprintf(opts.IO.ErrOut, "usdtkit: skipping %s: %v\n", o.Path, err)
				}
				continue
			}
			if f.Notes == 0 {
				continue
			}
			f.Path = o.Path
			files = append(files, listed{file: f, obj: o})
			found = true
		}
		if !found {
			fmt.Fprintf(opts.IO.ErrOut, "usdtkit: process %d maps no file with USDT tracepoints\n", opts.PID)
		}
	}
	matched := 0
	for i := range files {
		for j := range files[i].file.Probes {
			p := &files[i].file.Probes[j]
			if p.Match(opts.Patterns...) {
				files[i].probes = append(files[i].probes, p)
				matched++
			}
		}
	}
	if matched == 0 && len(opts.Patterns) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "usdtkit: no tracepoint matches %s\n", strings.Join(opts.Patterns, " "))
	}
	if opts.JSON {
		return printListJSON(opts.IO, files)
	}
	return printListTable(opts, files)
}

func printListTable(opts *listOptions, files []listed) error {
	multi := len(files) > 1
	header := []string{"tracepoint", "sites", "semaphore", "arguments"}
	if multi {
		header = append([]string{"file"}, header...)
	}
	t := newTablePrinter(opts.IO, header...)
	undecoded := 0
	for _, l := range files {
		for _, p := range l.probes {
			row := []string{p.ID(), strconv.Itoa(len(p.CallSites)), semaphoreText(l, p), argsSummary(p)}
			if multi {
				row = append([]string{l.file.Path}, row...)
			}
			t.Add(row...)
			for i := range p.CallSites {
				cs := &p.CallSites[i]
				undecoded += len(cs.ArgErrors())
				if !opts.Verbose {
					continue
				}
				off := "-"
				if cs.Err == nil {
					off = fmt.Sprintf("off %#x", cs.FileOffset)
				}
				spec := cs.ArgsRaw
				for _, err := range cs.ArgErrors() {
					spec += " [" + err.Error() + "]"
				}
				if cs.Err != nil {
					spec += " [" + cs.Err.Error() + "]"
				}
				row := []string{fmt.Sprintf("  site %d", i), fmt.Sprintf("%#x", cs.Address), off, spec}
				if multi {
					row = append([]string{""}, row...)
				}
				t.Add(row...)
			}
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if undecoded > 0 && !opts.Verbose {
		fmt.Fprintf(opts.IO.ErrOut, "usdtkit: %d argument specs could not be decoded; -v says why\n", undecoded)
	}
	return nil
}

func semaphoreText(l listed, p *elf.Probe) string {
	s := p.Semaphore
	if s == nil {
		return "-"
	}
	text := fmt.Sprintf("%#x", s.Address)
	if l.obj != nil {
		if v, err := l.obj.ReadSemaphore(s); err == nil {
			text += fmt.Sprintf(" = %d", v)
		} else {
			text += " = ?"
		}
	}
	return text
}

// argsSummary describes a tracepoint's arguments: decoded specs when every
// call site has the same ones, else the types with a pointer to -v.
func argsSummary(p *elf.Probe) string {
	first := p.CallSites[0].Args
	same := true
	for _, cs := range p.CallSites[1:] {
		if cs.ArgsRaw != p.CallSites[0].ArgsRaw {
			same = false
		}
	}
	parts := make([]string, len(first))
	for i := range first {
		if same {
			parts[i] = first[i].String()
		} else {
			parts[i] = first[i].Type()
		}
	}
	s := strings.Join(parts, ", ")
	if !same {
		s += " (specs differ by site: -v)"
	}
	return s
}

// The JSON schema of list; documented in docs/list.md.
type jsonTracepoint struct {
	File      string         `json:"file"`
	Provider  string         `json:"provider"`
	Name      string         `json:"name"`
	Semaphore *jsonSemaphore `json:"semaphore"`
	CallSites []jsonCallSite `json:"call_sites"`
	Warnings  []string       `json:"warnings"`
}

type jsonSemaphore struct {
	Address    uint64  `json:"address"`
	FileOffset *uint64 `json:"file_offset"`
	Value      *uint16 `json:"value,omitempty"`
	Error      *string `json:"error"`
}

type jsonCallSite struct {
	Location   uint64    `json:"location"`
	Base       uint64    `json:"base"`
	Address    uint64    `json:"address"`
	FileOffset *uint64   `json:"file_offset"`
	ArgsRaw    string    `json:"args_raw"`
	Args       []jsonArg `json:"args"`
	Error      *string   `json:"error"`
}

type jsonArg struct {
	Index    int           `json:"index"`
	Raw      string        `json:"raw"`
	Type     string        `json:"type"`
	Size     int           `json:"size"`
	Signed   bool          `json:"signed"`
	Float    bool          `json:"float"`
	Location *jsonLocation `json:"location"`
	Error    *string       `json:"error"`
}

type jsonLocation struct {
	Kind          string        `json:"kind"`
	Text          string        `json:"text"`
	Register      *jsonRegister `json:"register"`
	Base          *jsonRegister `json:"base"`
	Index         *jsonRegister `json:"index"`
	Scale         int           `json:"scale"`
	Offset        int64         `json:"offset"`
	Symbol        *string       `json:"symbol"`
	SymbolAddress *uint64       `json:"symbol_address"`
	Absolute      bool          `json:"absolute"`
	Value         *int64        `json:"value"`
}

type jsonRegister struct {
	Name      string `json:"name"`
	Canonical string `json:"canonical"`
	Size      int    `json:"size"`
	Shift     int    `json:"shift"`
	Vector    bool   `json:"vector"`
}

func toJSONRegister(r elf.Register) *jsonRegister {
	if r.IsZero() {
		return nil
	}
	return &jsonRegister{Name: r.Name, Canonical: r.Canonical, Size: r.Size, Shift: r.Shift, Vector: r.Vector}
}

func errText(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

func printListJSON(streams *IOStreams, files []listed) error {
	out := listJSON(files)
	return writeJSONArray(streams.Out, len(out), func(b []byte, i int) []byte { return out[i].appendJSON(b) })
}

// listJSON is the --json output of the listed files' matched tracepoints.
func listJSON(files []listed) []jsonTracepoint {
	out := []jsonTracepoint{}
	for _, l := range files {
		for _, p := range l.probes {
			jt := jsonTracepoint{File: l.file.Path, Provider: p.Provider, Name: p.Name, CallSites: []jsonCallSite{}, Warnings: p.Warnings}
			if jt.Warnings == nil {
				jt.Warnings = []string{}
			}
			if s := p.Semaphore; s != nil {
				js := &jsonSemaphore{Address: s.Address, Error: errText(s.Err)}
				if s.Err == nil {
					off := s.FileOffset
					js.FileOffset = &off
				}
				if l.obj != nil {
					if v, err := l.obj.ReadSemaphore(s); err == nil {
						js.Value = &v
					} else {
						js.Error = errText(err)
					}
				}
				jt.Semaphore = js
			}
			for _, cs := range p.CallSites {
				jc := jsonCallSite{Location: cs.Location, Base: cs.Base, Address: cs.Address, ArgsRaw: cs.ArgsRaw, Args: []jsonArg{}, Error: errText(cs.Err)}
				if cs.Err == nil {
					off := cs.FileOffset
					jc.FileOffset = &off
				}
				for _, a := range cs.Args {
					jc.Args = append(jc.Args, toJSONArg(a))
				}
				jt.CallSites = append(jt.CallSites, jc)
			}
			out = append(out, jt)
		}
	}
	return out
}

// writeJSONArray writes a JSON array with one compact element per line,
// each appended by elem: cheap to produce, and easy to grep as well as to
// parse. It writes in chunks of about jsonChunk bytes through one buffer,
// which a large output does not grow.
func writeJSONArray(w io.Writer, n int, elem func(b []byte, i int) []byte) error {
	b := make([]byte, 0, jsonChunk+jsonChunk/2)
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = elem(b, i)
		if len(b) >= jsonChunk {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if n > 0 {
		b = append(b, '\n')
	}
	b = append(b, "]\n"...)
	_, err := w.Write(b)
	return err
}

const jsonChunk = 16 << 10

func toJSONArg(a elf.Arg) jsonArg {
	ja := jsonArg{Index: a.Index, Raw: a.Raw, Type: a.Type(), Size: a.Size, Signed: a.Signed, Float: a.Float, Error: errText(a.Err)}
	l := a.Loc
	if l.Kind == elf.LocInvalid {
		return ja
	}
	jl := &jsonLocation{Kind: l.Kind.String(), Text: l.String(), Register: toJSONRegister(l.Reg), Base: toJSONRegister(l.Base),
		Index: toJSONRegister(l.Index), Offset: l.Offset, Absolute: l.Absolute}
	if !l.Index.IsZero() {
		jl.Scale = l.Scale
	}
	if l.Symbol != "" {
		sym := l.Symbol
		jl.Symbol = &sym
		if a.Err == nil {
			v := l.SymbolAddr
			jl.SymbolAddress = &v
		}
	}
	if l.Kind == elf.LocConstant {
		v := l.Value
		jl.Value = &v
	}
	ja.Location = jl
	return ja
}
