package gen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
)

const (
	// BytesCap is how many bytes a bcc program copies at most of a byte
	// buffer whose length another argument gives, such as a P2P message.
	// The event is built on the 512-byte BPF stack.
	BytesCap = 128
	// StringCap is how many bytes a bcc program reads of a string whose
	// maximum length the doc does not give, its NUL included.
	StringCap = 64
	// bccStack is the largest event a bcc program builds on the stack
	// without a warning.
	bccStack = 400
)

// bccLimits are the contract's read limits as bcc's stack allows them.
var bccLimits = contract.Limits{Strlen: StringCap - 1, BytesCap: BytesCap}

// cEvent is one tracepoint's C structure and function and its ctypes
// counterpart.
type cEvent struct {
	ID     string // net:inbound_message
	Number int    // 1-based, the tag of the bcc script's events
	Struct string // net_inbound_message
	Func   string // trace_net_inbound_message
	Class  string // NetInboundMessage
	Const  string // NET_INBOUND_MESSAGE
	Output string // the perf output of a test program
	// Comment describes the tracepoint, C comment lines.
	Comment []string
	// Fields are the C structure's fields, aligned.
	Fields []string
	// Init initializes the structure.
	Init string
	// Locals declares the pointer-sized locals that pointers are read into.
	Locals string
	// Reads are the statements that fill the structure.
	Reads []string
	// Submit sends the structure to user space.
	Submit string
	// PyFields are the ctypes _fields_ entries.
	PyFields []string
	// PyText are the f-strings that print each argument as name=value.
	PyText []string
	// PyValues are the Python values of the arguments, for a test.
	PyValues []string
	// Names are the argument names in order.
	Names []string
	// Size is the structure's size in bytes, padding included.
	Size int
	// NeedsMin is set when the C code uses USDTKIT_MIN.
	NeedsMin bool
}

// cScalar is the C and ctypes type of an integer, bool or float argument
// read by its spec: bcc's bpf_usdt_readarg reads into a destination only
// when it has the spec's size.
func cScalar(a Arg) (ctype, pytype string, size int) {
	s := a.Spec
	bits := strconv.Itoa(s.Size * 8)
	switch {
	case a.Type.Kind == docs.Bool && s.Size == 1 && !s.Signed:
		return "bool", "ctypes.c_bool", 1
	case s.Float && s.Size == 4:
		return "u32", "ctypes.c_float", 4 // the bits, which ctypes reads as a float
	case s.Float && s.Size == 8:
		return "u64", "ctypes.c_double", 8
	case s.Signed:
		return "s" + bits, "ctypes.c_int" + bits, s.Size
	}
	return "u" + bits, "ctypes.c_uint" + bits, s.Size
}

