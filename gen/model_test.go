package gen

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
)

func TestArgName(t *testing.T) {
	tests := []struct{ desc, want string }{
		{"Peer ID", "peer_id"},
		{"Peer address and port (IPv4, IPv6, Tor v3, ...)", "peer_address_and_port"},
		{"Connection Type (inbound, outbound-full-relay, block-relay-only)", "connection_type"},
		{"Message Size in bytes", "message_size"},
		{"Time it took to connect the Block in nanoseconds (ns)", "time_it_took"},
		{"SigOps in the Block (excluding coinbase SigOps)", "sigops"},
		{"Number of inbound connections, including the new one,", "number_of_inbound_connections"},
		{"Whether the coin is a coinbase output", "is_coinbase_output"},
		{"Whether argument 5 is a transaction ID (true) or a package hash (false)", "is_transaction_id"},
		{"Whether pruning caused the flush", "whether_pruning_caused_flush"},
		{"Transaction ID (hash)", "transaction_id"},
		{"Block Header Hash", "block_header_hash"},
		{"Peer address[^address-length]", "peer_address"},
		{"32-byte hash", "n32byte_hash"},
		{"The", ""},
		{"", ""},
		{"Ünïcode Name", "ncode_name"},
	}
	for _, tt := range tests {
		if got := argName(tt.desc); got != tt.want {
			t.Errorf("argName(%q) = %q, want %q", tt.desc, got, tt.want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	names := map[string]bool{}
	var got []string
	for i, n := range []string{"hash", "hash", "", "int", "hash", "tracepoint"} {
		got = append(got, uniqueName(n, i, names))
	}
	want := "hash hash_1 arg2 int_ hash_4 tracepoint_"
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestLengthArg(t *testing.T) {
	u64 := docs.Type{Kind: docs.Uint, Size: 8}
	bytes := docs.Type{Kind: docs.Bytes}
	tests := []struct {
		name string
		args []Arg
		want int
	}{
		{"before", []Arg{{Description: "Message Size in bytes", Type: u64}, {Type: bytes}}, 0},
		{"nearest before", []Arg{{Description: "Length", Type: u64}, {Description: "Size", Type: u64}, {Type: bytes}}, 1},
		{"after", []Arg{{Type: bytes}, {Description: "Data length", Type: u64}}, 1},
		{"not a number", []Arg{{Description: "Size", Type: docs.Type{Kind: docs.CString}}, {Type: bytes}}, -1},
		{"none", []Arg{{Description: "Peer ID", Type: u64}, {Type: bytes}}, -1},
	}
	for _, tt := range tests {
		if got := lengthArg(tt.args, len(tt.args)-1-boolInt(tt.name == "after")); got != tt.want {
			t.Errorf("%s: lengthArg = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestJoin(t *testing.T) {
	doc, _ := docs.Parse("doc.md", strings.NewReader("### Context `a`\n\n#### Tracepoint `a:one`\n\nArguments passed:\n1. Size as `int32`\n\n"+
		"#### Tracepoint `a:two`\n\n#### Tracepoint `a:one`\n"))
	bin := &elf.File{Path: "bin", Class: 2, Probes: []elf.Probe{
		{Provider: "b", Name: "three", CallSites: []elf.CallSite{{Args: []elf.Arg{{Size: 8, Signed: true}}}}},
		{Provider: "a", Name: "one", CallSites: []elf.CallSite{{Args: []elf.Arg{{Size: 4, Signed: true}}}}},
	}}
	tests := []struct {
		patterns []string
		want     string
	}{
		{nil, "a:one a:two b:three"},
		{[]string{"a:*"}, "a:one a:two"},
		{[]string{"three"}, "b:three"},
		{[]string{"t*"}, "a:two b:three"},
		{[]string{"x:*"}, ""},
	}
	for _, tt := range tests {
		m, err := Join(doc, bin, tt.patterns...)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tp := range m.Tracepoints {
			ids = append(ids, tp.ID())
		}
		if got := strings.Join(ids, " "); got != tt.want {
			t.Errorf("Join(%v) = %q, want %q", tt.patterns, got, tt.want)
		}
	}
	m, _ := Join(doc, bin)
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0].String(), "a:one: doc.md:10 documents it again") {
		t.Errorf("warnings %v", m.Warnings)
	}
	one := m.Tracepoints[0]
	if one.Doc == nil || one.Probe == nil || one.Args[0].Name != "size" || one.Args[0].Spec != (docs.Spec{Size: 4, Signed: true}) || len(one.Warnings) != 0 {
		t.Errorf("a:one = %+v", one)
	}
	if two := m.Tracepoints[1]; two.Probe != nil || len(two.Warnings) != 1 {
		t.Errorf("a:two = %+v, want a warning that it is not in the binary", two)
	}
	if _, err := Join(nil, nil); !errors.Is(err, ErrNoInput) {
		t.Errorf("Join(nil, nil) = %v", err)
	}
	if _, err := Join(doc, nil, "[x"); err == nil {
		t.Error("Join with a bad pattern: no error")
	}
}

func TestCommentText(t *testing.T) {
	for _, s := range []string{"*/ x /*", `""" + x + """`, "a\\\nb", "'''", "`x`", "**//**"} {
		got := commentText(s)
		for _, bad := range []string{"*/", "/*", `"`, "\\", "\n", "'''", "`"} {
			if strings.Contains(got, bad) {
				t.Errorf("commentText(%q) = %q, has %q", s, got, bad)
			}
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	m, _ := Join(nil, &elf.File{Path: "bin", Class: 2, Probes: []elf.Probe{{Provider: "a", Name: "b", CallSites: []elf.CallSite{{}}}}})
	if _, err := Generate(BPFtrace, m, Options{Path: "my bin:x"}); err == nil || !strings.Contains(err.Error(), "cannot be written in a bpftrace probe") {
		t.Errorf("unsafe path: %v", err)
	}
	if out, err := Generate(BCC, m, Options{Path: "my \"bin\":x\n"}); err != nil || !strings.Contains(out.Text, `PATH = "my \"bin\":x\n"`) {
		t.Errorf("bcc with any path: %v", err)
	}
	if _, err := Generate(BCC, m, Options{Path: "bin\xff"}); err == nil {
		t.Error("bcc with a path that is not UTF-8: no error")
	}
	if _, err := Generate(Doc, m.With(), Options{}); !errors.Is(err, ErrNoTracepoints) {
		t.Errorf("no tracepoints: %v", err)
	}
	for _, path := range []string{"my \"bin\"\n*/ x", "bin\xff"} {
		out, err := Generate(Go, m, Options{Path: path})
		if err != nil || !strings.Contains(out.Text, "const defaultPath = "+strconv.Quote(path)+"\n") || !utf8.ValidString(out.Text) {
			t.Errorf("go with path %q: %v", path, err)
		}
	}
	if _, err := ParseLang("python"); err == nil || err.Error() != `unknown language "python" (want bpftrace, bcc, go, doc, test)` {
		t.Errorf("ParseLang: %v", err)
	}
	for _, l := range Langs {
		if got, _ := ParseLang(l.String()); got != l {
			t.Errorf("ParseLang(%s) = %v", l, got)
		}
	}
}

func TestExprName(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{"node.GetId()", "node_id"},
		{"node.m_addr_name.c_str()", "addr_name"},
		{"node.ConnectionTypeAsString().c_str()", "connection_type"},
		{"payload.size()", "payload_size"},
		{"payload.data()", "payload"},
		{"(int64_t)coin.nValue", "value"},
		{"static_cast<uint32_t>(pindex->nHeight)", "height"},
		{"block.GetHash().data()", "hash"},
		{"m_inbound_count", "inbound_count"},
		{"fInbound", "inbound"},
		{"42", ""},
		{"(bool)c.IsCoinBase()", "is_coin_base"},
	} {
		if got := exprName(tt.expr); got != tt.want {
			t.Errorf("exprName(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestExprType(t *testing.T) {
	exprs := []string{"msg.size()", "msg.data()", "hash.data()"}
	for _, tt := range []struct {
		expr string
		want docs.Type
		ok   bool
	}{
		{"(uint32_t)op.n", docs.Type{Kind: docs.Uint, Size: 4}, true},
		{"(int64_t) coin.nValue", docs.Type{Kind: docs.Int, Size: 8}, true},
		{"(bool)c.IsCoinBase()", docs.Type{Kind: docs.Bool, Size: 1}, true},
		{"static_cast<std::int32_t>(h)", docs.Type{Kind: docs.Int, Size: 4}, true},
		{"(size_t)n", docs.Type{Kind: docs.Uint}, true},
		{"node.m_addr_name.c_str()", docs.Type{Kind: docs.CString}, true},
		{"msg.data()", docs.Type{Kind: docs.Bytes}, true},
		{"hash.data()", docs.Type{}, false}, // no hash.size(): the length is unknown
		{"(CBlockIndex*)p", docs.Type{}, false},
		{"(a)+(b)", docs.Type{}, false},
		{"n", docs.Type{}, false},
	} {
		got, ok := exprType(tt.expr, exprs)
		if got != tt.want || ok != tt.ok {
			t.Errorf("exprType(%q) = %v, %v; want %v, %v", tt.expr, got, ok, tt.want, tt.ok)
		}
	}
}
