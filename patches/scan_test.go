package patches

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// render shows what a test checks of a macro on one line:
// "line:col-endline kind NAME context:event «arg»... if cond;... ! problem".
func render(m Macro) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:%d-%d %s %s %s", m.Line, m.Col, m.EndLine, m.Kind, m.Name, m.ID())
	for _, a := range m.Args {
		b.WriteString(" «" + a + "»")
	}
	if len(m.Cond) > 0 {
		b.WriteString(" if " + strings.Join(m.Cond, "; "))
	}
	if m.Err != nil {
		var se *SyntaxError
		if !errors.As(m.Err, &se) || se.Line != m.Line || se.File != m.File {
			return fmt.Sprintf("bad Err %#v for %s", m.Err, b.String())
		}
		b.WriteString(" ! " + se.Msg)
	}
	return b.String()
}

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "one line",
			src:  "void f() { TRACEPOINT(net, closed, id, name.c_str()); }",
			want: []string{"1:12-1 tracepoint TRACEPOINT net:closed «id» «name.c_str()»"},
		},
		{
			name: "no arguments",
			src:  "  TRACEPOINT(test, zero_args);",
			want: []string{"1:3-1 tracepoint TRACEPOINT test:zero_args"},
		},
		{
			name: "over many lines with comments",
			src: "x;\n  TRACEPOINT(net, inbound_message,\n" +
				"      node.GetId(),   // the peer\n" +
				"      /* its name */ node.m_addr_name.c_str(),\n" +
				"      msg.m_recv.size(\n      )\n  );\n",
			want: []string{"2:3-7 tracepoint TRACEPOINT net:inbound_message «node.GetId()» «node.m_addr_name.c_str()» «msg.m_recv.size( )»"},
		},
		{
			name: "whitespace normalized",
			src:  "TRACEPOINT( a ,\tb , x\n\t+\n\ty , f ( 1 ,2 ) , a/**/b )",
			want: []string{"1:1-3 tracepoint TRACEPOINT a:b «x + y» «f ( 1 ,2 )» «a b»"},
		},
		{
			name: "name and parenthesis on different lines",
			src:  "TRACEPOINT\n  (a, b, 1)",
			want: []string{"1:1-2 tracepoint TRACEPOINT a:b «1»"},
		},
		{
			name: "semaphores",
			src:  "TRACEPOINT_SEMAPHORE(net, closed);\nTRACEPOINT_SEMAPHORE(net, opened);\n",
			want: []string{
				"1:1-1 semaphore TRACEPOINT_SEMAPHORE net:closed",
				"2:1-2 semaphore TRACEPOINT_SEMAPHORE net:opened",
			},
		},
		{
			name: "semaphore with arguments",
			src:  "TRACEPOINT_SEMAPHORE(net, closed, 1);",
			want: []string{"1:1-1 semaphore TRACEPOINT_SEMAPHORE net:closed «1» ! TRACEPOINT_SEMAPHORE takes a context and an event, not 3 arguments"},
		},
		{
			name: "TRACE to TRACE12",
			src: "TRACE(a, zero);\nTRACE1(a, one, x);\nTRACE5(utxocache, add, h.data(), (uint32_t)n, h, v, cb);\n" +
				"TRACE12(test, twelve, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);",
			want: []string{
				"1:1-1 trace TRACE a:zero",
				"2:1-2 trace TRACE1 a:one «x»",
				"3:1-3 trace TRACE5 utxocache:add «h.data()» «(uint32_t)n» «h» «v» «cb»",
				"4:1-4 trace TRACE12 test:twelve «1» «2» «3» «4» «5» «6» «7» «8» «9» «10» «11» «12»",
			},
		},
		{
			name: "TRACEn with the wrong argument count",
			src:  "TRACE5(utxocache, add, a, b, c, d);\nTRACE(a, b, c);\nTRACE12(t, e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);",
			want: []string{
				"1:1-1 trace TRACE5 utxocache:add «a» «b» «c» «d» ! TRACE5 has 4 arguments after context and event, want 5",
				"2:1-2 trace TRACE a:b «c» ! TRACE has 1 argument after context and event, want 0",
				"3:1-3 trace TRACE12 t:e «1» «2» «3» «4» «5» «6» «7» «8» «9» «10» «11» «12» «13» ! TRACE12 has 13 arguments after context and event, want 12",
			},
		},
		{
			name: "TRACE that is not a tracepoint",
			src:  `TRACE("hello %d", x); TRACE(x); TRACE(); void TRACE3(int a, int b, int c, int d);`,
		},
		{
			name: "DTRACE_PROBE and STAP_PROBE",
			src: "DTRACE_PROBE(p, zero);\nDTRACE_PROBE2(p, two, a, b);\nSTAP_PROBE(p, s0);\nSTAP_PROBE3(p, s3, a, b, c);\n" +
				"STAP_PROBEV(p, v, a, b);\nSTAP_PROBEV(p, v0);\nDTRACE_PROBE1(p, bad);",
			want: []string{
				"1:1-1 dtrace DTRACE_PROBE p:zero",
				"2:1-2 dtrace DTRACE_PROBE2 p:two «a» «b»",
				"3:1-3 stap STAP_PROBE p:s0",
				"4:1-4 stap STAP_PROBE3 p:s3 «a» «b» «c»",
				"5:1-5 stap STAP_PROBEV p:v «a» «b»",
				"6:1-6 stap STAP_PROBEV p:v0",
				"7:1-7 dtrace DTRACE_PROBE1 p:bad ! DTRACE_PROBE1 has 0 arguments after context and event, want 1",
			},
		},
		{
			name: "ill-formed TRACEPOINT calls",
			src:  "TRACEPOINT();\nTRACEPOINT(a);\nTRACEPOINT(a + b, c);\nTRACEPOINT(a, \"b\");\nTRACEPOINT(a, b, , x);\nTRACEPOINT(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);",
			want: []string{
				"1:1-1 tracepoint TRACEPOINT : ! missing context and event",
				"2:1-2 tracepoint TRACEPOINT a: ! missing event",
				`3:1-3 tracepoint TRACEPOINT a + b:c ! context "a + b" is not an identifier`,
				`4:1-4 tracepoint TRACEPOINT a:"b" ! event "\"b\"" is not an identifier`,
				"5:1-5 tracepoint TRACEPOINT a:b «» «x» ! argument 1 is empty",
				"6:1-6 tracepoint TRACEPOINT a:b «1» «2» «3» «4» «5» «6» «7» «8» «9» «10» «11» «12» «13» ! TRACEPOINT has 13 arguments after context and event, at most 12 are supported",
			},
		},
		{
			name: "names that are not the macros",
			src: "if (TRACEPOINT_ACTIVE(a, b)) {}\nMY_TRACEPOINT(a, b);\nTRACEPOINTS(a, b);\nTRACE13(a, b);\nTRACE0(a, b);\nTRACE05(a, b, c, d, e, f, g);\n" +
				"STAP_PROBE_ASM(a, b);\nDTRACE_PROBEV(a, b);\nobj.TRACEPOINT(a, b);\np->TRACE1(a, b, c);\nns::TRACEPOINT(a, b);\nauto x = TRACEPOINT;\nint TRACEPOINT_SEMAPHORE;",
		},
		{
			name: "in comments",
			src: "// TRACEPOINT(a, b);\n/* TRACEPOINT(a, c);\n TRACE1(a, d, x); */\n" +
				"// a comment continued \\\n TRACEPOINT(a, e);\nTRACEPOINT(a, f); // TRACEPOINT(a, g);\n",
			want: []string{"6:1-6 tracepoint TRACEPOINT a:f"},
		},
		{
			name: "in strings and character literals",
			src: "s = \"TRACEPOINT(a, b)\"; c = 'T'; t = \"\\\"TRACEPOINT(a, c)\";\n" +
				"u = u8\"TRACEPOINT(a, d)\"; w = L\"TRACE1(a, e, x)\";\n" +
				"r = R\"(TRACEPOINT(a, f);)\";\n" +
				"r2 = R\"xy(\n)\" TRACEPOINT(a, g); \"(\n)xy\";\n" +
				"r3 = u8R\"(TRACEPOINT(a, h))\" LR\"--(STAP_PROBE(a, i))--\";\n" +
				"TRACEPOINT(a, real, \"x, y\", ',', R\"(, ))\");",
			want: []string{`8:1-8 tracepoint TRACEPOINT a:real «"x, y"» «','» «R"(, ))"»`},
		},
		{
			name: "definitions are not uses",
			src: "#define TRACEPOINT_SEMAPHORE(context, event) \\\n    unsigned short context##_##event##_semaphore\n" +
				"#define TRACEPOINT(context, event, ...)                  \\\n" +
				"    do {                                                 \\\n" +
				"        if (TRACEPOINT_ACTIVE(context, event)) {         \\\n" +
				"            STAP_PROBEV(context, event __VA_OPT__(, ) __VA_ARGS__); \\\n" +
				"        }                                                \\\n" +
				"    } while(0)\n" +
				"#define TRACE1(context, event, a) DTRACE_PROBE1(context, event, a)\n" +
				"#undef TRACEPOINT\n" +
				"#if defined(TRACEPOINT) && TRACE1(a, b, c)\n#endif\n" +
				"TRACEPOINT(after, defines);\n",
			want: []string{"13:1-13 tracepoint TRACEPOINT after:defines"},
		},
		{
			name: "conditions",
			src: "#include <a.h>\n" +
				"#if ENABLE_WALLET\n" +
				"TRACEPOINT(w, a);\n" +
				"#ifdef WIN32\n" +
				"TRACEPOINT(w, b);\n" +
				"#else // not windows\n" +
				"TRACEPOINT(w, c);\n" +
				"#endif\n" +
				"#endif\n" +
				"#ifndef NDEBUG\nTRACEPOINT(d, a);\n#endif\n" +
				"#if A\n#elif defined(B) || C\nTRACEPOINT(e, a);\n#elif D\nTRACEPOINT(e, b);\n#else\nTRACEPOINT(e, c);\n#endif\n" +
				"#if !defined(X)\n#else\nTRACEPOINT(f, a);\n#endif\n" +
				"#if A && \\\n    B /* multi-line\n comment */ || C\nTRACEPOINT(g, a);\n#else\nTRACEPOINT(g, b);\n#endif\n" +
				"#ifdef A\n#elifndef B\nTRACEPOINT(h, a);\n#elifdef C\nTRACEPOINT(h, b);\n#endif\n" +
				"TRACEPOINT(z, none);\n",
			want: []string{
				"3:1-3 tracepoint TRACEPOINT w:a if ENABLE_WALLET",
				"5:1-5 tracepoint TRACEPOINT w:b if ENABLE_WALLET; defined(WIN32)",
				"7:1-7 tracepoint TRACEPOINT w:c if ENABLE_WALLET; !defined(WIN32)",
				"11:1-11 tracepoint TRACEPOINT d:a if !defined(NDEBUG)",
				"15:1-15 tracepoint TRACEPOINT e:a if !A && (defined(B) || C)",
				"17:1-17 tracepoint TRACEPOINT e:b if !A && !(defined(B) || C) && D",
				"19:1-19 tracepoint TRACEPOINT e:c if !A && !(defined(B) || C) && !D",
				"23:1-23 tracepoint TRACEPOINT f:a if defined(X)",
				"28:1-28 tracepoint TRACEPOINT g:a if A && B || C",
				"30:1-30 tracepoint TRACEPOINT g:b if !(A && B || C)",
				"34:1-34 tracepoint TRACEPOINT h:a if !defined(A) && !defined(B)",
				"36:1-36 tracepoint TRACEPOINT h:b if !defined(A) && defined(B) && defined(C)",
				"38:1-38 tracepoint TRACEPOINT z:none",
			},
		},
		{
			name: "include guard left out",
			src:  "// header\n#ifndef X_H\n#define X_H\n#ifdef ENABLE_WALLET\nTRACEPOINT(a, b);\n#endif\nTRACEPOINT(a, c);\n#endif // X_H\n",
			want: []string{
				"5:1-5 tracepoint TRACEPOINT a:b if defined(ENABLE_WALLET)",
				"7:1-7 tracepoint TRACEPOINT a:c",
			},
		},
		{
			name: "not an include guard",
			src:  "#ifndef X_H\n#define X_H\nTRACEPOINT(a, b);\n#endif\nint x;\n",
			want: []string{"3:1-3 tracepoint TRACEPOINT a:b if !defined(X_H)"},
		},
		{
			name: "ifndef without define",
			src:  "#ifndef FOO\nTRACEPOINT(a, b);\n#endif\n",
			want: []string{"2:1-2 tracepoint TRACEPOINT a:b if !defined(FOO)"},
		},
		{
			name: "if 0 blocks may hold prose",
			src:  "#if 0\nThis isn't code: \"quotes\nTRACEPOINT(a, b);\n#else\nTRACEPOINT(a, c);\n#endif\n#error don't \"do this\n",
			want: []string{
				"3:1-3 tracepoint TRACEPOINT a:b if 0",
				"5:1-5 tracepoint TRACEPOINT a:c if !0",
			},
		},
		{
			name: "template arguments",
			src: "TRACEPOINT(t, a,\n" +
				"  std::pair<int, int>{1, 2},\n" +
				"  foo<a, b>(c),\n" +
				"  std::map<int, std::vector<int>>{},\n" +
				"  TicksSinceEpoch<std::chrono::seconds>(m_connected),\n" +
				"  std::chrono::duration_cast<std::chrono::duration<std::uint64_t>>(t).count(),\n" +
				"  static_cast<uint64_t>(v),\n" +
				"  a < b, c,\n" +
				"  f(a < b), g > h,\n" +
				"  i<j>=k, l\n" +
				");\n" +
				"TRACEPOINT(t, b, a<b, c>d, i<j>=k, l);\n" +
				"TRACEPOINT(t, c, std::array<std::pair<int, int>, 2>{}, v<w, x >> 2, y << 1);",
			want: []string{"1:1-11 tracepoint TRACEPOINT t:a «std::pair<int, int>{1, 2}» «foo<a, b>(c)» «std::map<int, std::vector<int>>{}» " +
				"«TicksSinceEpoch<std::chrono::seconds>(m_connected)» «std::chrono::duration_cast<std::chrono::duration<std::uint64_t>>(t).count()» " +
				"«static_cast<uint64_t>(v)» «a < b» «c» «f(a < b)» «g > h» «i<j>=k» «l»",
				"12:1-12 tracepoint TRACEPOINT t:b «a<b, c>d» «i<j>=k» «l»",
				"13:1-13 tracepoint TRACEPOINT t:c «std::array<std::pair<int, int>, 2>{}» «v<w» «x >> 2» «y << 1»"},
		},
		{
			name: "lambdas, braces and brackets",
			src: "TRACEPOINT(l, a,\n" +
				"  [&] { int x[2] = {1, 2}; return f(x[0], x[1]); }(),\n" +
				"  [](int a, int b) -> int { if (a) { return b; } return a; }(1, 2),\n" +
				"  Foo{.a = 1, .b = {2, 3}},\n" +
				"  m[std::make_pair(1, 2)],\n" +
				"  int64_t{Ticks<std::chrono::microseconds>(NodeClock::now() - nNow)}\n" +
				");",
			want: []string{"1:1-7 tracepoint TRACEPOINT l:a «[&] { int x[2] = {1, 2}; return f(x[0], x[1]); }()» " +
				"«[](int a, int b) -> int { if (a) { return b; } return a; }(1, 2)» «Foo{.a = 1, .b = {2, 3}}» «m[std::make_pair(1, 2)]» " +
				"«int64_t{Ticks<std::chrono::microseconds>(NodeClock::now() - nNow)}»"},
		},
		{
			name: "line splices",
			src:  "x;\nTRACEPO\\\nINT(a, b, c + \\\n d);\n  TRACEPOINT(a, e);",
			want: []string{
				"2:1-4 tracepoint TRACEPOINT a:b «c + d»",
				"5:3-5 tracepoint TRACEPOINT a:e",
			},
		},
		{
			name: "CRLF",
			src:  "x;\r\n\tTRACEPOINT(a, b,\r\n  c);\r\n#ifdef W\r\nTRACEPOINT(a, d);\r\n#endif\r\n",
			want: []string{
				"2:2-3 tracepoint TRACEPOINT a:b «c»",
				"5:1-5 tracepoint TRACEPOINT a:d if defined(W)",
			},
		},
		{
			name: "literals in arguments",
			src:  "TRACEPOINT(n, a, 1'000'000, '\\'', 0x1p-3, \"a\\\"b, c\", L',', u8\"x\"sv);",
			want: []string{`1:1-1 tracepoint TRACEPOINT n:a «1'000'000» «'\''» «0x1p-3» «"a\"b, c"» «L','» «u8"x"sv»`},
		},
		{
			name: "tracepoint inside a lambda passed to a function",
			src:  "run([&] {\n  TRACEPOINT(a, b, x);\n});",
			want: []string{"2:3-2 tracepoint TRACEPOINT a:b «x»"},
		},
		{
			name: "column counts bytes",
			src:  "/* é */ TRACEPOINT(a, b);",
			want: []string{"1:10-1 tracepoint TRACEPOINT a:b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			macros, err := Scan("t.cpp", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range macros {
				if m.File != "t.cpp" {
					t.Errorf("File = %q", m.File)
				}
				got = append(got, render(m))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // macros found before the error
		err  string
	}{
		{"unterminated call", "TRACEPOINT(a, b);\n  TRACEPOINT(a, c, f(x);\nint y;\n", []string{"1:1-1 tracepoint TRACEPOINT a:b"},
			"t.cpp:2:3: unterminated call to TRACEPOINT"},
		{"unterminated block comment", "TRACEPOINT(a, b);\n/* TRACEPOINT(a, c);\n", []string{"1:1-1 tracepoint TRACEPOINT a:b"},
			"t.cpp:2:1: unterminated block comment"},
		{"unterminated comment in a call", "TRACE1(a, b, /* x)", nil, "t.cpp:1:14: unterminated block comment"},
		{"unterminated string", "x = \"abc;\nTRACEPOINT(a, b);\n", nil, "t.cpp:1:5: unterminated string literal"},
		{"unterminated raw string", "x = R\"d(abc)\";\nTRACEPOINT(a, b);\n", nil, "t.cpp:1:5: unterminated raw string literal"},
		{"deep nesting", strings.Repeat("#if 1\n", 300), nil, "t.cpp:257:6: #if blocks nested deeper than 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			macros, err := Scan("t.cpp", []byte(tt.src))
			var got []string
			for _, m := range macros {
				got = append(got, render(m))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SyntaxError", err)
			}
			if err.Error() != tt.err {
				t.Errorf("err = %q, want %q", err, tt.err)
			}
		})
	}
}

