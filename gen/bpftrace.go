package gen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
)

const (
	// BPFtraceMaxArgs is how many arguments bpftrace 0.23 and older read
	// on x86_64: arg0 to arg5 ("x86_64 doesn't support arg6"). bpftrace
	// 0.24 and newer read up to twelve.
	BPFtraceMaxArgs = 6
	// BPFtraceStrlen is bpftrace's default BPFTRACE_STRLEN: a string is
	// read up to 63 characters and a NUL, and buf() up to 64 bytes.
	BPFtraceStrlen = 64
	// BPFtraceMaxStrlen is the largest BPFTRACE_STRLEN bpftrace 0.17
	// accepts.
	BPFtraceMaxStrlen = 200
	// bpftraceStack is how many bytes of the 512-byte BPF stack the str()
	// and buf() values of one printf may take before bpftrace 0.17's
	// program risks "BPF stack limit of 512 bytes is exceeded". Measured:
	// four values at BPFTRACE_STRLEN=90 load, at 100 they do not.
	bpftraceStack = 384
)

// bpftraceLimits are the contract's read limits as bpftrace 0.17 has them.
// A string is read up to BPFTRACE_STRLEN-1 characters, its NUL after them.
var bpftraceLimits = contract.Limits{Strlen: BPFtraceStrlen - 1, BytesCap: BPFtraceMaxStrlen}

