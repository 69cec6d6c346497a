package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/docs/contract"
	"github.com/usdtkit/usdtkit/elf/elftest"
	"github.com/usdtkit/usdtkit/gen"
)

// everyType documents one tracepoint with every kind of type Bitcoin
// Core's doc/tracing.md uses: integers of each size and sign, bool, C
// strings with and without a documented maximum, a byte buffer after its
// size argument, a 32-byte hash, a pointer.
const everyType = "### Context `all`\n\n#### Tracepoint `all:types`\n\nFires.\n\nArguments passed:\n" +
	"1. Small as `int8`\n2. Short as `int16`\n3. Height as `int32`\n4. Peer ID as `int64`\n" +
	"5. Flags as `uint8`\n6. Port as `uint16`\n7. Version as `uint32`\n8. Message Size in bytes as `uint64`\n" +
	"9. Whether it is inbound as `bool`\n10. Message Type as `pointer to C-style String` (max. length 20 characters)\n" +
	"11. Message Bytes as `pointer to unsigned chars`\n12. Block Hash as `pointer to unsigned chars` (32 bytes)\n" +
	"\n#### Tracepoint `all:more`\n\nFires too.\n\nArguments passed:\n" +
	"1. Name as `pointer to C-style String`\n2. Index as `CBlockIndex*`\n3. Value as `double`\n"

// read is what one tool reads of one argument: the kind (value, string,
// bytes), how many characters or bytes, the length argument's index (-1
// for none), and an integer's size in bytes and sign.
type read struct {
	kind   contract.ReadKind
	n      int
	lenArg int
	size   int
	signed bool
}

func (r read) String() string {
	return fmt.Sprintf("kind %d, %d, length arg %d, size %d, signed %v", r.kind, r.n, r.lenArg, r.size, r.signed)
}