// bccEvent builds the C and Python code of one tracepoint. number tags
// the events of a bcc script (0 for none); output names the perf output
// of a test program ("" for the script's ring buffer); base is the
// tracepoint's name in the output's identifiers.
func bccEvent(out *Output, tp *Tracepoint, base string, number int, output string) cEvent {
	ev := cEvent{
		ID:     tp.ID(),
		Number: number,
		Struct: base,
		Func:   "trace_" + base,
		Class:  camel(base),
		Const:  strings.ToUpper(base),
		Output: output,
	}
	ev.Comment = commentLines("// ", commentWidth, tp.ID()+": "+or(tp.Description(), undocumented(tp)))
	for _, w := range warnings(tp) {
		ev.Comment = append(ev.Comment, commentLines("// ", commentWidth, "Warning: "+w.Message+".")...)
	}
	type field struct{ ctype, name, array string }
	var fields []field
	offset, align := 0, 1
	addField := func(ctype, name string, n, size int) {
		if n > 0 {
			fields = append(fields, field{ctype, name, "[" + strconv.Itoa(n) + "]"})
		} else {
			fields = append(fields, field{ctype, name, ""})
			n = 1
		}
		offset = (offset+size-1)/size*size + size*n
		align = max(align, size)
	}
	if number > 0 {
		addField("u32", "tracepoint", 0, 4)
		ev.PyFields = append(ev.PyFields, `("tracepoint", ctypes.c_uint32),`)
		ev.Init = "{.tracepoint = " + strconv.Itoa(number) + "}"
		ev.Submit = "events.ringbuf_output(&e, sizeof(e), 0);"
	} else {
		ev.Init = "{}"
		ev.Submit = output + ".perf_submit(ctx, &e, sizeof(e));"
	}
	var locals, later []string
	pointer := func(a Arg) string {
		p := "p" + strconv.Itoa(a.Index)
		locals = append(locals, p+" = 0")
		ev.Reads = append(ev.Reads, fmt.Sprintf("bpf_usdt_readarg(%d, ctx, &%s);", a.Index+1, p))
		if a.Spec.Size < 8 {
			return "(void *)(long)" + p
		}
		return "(void *)" + p
	}
	for _, a := range tp.Args {
		ev.Names = append(ev.Names, a.Name)
		plan := a.Plan(bccLimits)
		switch plan.Kind {
		case contract.ReadString:
			n := plan.MaxLen + 1 // the NUL
			addField("char", a.Name, n, 1)
			ev.PyFields = append(ev.PyFields, fmt.Sprintf("(%q, ctypes.c_char * %d),", a.Name, n))
			p := pointer(a)
			ev.Reads = append(ev.Reads, fmt.Sprintf("bpf_probe_read_user_str(&e.%s, sizeof(e.%s), %s);", a.Name, a.Name, p))
			value := fmt.Sprintf("self.%s.decode(\"utf-8\", \"replace\")", a.Name)
			ev.PyText = append(ev.PyText, fmt.Sprintf(`f'%s="{%s}"',`, a.Name, value))
			ev.PyValues = append(ev.PyValues, value)
		case contract.ReadBytes:
			n, length := plan.MaxLen, ""
			if plan.LenArg >= 0 {
				length = tp.Args[plan.LenArg].Name
			}
			addField("u8", a.Name, n, 1)
			ev.PyFields = append(ev.PyFields, fmt.Sprintf("(%q, ctypes.c_ubyte * %d),", a.Name, n))
			p := pointer(a)
			value := fmt.Sprintf("bytes(self.%s)", a.Name)
			if length == "" {
				ev.Reads = append(ev.Reads, fmt.Sprintf("bpf_probe_read_user(&e.%s, sizeof(e.%s), %s);", a.Name, a.Name, p))
			} else {
				// The length may come later in the argument list, so the
				// bytes are copied once every argument has been read.
				later = append(later, fmt.Sprintf("bpf_probe_read_user(&e.%s, USDTKIT_MIN(e.%s, sizeof(e.%s)), %s);", a.Name, length, a.Name, p))
				value = fmt.Sprintf("bytes(self.%s[:max(0, min(self.%s, %d))])", a.Name, length, n)
			}
			shown := value
			if plan.Reversed { // a hash: shown as Bitcoin Core (and usdtkit attach) shows it
				shown += "[::-1]"
			}
			ev.PyText = append(ev.PyText, fmt.Sprintf(`f"%s={%s.hex()}",`, a.Name, shown))
			ev.PyValues = append(ev.PyValues, value)
		default:
			ctype, pytype, size := cScalar(a)
			if a.Type.Kind == docs.Pointer {
				ctype, pytype = "u"+strconv.Itoa(size*8), "ctypes.c_uint"+strconv.Itoa(size*8)
			}
			addField(ctype, a.Name, 0, size)
			ev.PyFields = append(ev.PyFields, fmt.Sprintf("(%q, %s),", a.Name, pytype))
			ev.Reads = append(ev.Reads, fmt.Sprintf("bpf_usdt_readarg(%d, ctx, &e.%s);", a.Index+1, a.Name))
			value := "self." + a.Name
			text := fmt.Sprintf(`f"%s={self.%s}",`, a.Name, a.Name)
			switch a.Type.Kind {
			case docs.Bool:
				text = fmt.Sprintf(`f"%s={int(self.%s)}",`, a.Name, a.Name)
			case docs.Pointer:
				text = fmt.Sprintf(`f"%s=0x{self.%s:x}",`, a.Name, a.Name)
			}
			ev.PyText = append(ev.PyText, text)
			ev.PyValues = append(ev.PyValues, value)
		}
	}
	ev.Reads = append(ev.Reads, later...)
	ev.NeedsMin = len(later) > 0
	if len(locals) > 0 {
		ev.Locals = "u64 " + strings.Join(locals, ", ") + ";"
	}
	ev.Size = (offset + align - 1) / align * align
	width := 0
	for _, f := range fields {
		width = max(width, len(f.ctype))
	}
	for _, f := range fields {
		ev.Fields = append(ev.Fields, fmt.Sprintf("%-*s %s%s;", width+3, f.ctype, f.name, f.array))
	}
	if ev.Size > bccStack {
		out.Warnings = append(out.Warnings, Warning{tp.ID(), fmt.Sprintf("its event takes %d bytes of the 512-byte BPF stack; if the program does not load, lower the lengths of its strings and buffers", ev.Size)})
	}
	return ev
}

