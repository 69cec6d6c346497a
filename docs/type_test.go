package docs

import (
	"strings"
	"testing"
)

func TestParseType(t *testing.T) {
	tests := []struct {
		phrase string
		want   Type
		spec   string // Spec(8)
		spec4  string // Spec(4)
	}{
		{"int8", Type{Kind: Int, Size: 1}, "-1@", "-1@"},
		{"int16", Type{Kind: Int, Size: 2}, "-2@", "-2@"},
		{"int32", Type{Kind: Int, Size: 4}, "-4@", "-4@"},
		{"int64", Type{Kind: Int, Size: 8}, "-8@", "-8@"},
		{"uint8", Type{Kind: Uint, Size: 1}, "1@", "1@"},
		{"uint16", Type{Kind: Uint, Size: 2}, "2@", "2@"},
		{"uint32", Type{Kind: Uint, Size: 4}, "4@", "4@"},
		{"uint64", Type{Kind: Uint, Size: 8}, "8@", "8@"},
		{"int", Type{Kind: Int, Size: 4}, "-4@", "-4@"},
		{"unsigned int", Type{Kind: Uint, Size: 4}, "4@", "4@"},
		{"unsigned", Type{Kind: Uint, Size: 4}, "4@", "4@"},
		{"short", Type{Kind: Int, Size: 2}, "-2@", "-2@"},
		{"long long", Type{Kind: Int, Size: 8}, "-8@", "-8@"},
		{"unsigned long long", Type{Kind: Uint, Size: 8}, "8@", "8@"},
		{"int32_t", Type{Kind: Int, Size: 4}, "-4@", "-4@"},
		{"uint64_t", Type{Kind: Uint, Size: 8}, "8@", "8@"},
		{"size_t", Type{Kind: Uint}, "8@", "4@"},
		{"long", Type{Kind: Int}, "-8@", "-4@"},
		{"ssize_t", Type{Kind: Int}, "-8@", "-4@"},
		{"bool", Type{Kind: Bool}, "1@", "1@"},
		{"float", Type{Kind: Float, Size: 4}, "4f@", "4f@"},
		{"double", Type{Kind: Float, Size: 8}, "8f@", "8f@"},
		{"pointer to C-style String", Type{Kind: CString}, "8@", "4@"},
		{"pointer to C-style string", Type{Kind: CString}, "8@", "4@"},
		{"  Pointer  to   c-style STRING ", Type{Kind: CString}, "8@", "4@"},
		{"const char*", Type{Kind: CString}, "8@", "4@"},
		{"const char *", Type{Kind: CString}, "8@", "4@"},
		{"char const *", Type{Kind: CString}, "8@", "4@"},
		{"char*", Type{Kind: CString}, "8@", "4@"},
		{"pointer to unsigned chars", Type{Kind: Bytes}, "8@", "4@"},
		{"unsigned char*", Type{Kind: Bytes}, "8@", "4@"},
		{"const uint8_t *", Type{Kind: Bytes}, "8@", "4@"},
		{"pointer to 32 bytes", Type{Kind: Bytes, Size: 32}, "8@", "4@"},
		{"pointer", Type{Kind: Pointer}, "8@", "4@"},
		{"void*", Type{Kind: Pointer}, "8@", "4@"},
		{"const void *", Type{Kind: Pointer}, "8@", "4@"},
		{"char**", Type{Kind: Pointer}, "8@", "4@"},
		{"const CBlockIndex*", Type{Kind: Pointer, Pointee: "CBlockIndex"}, "8@", "4@"},
		{"node::Peer *", Type{Kind: Pointer, Pointee: "node::Peer"}, "8@", "4@"},
	}
	for _, tt := range tests {
		got, err := ParseType(tt.phrase)
		if err != nil {
			t.Errorf("ParseType(%q): %v", tt.phrase, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseType(%q) = %+v, want %+v", tt.phrase, got, tt.want)
		}
		for _, c := range []struct {
			ptr  int
			want string
		}{{8, tt.spec}, {4, tt.spec4}} {
			s, ok := got.Spec(c.ptr)
			if !ok || s.String() != c.want {
				t.Errorf("ParseType(%q).Spec(%d) = %v, %v; want %s", tt.phrase, c.ptr, s, ok, c.want)
			}
		}
		// The canonical phrase maps back to the same type, but for the
		// length, which the writer puts in the remark.
		back, err := ParseType(got.Phrase())
		if err != nil || !sameType(back, got) {
			t.Errorf("ParseType(%q) = %+v, %v; want %+v", got.Phrase(), back, err, got)
		}
	}
}

func TestParseTypeErrors(t *testing.T) {
	tests := []struct {
		phrase string
		want   string // in the message
	}{
		{"", "empty type"},
		{"CAmount", `unknown type "CAmount"`},
		{"char", "write int8 or uint8"},
		{"pointer to a thing", "unknown type"},
		{"pointer to 0 bytes", "out of range"},
		{"pointer to 99999999999999999999 bytes", "out of range"},
		{"int 64", "unknown type"},
		{"std::vector<int>*", "unknown pointer type"},
	}
	for _, tt := range tests {
		got, err := ParseType(tt.phrase)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseType(%q) = %+v, %v; want error with %q", tt.phrase, got, err, tt.want)
		}
		if got.Kind != Invalid {
			t.Errorf("ParseType(%q) kind %v with an error", tt.phrase, got.Kind)
		}
	}
}

