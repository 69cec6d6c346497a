package elf_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// checkSameJSON fails t unless the hand-written encoder writes tp exactly
// as json.Marshal does.
func checkSameJSON(t *testing.T, what string, tp *elf.ProbeJSON) {
	t.Helper()
	want, err := json.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	if got := tp.AppendJSON(nil); string(got) != string(want) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// TestListJSONEncoding compares the encoder with json.Marshal on the
// tracepoints of every fixture and of the programs with notes this
// machine has.
func TestListJSONEncoding(t *testing.T) {
	var paths []string
	for _, fx := range elftest.Fixtures {
		paths = append(paths, elftest.Path(t, fx.Name))
	}
	for _, pattern := range []string{"../../docs/demo/build/minid", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/jvm/*/lib/server/libjvm.so"} {
		m, _ := filepath.Glob(pattern)
		paths = append(paths, m...)
	}
	for _, p := range paths {
		f, err := elf.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		file := p
		p2 := func(*elf.Probe) string { return file }
		path := func(pr *elf.Probe) string { return file + " " + pr.ID() }
		for i := range f.Probes {
			p := &f.Probes[i]
			jt := p.JSON(p2(p), nil)
			checkSameJSON(t, path(p), &jt)
			// Written a call site at a time, in chunks: the same bytes.
			var w recordingWriter
			b, err := p.AppendJSON(&w, nil, p2(p), nil)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(jt)
			if got := string(w.data) + string(b); got != string(want) {
				t.Errorf("%s: AppendJSON wrote\n %s\nwant\n %s", path(p), got, want)
			}
		}
	}
}

// jsonStrings are the strings the filled values cycle through: every
// escape json.Marshal makes.
var jsonStrings = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "\b\f\n\r\t", "\x00\x01\x1f\x7f",
	"é, ü, 日本", "\u2028 and \u2029", "bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate", "emoji 🐛",
}

// fill sets every field reachable from v: pointers allocated, slices of
// two elements, numbers at their extremes, strings from jsonStrings.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), n)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.String:
		v.SetString(jsonStrings[*n%len(jsonStrings)])
	case reflect.Bool:
		v.SetBool(*n%2 == 0)
	case reflect.Int, reflect.Int64:
		if *n%2 == 0 {
			v.SetInt(-1 << (v.Type().Bits() - 1))
		} else {
			v.SetInt(1<<(v.Type().Bits()-1) - 1)
		}
	case reflect.Uint16, reflect.Uint64:
		v.SetUint(1<<v.Type().Bits() - 1)
	default:
		panic("fill: no case for " + v.Kind().String())
	}
}

// TestListJSONEncodingFilled compares the encoder with json.Marshal on
// values with every field set, then with each pointer and slice nil and
// each slice empty in turn, so that a field the encoder leaves out or
// writes differently is found.
func TestListJSONEncodingFilled(t *testing.T) {
	for shift := 0; shift < len(jsonStrings); shift++ {
		var tp elf.ProbeJSON
		n := shift
		fill(reflect.ValueOf(&tp).Elem(), &n)
		checkSameJSON(t, "filled", &tp)
	}
	var tp elf.ProbeJSON
	n := 0
	fill(reflect.ValueOf(&tp).Elem(), &n)
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			saved := v.Elem()
			v.Set(reflect.Zero(v.Type()))
			checkSameJSON(t, path+" nil", &tp)
			v.Set(saved.Addr())
			walk(v.Elem(), path)
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice:
			saved := v.Interface()
			v.Set(reflect.Zero(v.Type()))
			checkSameJSON(t, path+" nil", &tp)
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			checkSameJSON(t, path+" empty", &tp)
			v.Set(reflect.ValueOf(saved))
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), path)
			}
		}
	}
	walk(reflect.ValueOf(&tp).Elem(), "ProbeJSON")
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := &elf.RegisterJSON{Name: s}
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("the JSON of %q is %s, want %s", s, got, want)
		}
	})
}

type recordingWriter struct {
	data   []byte
	writes []int
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.data = append(w.data, p...)
	w.writes = append(w.writes, len(p))
	return len(p), nil
}