type bccScript struct {
	Doc      []string
	Usage    []string
	Notes    []string
	Path     string // a Python literal, or None
	Events   []cEvent
	Sources  []string
	HasPath  bool
	NeedsMin bool
}

func genBCC(out *Output, m *Model, opts Options) error {
	script := opts.Script
	if script == "" {
		script = "SCRIPT.py"
	}
	s := bccScript{Path: "None", HasPath: opts.Path != ""}
	binary := "the binary given as PATH"
	if opts.Path != "" {
		if !utf8.ValidString(opts.Path) {
			return fmt.Errorf("path %q is not UTF-8, which a Python string cannot hold; leave it out and pass it to the script", opts.Path)
		}
		s.Path = strconv.Quote(opts.Path) // a valid Python literal too
		binary = commentText(opts.Path)
	}
	s.Doc = wrap("", commentWidth-3, fmt.Sprintf("Prints a line for every hit of %s in %s: the tracepoint, then its arguments as name=value.", tracepointList(m.Tracepoints), binary))
	pathArg := " [PATH]"
	if opts.Path == "" {
		pathArg = " PATH"
	}
	s.Usage = usage("#   ", [][2]string{
		{"python3 " + script + " -p PID", "trace one running process"},
		{"python3 " + script + pathArg, "trace every process that runs the binary"},
	})
	para := func(text string) {
		s.Notes = append(s.Notes, "#")
		s.Notes = append(s.Notes, wrap("# ", commentWidth, text)...)
	}
	para("It needs root (or CAP_BPF and CAP_PERFMON), bcc's Python module (Debian: python3-bpfcc) and the kernel headers: bcc compiles the BPF program below with clang when the script starts.")
	strs, bytesLen := false, false
	for _, tp := range m.Tracepoints {
		for _, a := range tp.Args {
			strs = strs || a.Type.Kind == docs.CString
			bytesLen = bytesLen || a.Type.Kind == docs.Bytes
		}
	}
	if sema := semaphores(m.Tracepoints); sema != "" {
		para(sema + " The script attaches with each semaphore's offset in the file, so that the kernel enables the semaphore while the script traces: in every process that runs the binary, or with -p in that one. bpftrace and usdtkit can trace the same tracepoints at the same time.")
	}
	if strs {
		para(fmt.Sprintf("Strings are read up to their documented maximum length (%d bytes when the doc gives none).", StringCap-1))
	}
	if bytesLen {
		para(fmt.Sprintf("Byte buffers are printed as hex in memory order: Bitcoin Core displays hashes the other way round. A buffer whose length is another argument is copied up to %d bytes.", BytesCap))
	}
	s.Sources = wrap("# ", commentWidth, m.generatedBy())
	for i, tp := range m.Tracepoints {
		ev := bccEvent(out, tp, m.base(tp), i+1, "")
		s.NeedsMin = s.NeedsMin || ev.NeedsMin
		s.Events = append(s.Events, ev)
	}
	text, err := execute("bcc.tmpl", s)
	if err != nil {
		return err
	}
	out.Text = text
	return nil
}

// tracepointList names the tracepoints for prose, or counts them when
// there are many.
func tracepointList(tps []*Tracepoint) string {
	if len(tps) > 3 {
		return fmt.Sprintf("the %d tracepoints below", len(tps))
	}
	return ids(tps)
}

// usage lays out command lines with a comment each, the comments aligned.
func usage(prefix string, lines [][2]string) []string {
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	var out []string
	for _, l := range lines {
		out = append(out, fmt.Sprintf("%s%-*s   # %s", prefix, width, l[0], l[1]))
	}
	return out
}