func TestScanTooLarge(t *testing.T) {
	_, err := Scan("big.cpp", make([]byte, MaxFileSize+1))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "big.cpp") {
		t.Errorf("err = %v, want ErrTooLarge naming the file", err)
	}
	if _, err := Scan("max.cpp", make([]byte, MaxFileSize)); err != nil {
		t.Errorf("file of MaxFileSize bytes: %v", err)
	}
}

func TestScanFile(t *testing.T) {
	src := "// Copyright\n" +
		"#ifndef BITCOIN_NET_H\n" +
		"#define BITCOIN_NET_H\n" +
		"\n" +
		"#include <net.h>\n" +
		"#include \"util/trace.h\"\n" +
		"#  include <util/time.h> // for Ticks\n" +
		"#ifdef WIN32\n" +
		"#include <windows.h>\n" +
		"#endif\n" +
		"#include_next <stdio.h>\n" +
		"#include HEADER(x)\n" +
		"\n" +
		"TRACEPOINT_SEMAPHORE(net, a);\n" +
		"TRACEPOINT_SEMAPHORE(net, b);\n" +
		"\n" +
		"void f() { TRACEPOINT(net, a); }\n" +
		"#endif"
	info, err := ScanFile("net.h", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var incs []string
	for _, inc := range info.Includes {
		incs = append(incs, fmt.Sprintf("%d %s %v %q", inc.Line, inc.Path, inc.Angle, inc.Cond))
	}
	wantIncs := []string{
		`5 net.h true []`,
		`6 util/trace.h false []`,
		`7 util/time.h true []`,
		`9 windows.h true ["defined(WIN32)"]`,
		`11 stdio.h true []`,
		`12 HEADER(x) false []`,
	}
	if strings.Join(incs, "\n") != strings.Join(wantIncs, "\n") {
		t.Errorf("includes\n\t%s\nwant\n\t%s", strings.Join(incs, "\n\t"), strings.Join(wantIncs, "\n\t"))
	}
	if info.LastInclude != 12 || info.TraceInclude != 6 || !info.HasTraceInclude() {
		t.Errorf("LastInclude %d TraceInclude %d", info.LastInclude, info.TraceInclude)
	}
	if fmt.Sprint(info.Semaphores) != "[14 15]" {
		t.Errorf("Semaphores %v", info.Semaphores)
	}
	if info.Lines != 18 || info.Path != "net.h" || len(info.Macros) != 3 {
		t.Errorf("Lines %d Path %q %d macros", info.Lines, info.Path, len(info.Macros))
	}

	info, err = ScanFile("empty.cpp", nil)
	if err != nil || info.LastInclude != 0 || info.HasTraceInclude() || info.Lines != 0 || info.Macros != nil {
		t.Errorf("empty file: %+v, %v", info, err)
	}
}

func TestMacroCondition(t *testing.T) {
	tests := []struct {
		cond []string
		want string
	}{
		{nil, ""},
		{[]string{"A || B"}, "A || B"},
		{[]string{"ENABLE_WALLET", "defined(WIN32)"}, "ENABLE_WALLET && defined(WIN32)"},
		{[]string{"A || B", "C", "!(D || E) && F"}, "(A || B) && C && !(D || E) && F"},
	}
	for _, tt := range tests {
		m := Macro{Cond: tt.cond}
		if got := m.Condition(); got != tt.want {
			t.Errorf("Condition(%q) = %q, want %q", tt.cond, got, tt.want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Tracepoint: "tracepoint", Semaphore: "semaphore", Trace: "trace", DTrace: "dtrace", Stap: "stap", 0: "Kind(0)", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d) = %q, want %q", k, got, want)
		}
	}
}

func TestScanFileDefines(t *testing.T) {
	src := "#ifndef GUARD_H\n" +
		"#define GUARD_H\n" +
		"#define PLAIN 1\n" +
		"#  define FUNC(a, b) a\n" +
		"#define SPACED (a)\n" +
		"#ifdef ENABLE_TRACING\n" +
		"#define TRACE1(context, event, a) \\\n    DTRACE_PROBE1(context, event, a)\n" +
		"#endif\n" +
		"// #define COMMENTED(x)\n" +
		"const char* s = \"#define STRING(x)\";\n" +
		"#define\n" +
		"#endif\n"
	info, err := ScanFile("trace.h", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range info.Defines {
		got = append(got, fmt.Sprintf("%d %s %v %q", d.Line, d.Name, d.Params, d.Cond))
	}
	want := []string{
		`3 PLAIN false []`,
		`4 FUNC true []`,
		`5 SPACED false []`,
		`7 TRACE1 true ["defined(ENABLE_TRACING)"]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("defines\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if !info.Defined("TRACE1") || info.Defined("GUARD_H") || info.Defined("COMMENTED") || info.Defined("STRING") {
		t.Error("Defined is wrong")
	}
}