func TestTypeString(t *testing.T) {
	tests := []struct {
		typ  Type
		want string
	}{
		{Type{}, "invalid"},
		{Type{Kind: Int, Size: 8}, "int64"},
		{Type{Kind: Uint}, "unsigned long"},
		{Type{Kind: Int}, "long"},
		{Type{Kind: Float, Size: 8}, "float64"},
		{Type{Kind: Bool}, "bool"},
		{Type{Kind: CString}, "pointer to C-style String"},
		{Type{Kind: CString, MaxLen: 20}, "pointer to C-style String (max. length 20 characters)"},
		{Type{Kind: Bytes}, "pointer to unsigned chars"},
		{Type{Kind: Bytes, Size: 32}, "pointer to unsigned chars (32 bytes)"},
		{Type{Kind: Pointer}, "pointer"},
		{Type{Kind: Pointer, Pointee: "CBlockIndex"}, "CBlockIndex*"},
	}
	for _, tt := range tests {
		if got := tt.typ.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.typ, got, tt.want)
		}
	}
	if _, ok := (Type{}).Spec(8); ok {
		t.Error("Invalid type has a spec")
	}
	if b, _ := Kind(200).MarshalText(); string(b) != "Kind(200)" {
		t.Errorf("Kind(200) marshals as %q", b)
	}
	if b, _ := CString.MarshalText(); string(b) != "string" {
		t.Errorf("CString marshals as %q", b)
	}
}

// TestArgLengths checks which prose gives a length and which does not.
func TestArgLengths(t *testing.T) {
	tests := []struct {
		item string
		want Type
	}{
		{"Name as `pointer to C-style String` (max. length 20 characters)", Type{Kind: CString, MaxLen: 20}},
		{"Name as `pointer to C-style String` (maximum length of 7 chars)", Type{Kind: CString, MaxLen: 7}},
		{"Name as `const char*` (at most 12 characters)", Type{Kind: CString, MaxLen: 12}},
		{"Hash as `pointer to C-style String` (64 characters)", Type{Kind: CString, MaxLen: 64}},
		{"Name (max. length 9 characters) as `pointer to C-style String`", Type{Kind: CString, MaxLen: 9}},
		{"Address as `pointer to C-style String` (normally up to 68 characters[^n])", Type{Kind: CString}},
		{"Address as `pointer to C-style String` (usually 20 characters, can be more)", Type{Kind: CString}},
		{"Hash as `pointer to unsigned chars` (i.e. 32 bytes in little-endian)", Type{Kind: Bytes, Size: 32}},
		{"A 20-byte key as `pointer to unsigned chars`", Type{Kind: Bytes, Size: 20}},
		{"Payload as `pointer to unsigned chars` (i.e. bytes)", Type{Kind: Bytes}},
		{"Size in bytes as `uint64`", Type{Kind: Uint, Size: 8}},
		{"Count as `uint64` (max. length 20 characters)", Type{Kind: Uint, Size: 8}},
	}
	for _, tt := range tests {
		doc, err := Parse("t.md", strings.NewReader("### Context `c`\n#### Tracepoint `c:e`\nArguments passed:\n1. "+tt.item+"\n"))
		if err != nil {
			t.Errorf("%s: %v", tt.item, err)
			continue
		}
		if got := doc.Tracepoints[0].Args[0].Type; got != tt.want {
			t.Errorf("%s: type %+v, want %+v", tt.item, got, tt.want)
		}
	}
}