// TestReadersAgree walks every argument of the demo doc and of a doc with
// every kind of documented type through attach's read plan and the
// bpftrace, bcc and Go programs gen writes, and checks that all four
// read the same bytes with the same type and the same length argument.
// bpftrace and bcc cap what they read where their stacks make them (a
// byte buffer at 200 and 128 bytes, a string without a documented
// maximum at 63 characters); the caps are checked to be the contract's
// for those tools.
func TestReadersAgree(t *testing.T) {
	dir := t.TempDir()
	docPath := filepath.Join(dir, "all.md")
	if err := os.WriteFile(docPath, []byte(everyType), 0o644); err != nil {
		t.Fatal(err)
	}
	img, _ := elftest.Build(elftest.Spec{Notes: []elftest.Note{
		{Provider: "all", Name: "types", PC: elftest.TextAddr, Semaphore: elftest.DataAddr,
			Args: "-1@%al -2@%bx -4@%ecx -8@%rdx 1@%sil 2@%di 4@%r8d 8@%r9 1@%r10b 8@%r11 8@%r12 8@%r13"},
		{Provider: "all", Name: "more", PC: elftest.TextAddr + 16, Args: "8@%rax 8@%rbx 8f@%xmm0"},
	}})
	binPath := filepath.Join(dir, "all")
	if err := os.WriteFile(binPath, img, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, in := range []struct{ doc, bin string }{
		{docPath, binPath},
		{"../../docs/demo/doc/tracing.md", demoBinary(t)},
	} {
		c, _, err := contract.Load(contract.Paths{Docs: in.doc, Binaries: []string{in.bin}})
		if err != nil {
			t.Fatal(err)
		}
		m := gen.NewModel(c)
		outputs := map[gen.Lang]string{}
		for _, l := range []gen.Lang{gen.BPFtrace, gen.BCC, gen.Go} {
			out, err := gen.Generate(l, m, gen.Options{Path: in.bin})
			if err != nil {
				t.Fatal(err)
			}
			outputs[l] = out.Text
		}
		kinds := map[docs.Kind]bool{}
		tps, err := trace.Plan(trace.Options{Contract: c})
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range tps {
			for i, a := range tp.Tracepoint.Args {
				kinds[a.Type.Kind] = true
				attach := fromBPF(trace.Read(tp.Args[i].Plan), a)
				want := map[string]read{
					"attach":   fromPlan(a.Plan(contract.Limits{}), a),
					"bpftrace": fromPlan(a.Plan(contract.Limits{Strlen: gen.BPFtraceStrlen - 1, BytesCap: gen.BPFtraceMaxStrlen}), a),
					"bcc":      fromPlan(a.Plan(contract.Limits{Strlen: gen.StringCap - 1, BytesCap: gen.BytesCap}), a),
				}
				got := map[string]read{
					"attach":   attach,
					"bpftrace": bpftraceRead(t, outputs[gen.BPFtrace], tp.Tracepoint, i),
					"bcc":      bccRead(t, outputs[gen.BCC], tp.Tracepoint, i),
					"go":       goRead(t, outputs[gen.Go], a),
				}
				want["go"] = want["attach"]
				for tool, w := range want {
					if g := got[tool]; g != w {
						t.Errorf("%s %s arg%d (%s, %v): %s reads %v, the contract says %v", in.doc, tp.ID(), i, a.Name, a.Type, tool, g, w)
					}
				}
			}
		}
		if in.doc == docPath {
			for _, k := range []docs.Kind{docs.Int, docs.Uint, docs.Bool, docs.Float, docs.CString, docs.Bytes, docs.Pointer} {
				if !kinds[k] {
					t.Errorf("no argument of kind %v was checked", k)
				}
			}
		}
	}
}

func demoBinary(t *testing.T) string {
	t.Helper()
	bin, _ := demo(t)
	return bin
}

// fromPlan is what a plan reads of a, an argument read by its spec.
func fromPlan(p contract.Plan, a contract.Arg) read {
	r := read{kind: p.Kind, n: p.MaxLen, lenArg: p.LenArg}
	if p.Kind == contract.ReadValue {
		r = value(a.Spec.Size, a.Spec.Signed)
	}
	return r
}

// fromBPF is what the bpf package's read says; the value's size and sign
// are always the call site's spec.
func fromBPF(r bpf.ArgRead, a contract.Arg) read {
	out := read{n: r.MaxLen, lenArg: r.LenArg - 1}
	switch r.Kind {
	case bpf.ReadString:
		out.kind = contract.ReadString
	case bpf.ReadBytes:
		out.kind = contract.ReadBytes
	default:
		out = value(a.Spec.Size, a.Spec.Signed)
	}
	return out
}

// value is the read of an integer's (or a float's bits') size and sign.
func value(size int, signed bool) read { return read{lenArg: -1, size: size, signed: signed} }

// bpftraceRead finds how the script's printf reads argument i.
func bpftraceRead(t *testing.T, script string, tp *contract.Tracepoint, i int) read {
	t.Helper()
	arg := "arg" + strconv.Itoa(i)
	block := script[strings.Index(script, "usdt:"):]
	block = block[strings.Index(block, ":"+tp.ID()+"\n"):]
	// bpftrace 0.23 reads up to arg5: the printf for 0.24 and newer, in
	// a comment, has the others.
	exprRe := regexp.MustCompile(`(?m)^\s+(?://\s+)?(str\(` + arg + `(?:, (\d+))?\)|buf\(` + arg + `, (\w+)\)|\((u?int)(\d+)\)` + arg + `|` + arg + `)[,)]`)
	m := exprRe.FindStringSubmatch(block)
	if m == nil {
		t.Fatalf("%s: no read of %s in the bpftrace script:\n%s", tp.ID(), arg, block)
	}
	a := tp.Args[i]
	switch {
	case strings.HasPrefix(m[1], "str("):
		n := gen.BPFtraceStrlen - 1 // str() without a length
		if m[2] != "" {
			n, _ = strconv.Atoi(m[2])
		}
		return read{kind: contract.ReadString, n: n, lenArg: -1}
	case strings.HasPrefix(m[1], "buf("):
		if l, ok := strings.CutPrefix(m[3], "arg"); ok {
			j, _ := strconv.Atoi(l)
			return read{kind: contract.ReadBytes, n: gen.BPFtraceMaxStrlen, lenArg: j}
		}
		n, _ := strconv.Atoi(m[3])
		return read{kind: contract.ReadBytes, n: n, lenArg: -1}
	case m[4] != "":
		bits, _ := strconv.Atoi(m[5])
		return value(bits/8, m[4] == "int")
	}
	// argN alone: 64 bits, printed by %lu or %lx.
	return value(8, a.Spec.Signed)
}

// bccRead finds the field and the reads of argument i in the bcc script.
func bccRead(t *testing.T, script string, tp *contract.Tracepoint, i int) read {
	t.Helper()
	a := tp.Args[i]
	base := tp.Context + "_" + tp.Event
	start := strings.Index(script, "struct "+base+"\n{")
	end := strings.Index(script[start:], "\n    return 0;\n}")
	if start < 0 || end < 0 {
		t.Fatalf("%s: no structure and function in the bcc script", tp.ID())
	}
	script = script[start : start+end] // the structure and the function that fills it
	field := regexp.MustCompile(`(?m)^    (\w+)\s+` + a.Name + `(?:\[(\d+)\])?;$`).FindStringSubmatch(script)
	if field == nil {
		t.Fatalf("%s: no field %s in the bcc script", tp.ID(), a.Name)
	}
	n, _ := strconv.Atoi(field[2])
	switch {
	case strings.Contains(script, "bpf_probe_read_user_str(&e."+a.Name+", sizeof(e."+a.Name+")"):
		return read{kind: contract.ReadString, n: n - 1, lenArg: -1} // the NUL
	case field[1] == "u8" && field[2] != "":
		r := read{kind: contract.ReadBytes, n: n, lenArg: -1}
		if m := regexp.MustCompile(`USDTKIT_MIN\(e\.(\w+), sizeof\(e\.` + a.Name + `\)\)`).FindStringSubmatch(script); m != nil {
			for j, o := range tp.Args {
				if o.Name == m[1] {
					r.lenArg = j
				}
			}
		}
		return r
	}
	switch ctype := field[1]; {
	case ctype == "bool":
		return value(1, false)
	case strings.HasPrefix(ctype, "s") || strings.HasPrefix(ctype, "u"):
		bits, err := strconv.Atoi(ctype[1:])
		if err != nil {
			t.Fatalf("field %s: type %s", a.Name, ctype)
		}
		// A float's bits are read into an unsigned field of its size.
		return value(bits/8, ctype[0] == 's')
	}
	t.Fatalf("%s: field %s of type %s", tp.ID(), a.Name, field[1])
	return read{}
}

// goRead parses the bpf.ArgRead literal of argument a in the Go program.
func goRead(t *testing.T, program string, a contract.Arg) read {
	t.Helper()
	m := regexp.MustCompile(`\{"` + a.Name + `", bpf\.ArgRead\{([^}]*)\}\}`).FindStringSubmatch(program)
	if m == nil {
		t.Fatalf("no read of %s in the Go program", a.Name)
	}
	var r bpf.ArgRead
	for _, f := range strings.Split(m[1], ", ") {
		if f == "" {
			continue
		}
		k, v, _ := strings.Cut(f, ": ")
		n, _ := strconv.Atoi(v)
		switch k {
		case "Kind":
			r.Kind = map[string]bpf.ReadKind{"bpf.ReadString": bpf.ReadString, "bpf.ReadBytes": bpf.ReadBytes}[v]
		case "MaxLen":
			r.MaxLen = n
		case "LenArg":
			r.LenArg = n
		}
	}
	return fromBPF(r, a)
}
