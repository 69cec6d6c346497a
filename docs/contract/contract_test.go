package contract

import (
	"strings"
	"testing"

	"github.com/usdtkit/usdtkit/docs"
	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/patches"
)

func TestNameFromDescription(t *testing.T) {
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
		if got := nameFromDescription(tt.desc); got != tt.want {
			t.Errorf("nameFromDescription(%q) = %q, want %q", tt.desc, got, tt.want)
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
		if got := LengthArg(tt.args, len(tt.args)-1-boolInt(tt.name == "after")); got != tt.want {
			t.Errorf("%s: LengthArg = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestNameFromExpr(t *testing.T) {
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
		if got := nameFromExpr(tt.expr); got != tt.want {
			t.Errorf("nameFromExpr(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestExprType(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want docs.Type
		ok   bool
	}{
		{"(uint32_t)op.n", docs.Type{Kind: docs.Uint, Size: 4}, true},
		{"(int64_t) coin.nValue", docs.Type{Kind: docs.Int, Size: 8}, true},
		{"(bool)c.IsCoinBase()", docs.Type{Kind: docs.Bool}, true},
		{"static_cast<std::int32_t>(h)", docs.Type{Kind: docs.Int, Size: 4}, true},
		{"(size_t)n", docs.Type{Kind: docs.Uint}, true},
		{"node.m_addr_name.c_str()", docs.Type{Kind: docs.CString}, true},
		{"msg.data()", docs.Type{Kind: docs.Bytes}, true},
		{"hash.data()", docs.Type{Kind: docs.Bytes}, true},
		{"m_type.c_str()", docs.Type{Kind: docs.CString}, true},
		{"name_str.data()", docs.Type{Kind: docs.CString}, true},
		{`"literal"`, docs.Type{Kind: docs.CString}, true},
		{"!fInbound", docs.Type{Kind: docs.Bool}, true},
		{"node.m_is_inbound", docs.Type{Kind: docs.Bool}, true},
		{"peer.IsInbound()", docs.Type{Kind: docs.Bool}, true},
		{"(CBlockIndex*)p", docs.Type{}, false},
		{"(a)+(b)", docs.Type{}, false},
		{"n", docs.Type{}, false},
	} {
		got, ok := exprType(tt.expr)
		if got != tt.want || ok != tt.ok {
			t.Errorf("exprType(%q) = %v, %v; want %v, %v", tt.expr, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTypeOf(t *testing.T) {
	u8 := docs.Spec{Size: 1}
	u64 := docs.Spec{Size: 8}
	s64 := docs.Spec{Size: 8, Signed: true}
	f64 := docs.Spec{Size: 8, Float: true}
	for _, tt := range []struct {
		spec *docs.Spec
		expr string
		want docs.Type
	}{
		{&u64, "node.m_addr_name.c_str()", docs.Type{Kind: docs.CString}},
		{&u64, "msg.data.data()", docs.Type{Kind: docs.Bytes}},
		{&u64, "n", docs.Type{Kind: docs.Uint, Size: 8}},
		{&s64, "node.m_addr_name.c_str()", docs.Type{Kind: docs.Int, Size: 8}},
		{&f64, "x", docs.Type{Kind: docs.Float, Size: 8}},
		{&u8, "fInbound", docs.Type{Kind: docs.Bool}},
		{&u8, "n", docs.Type{Kind: docs.Uint, Size: 1}},
		{&docs.Spec{Size: 4}, "s.c_str()", docs.Type{Kind: docs.Uint, Size: 4}}, // not a pointer on this target
		{nil, "(uint32_t)h", docs.Type{Kind: docs.Uint, Size: 4}},
		{nil, "h", docs.Type{Kind: docs.Uint, Size: 8}},
	} {
		if got := TypeOf(tt.spec, tt.expr, 8); got != tt.want {
			t.Errorf("TypeOf(%v, %q) = %v, want %v", tt.spec, tt.expr, got, tt.want)
		}
	}
}

func TestJoin(t *testing.T) {
	doc, _ := docs.Parse("doc.md", strings.NewReader("### Context `a`\n\n#### Tracepoint `a:one`\n\nArguments passed:\n1. Size as `int32`\n\n"+
		"#### Tracepoint `a:two`\n\n#### Tracepoint `a:one`\n"))
	bin := &elf.File{Path: "bin", Class: 2, Probes: []elf.Probe{
		{Provider: "b", Name: "three", CallSites: []elf.CallSite{{Args: []elf.Arg{{Size: 8, Signed: true}}}}},
		{Provider: "a", Name: "one", CallSites: []elf.CallSite{{Args: []elf.Arg{{Size: 4, Signed: true}}}}},
	}}
	c := Join(Input{Doc: doc, Binaries: []Binary{{Path: "bin", File: bin}}})
	var ids []string
	for _, tp := range c.Tracepoints {
		ids = append(ids, tp.ID())
	}
	if got := strings.Join(ids, " "); got != "a:one a:two b:three" {
		t.Errorf("tracepoints %q", got)
	}
	one := c.Tracepoint("a:one")
	if one.Doc == nil || one.Probe() == nil || one.Args[0].Name != "size" || one.Args[0].Spec != (docs.Spec{Size: 4, Signed: true}) {
		t.Errorf("a:one = %+v", one)
	}
	if len(one.Notes) != 1 || !strings.Contains(one.Notes[0], "doc.md:10 documents it again") {
		t.Errorf("a:one notes %q", one.Notes)
	}
	if two := c.Tracepoint("a:two"); two.Probe() != nil || len(two.Notes) != 1 {
		t.Errorf("a:two = %+v, want a note that it is not in the binary", two)
	}
	for _, tt := range []struct {
		patterns []string
		want     string
	}{
		{nil, "a:one a:two b:three"},
		{[]string{"a:*"}, "a:one a:two"},
		{[]string{"three"}, "b:three"},
		{[]string{"t*"}, "a:two b:three"},
		{[]string{"x:*"}, ""},
	} {
		var ids []string
		for _, tp := range c.Select(tt.patterns...) {
			ids = append(ids, tp.ID())
		}
		if got := strings.Join(ids, " "); got != tt.want {
			t.Errorf("Select(%v) = %q, want %q", tt.patterns, got, tt.want)
		}
	}
}

// TestEntryRoundTrip writes the entry of an undocumented tracepoint,
// parses it back and checks that the doc's reader accepts it with the
// same types and the same argument names.
func TestEntryRoundTrip(t *testing.T) {
	bin := &elf.File{Path: "bin", Class: 2, Probes: []elf.Probe{{Provider: "net", Name: "msg", CallSites: []elf.CallSite{{Args: []elf.Arg{
		{Size: 8, Signed: true}, {Size: 8}, {Size: 8}, {Size: 8}, {Size: 1},
	}}}}}}
	src := &Source{Path: "src", Macros: []patches.Macro{{Kind: patches.Tracepoint, Name: "TRACEPOINT", Context: "net", Event: "msg",
		Args: []string{"peer.GetId()", "peer.m_addr_name.c_str()", "msg.data.size()", "msg.data.data()", "peer.IsInbound()"}}}}
	c := Join(Input{Source: src, Binaries: []Binary{{Path: "bin", File: bin}}})
	tp := c.Tracepoint("net:msg")
	text := docs.FormatContext(&docs.Context{Name: "net", Tracepoints: []*docs.Tracepoint{Entry(tp)}})
	doc, err := docs.Parse("doc.md", strings.NewReader(text))
	if err != nil {
		t.Fatalf("the doc's reader refuses the entry: %v\n%s", err, text)
	}
	back := Join(Input{Doc: doc, Binaries: []Binary{{Path: "bin", File: bin}}}).Tracepoint("net:msg")
	for i, a := range tp.Args {
		b := back.Args[i]
		if a.Name != b.Name || a.Type != b.Type || a.LenArg != b.LenArg {
			t.Errorf("arg%d: written as %s %v (length arg %d), read back as %s %v (length arg %d)\n%s", i, a.Name, a.Type, a.LenArg, b.Name, b.Type, b.LenArg, text)
		}
	}
	if want := "peer_id addr_name msg_size msg is_inbound"; names(tp) != want {
		t.Errorf("names %s, want %s", names(tp), want)
	}
}

func names(tp *Tracepoint) string {
	var s []string
	for _, a := range tp.Args {
		s = append(s, a.Name)
	}
	return strings.Join(s, " ")
}