// safePath reports whether a bpftrace attach point can hold path unquoted:
// it is not empty and has only ASCII letters, digits and ._/+@~,=-
func safePath(path string) bool {
	if path == "" {
		return false
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._/+@~,=-", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

type btScript struct {
	Header []string
	Probes []btProbe
}

type btProbe struct {
	Comment []string
	Attach  string
	Body    []string
}

// btArg is how a bpftrace printf reads and prints one argument.
type btArg struct {
	conv string // the printf conversion, with quotes for strings
	expr string
	text bool // a str() or buf(): takes BPFTRACE_STRLEN bytes of stack
}

func genBPFtrace(out *Output, m *Model, opts Options) error {
	path := "$1"
	if opts.Path != "" {
		if !safePath(opts.Path) {
			return fmt.Errorf("path %q cannot be written in a bpftrace probe; leave it out and pass it to the script as $1", opts.Path)
		}
		path = opts.Path
	}
	script := opts.Script
	if script == "" {
		script = "SCRIPT.bt"
	}

	// How long strings and buffers are, for BPFTRACE_STRLEN.
	strlen, longest, cut := BPFtraceStrlen, 0, false
	var hasBytes, hasFloat bool
	for _, tp := range m.Tracepoints {
		for _, a := range readable(tp.Args) {
			p := a.Plan(bpftraceLimits)
			switch p.Kind {
			case contract.ReadString:
				if a.Type.MaxLen > 0 {
					longest = max(longest, a.Type.MaxLen)
				}
				strlen = max(strlen, p.MaxLen+1)
			case contract.ReadBytes:
				hasBytes = true
				if p.LenArg < 0 {
					strlen = max(strlen, p.MaxLen)
				}
				cut = cut || p.LenArg >= 0 || a.Type.Size > p.MaxLen
			}
			hasFloat = hasFloat || a.Type.Kind == docs.Float
		}
	}
	tooLong := strlen > BPFtraceMaxStrlen
	strlen = min(strlen, BPFtraceMaxStrlen)

	var s btScript
	env := ""
	if strlen > BPFtraceStrlen {
		env = "BPFTRACE_STRLEN=" + strconv.Itoa(strlen) + " "
	}
	binary := "the binary given as the first parameter"
	if opts.Path != "" {
		binary = commentText(opts.Path)
	}
	h := wrap("  ", commentWidth, fmt.Sprintf("Prints a line for every hit of %s in %s: the tracepoint, then its arguments as name=value.", tracepointList(m.Tracepoints), binary))
	h = append(h, "", "  USAGE:", "")
	pathArg := ""
	if opts.Path == "" {
		pathArg = " PATH"
	}
	h = append(h, usage("    ", [][2]string{
		{env + "bpftrace " + script + pathArg, "every process that runs the binary"},
		{env + "bpftrace -p PID " + script + pathArg, "one process only"},
	})...)
	para := func(text string) { h = append(h, ""); h = append(h, wrap("  ", commentWidth, text)...) }
	if env != "" {
		text := fmt.Sprintf("BPFTRACE_STRLEN=%d: bpftrace reads at most BPFTRACE_STRLEN-1 characters of a string (63 by default) and BPFTRACE_STRLEN bytes of a buffer", strlen)
		if longest > 0 {
			text += fmt.Sprintf(", and the doc gives strings of up to %d characters", longest)
		}
		text += ". bpftrace 0.17 takes at most 200, and every str() and buf() in a printf takes BPFTRACE_STRLEN bytes of the 512-byte BPF stack."
		if tooLong {
			text += " Longer strings and buffers are cut off."
		}
		para(text)
	}
	if sema := semaphores(m.Tracepoints); sema != "" {
		para(sema + " bpftrace lets the kernel enable semaphores (Linux 4.20 or newer), in every process that runs the binary while the script runs.")
	}
	if hasBytes {
		text := `Byte buffers are printed as hex, every byte as \xNN (%rx), in memory order: Bitcoin Core displays hashes the other way round.`
		if cut {
			text += " buf() prints at most BPFTRACE_STRLEN bytes, so longer buffers are cut off."
		}
		para(text)
	}
	if hasFloat {
		para("bpftrace has no floating point: float and double arguments are printed as the hex of their IEEE 754 bits.")
	}
	para(m.generatedBy())
	s.Header = h

	for _, tp := range m.Tracepoints {
		p := btProbe{Attach: path + ":" + tp.ID()}
		p.Comment = commentLines("// ", commentWidth, tp.ID()+": "+or(tp.Description(), undocumented(tp)))
		if len(tp.Args) > 0 {
			p.Comment = append(p.Comment, "//")
		}
		width := 0
		for _, a := range tp.Args {
			width = max(width, len(a.Name))
		}
		for _, a := range tp.Args {
			p.Comment = append(p.Comment, fmt.Sprintf("//   arg%-2d %-*s  %s", a.Index, width, a.Name, commentText(a.Type.String())))
		}
		for _, w := range warnings(tp) {
			p.Comment = append(p.Comment, "//")
			p.Comment = append(p.Comment, commentLines("// ", commentWidth, "Warning: "+w.Message+".")...)
		}
		all := make([]btArg, len(tp.Args))
		for i, a := range tp.Args {
			all[i] = bpftraceArg(tp.Args, a, len(tp.Args))
		}
		n := min(len(all), BPFtraceMaxArgs)
		if n < len(all) {
			part := make([]btArg, n)
			for i := range part {
				part[i] = bpftraceArg(tp.Args, tp.Args[i], n)
			}
			var left []string
			for _, a := range tp.Args[n:] {
				if a.Name == "arg"+strconv.Itoa(a.Index) {
					left = append(left, a.Name)
				} else {
					left = append(left, fmt.Sprintf("%s (arg%d)", a.Name, a.Index))
				}
			}
			msg := fmt.Sprintf("bpftrace 0.23 and older read only arg0 to arg%d on x86_64, so the script leaves out %s", BPFtraceMaxArgs-1, andList(left))
			out.Warnings = append(out.Warnings, Warning{tp.ID(), msg})
			p.Body = append(p.Body, wrap("  // ", commentWidth, msg+". With bpftrace 0.24 or newer, use the printf below instead.")...)
			p.Body = append(p.Body, printfLines(tp, part, "  ")...)
			p.Body = append(p.Body, "", "  // All arguments, for bpftrace 0.24 or newer:")
			p.Body = append(p.Body, printfLines(tp, all, "  // ")...)
			all = part
		} else {
			p.Body = printfLines(tp, all, "  ")
		}
		texts := 0
		for _, a := range all {
			if a.text {
				texts++
			}
		}
		if texts*strlen > bpftraceStack {
			msg := fmt.Sprintf("its printf reads %d strings and buffers of BPFTRACE_STRLEN=%d bytes each, which may not fit the 512-byte BPF stack; leave some out if bpftrace says the stack limit is exceeded", texts, strlen)
			out.Warnings = append(out.Warnings, Warning{tp.ID(), msg})
			p.Comment = append(p.Comment, "//")
			p.Comment = append(p.Comment, wrap("// ", commentWidth, "Note: "+msg+".")...)
		}
		s.Probes = append(s.Probes, p)
	}
	text, err := execute("bpftrace.tmpl", s)
	if err != nil {
		return err
	}
	out.Text = text
	return nil
}

// readable are the arguments bpftrace 0.23 and older can read.
func readable(args []Arg) []Arg { return args[:min(len(args), BPFtraceMaxArgs)] }

// bpftraceArg says how to print argument a, read by its plan, when the
// printf reads the first n arguments.
func bpftraceArg(args []Arg, a Arg, n int) btArg {
	arg := "arg" + strconv.Itoa(a.Index)
	bits := a.Spec.Size * 8
	switch p := a.Plan(bpftraceLimits); p.Kind {
	case contract.ReadString:
		if p.MaxLen == bpftraceLimits.Strlen {
			return btArg{`\"%s\"`, "str(" + arg + ")", true}
		}
		return btArg{`\"%s\"`, fmt.Sprintf("str(%s, %d)", arg, p.MaxLen), true}
	case contract.ReadBytes:
		if p.LenArg >= 0 && p.LenArg < n {
			return btArg{"%rx", fmt.Sprintf("buf(%s, arg%d)", arg, args[p.LenArg].Index), true}
		}
		if p.LenArg >= 0 { // bpftrace 0.23 cannot read the length argument
			return btArg{"%rx", fmt.Sprintf("buf(%s, %d)", arg, contract.UnknownBytes), true}
		}
		return btArg{"%rx", fmt.Sprintf("buf(%s, %d)", arg, p.MaxLen), true}
	}
	switch a.Type.Kind {
	case docs.Int:
		if bits == 64 {
			return btArg{"%ld", "(int64)" + arg, false}
		}
		return btArg{"%d", fmt.Sprintf("(int%d)%s", bits, arg), false}
	case docs.Float, docs.Pointer:
		if bits == 64 {
			return btArg{"0x%lx", arg, false}
		}
		return btArg{"0x%x", fmt.Sprintf("(uint%d)%s", bits, arg), false}
	}
	// Uint and Bool.
	if bits == 64 {
		return btArg{"%lu", arg, false}
	}
	return btArg{"%u", fmt.Sprintf("(uint%d)%s", bits, arg), false}
}

// printfLines writes the printf that prints a hit, each line prefixed.
// bpftrace 0.17 hands %d and %u to printf as 32-bit conversions, so 64-bit
// values take %ld and %lu.
func printfLines(tp *Tracepoint, args []btArg, prefix string) []string {
	format := tp.ID()
	for i, a := range args {
		format += " " + tp.Args[i].Name + "=" + a.conv
	}
	if len(args) == 0 {
		return []string{prefix + `printf("` + format + `\n");`}
	}
	lines := []string{prefix + `printf("` + format + `\n",`}
	for i, a := range args {
		end := ","
		if i == len(args)-1 {
			end = ");"
		}
		lines = append(lines, prefix+"       "+a.expr+end)
	}
	return lines
}

func or(s, alt string) string {
	if strings.TrimSpace(s) == "" {
		return alt
	}
	return s
}
