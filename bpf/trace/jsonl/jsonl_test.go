package jsonl

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usdtkit/usdtkit/bpf"
	"github.com/usdtkit/usdtkit/bpf/trace"
	"github.com/usdtkit/usdtkit/elf"
)

// New is ev's JSON form as encoding/json writes it: what an Encoder
// must write, made independently of it.
func New(ev *trace.Event) Event {
	je := Event{Time: ev.Time.Format(time.RFC3339Nano), PID: ev.PID, TID: ev.TID, Comm: ev.Comm, Tracepoint: ev.Probe,
		CallSite: ev.CallSite(), SiteIndex: ev.Event.CallSite, Args: make([]Arg, 0, len(ev.Args))}
	for i, v := range ev.Args {
		ja := Arg{Value: jsonValue(v), Truncated: v.Truncated}
		if i < len(ev.Tracepoint.Args) {
			a := &ev.Tracepoint.Args[i]
			ja.Key, ja.Type = a.Name, a.Type
			if a.Description != "" {
				d := a.Description
				ja.Name = &d
			}
		}
		if v.Err != nil {
			s := v.Err.Error()
			ja.Error = &s
		}
		je.Args = append(je.Args, ja)
	}
	return je
}

// jsonValue is v as encoding/json writes it in the schema.
func jsonValue(v bpf.Value) any {
	switch {
	case v.Err != nil:
		return nil
	case v.Read == bpf.ReadString:
		return v.Str
	case v.Read == bpf.ReadBytes:
		b := slices.Clone(v.Bytes)
		if v.Reversed {
			slices.Reverse(b)
		}
		return hex.EncodeToString(b)
	case v.Float:
		return v.Float64()
	case v.Signed:
		return v.Int()
	}
	return v.Raw
}

// strings that JSON writes escaped, or that are not valid UTF-8
var awkward = []string{
	"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf-8 \xe2\x82", "\xed\xa0\x80",
}

func randomString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return awkward[r.IntN(len(awkward))]
	}
	b := make([]byte, r.IntN(20))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randomEvent(r *rand.Rand) *trace.Event {
	probe := &elf.Probe{Provider: "net", Name: "inbound_message", CallSites: []elf.CallSite{{Address: 0x401000}, {Address: r.Uint64()}}}
	tp := &trace.Tracepoint{Probe: probe}
	ev := &trace.Event{Tracepoint: tp}
	ev.Time = time.Unix(0, r.Int64N(4e18)).In(time.FixedZone("x", r.IntN(20)*1800-36000))
	ev.PID, ev.TID = r.IntN(1<<22), r.IntN(1<<22)
	ev.Comm, ev.Probe, ev.Event.CallSite = randomString(r), randomString(r), r.IntN(3)
	for range r.IntN(5) {
		var v bpf.Value
		switch r.IntN(6) {
		case 0:
			v = bpf.Value{Raw: r.Uint64(), Size: 8, Signed: true}
		case 1:
			v = bpf.Value{Raw: r.Uint64(), Size: 8}
		case 2:
			v = bpf.Value{Read: bpf.ReadString, Str: randomString(r), Truncated: r.IntN(2) == 0}
		case 3:
			v = bpf.Value{Read: bpf.ReadBytes, Bytes: []byte(randomString(r)), Reversed: r.IntN(2) == 0}
		case 4:
			f := []float64{0, math.Copysign(0, -1), 1e21, 1e-7, 123.456, -2.5e-300, 1 << 60, r.NormFloat64() * 1e10}[r.IntN(8)]
			v = bpf.Value{Raw: math.Float64bits(f), Size: 8, Float: true}
		case 5:
			v = bpf.Value{Raw: r.Uint64(), Size: 8, Err: errors.New(randomString(r))}
		}
		ev.Args = append(ev.Args, v)
		if r.IntN(4) > 0 {
			a := trace.Arg{Name: randomString(r), Type: randomString(r)}
			if r.IntN(2) == 0 {
				a.Description = randomString(r)
			}
			tp.Args = append(tp.Args, a)
		}
	}
	return ev
}

// A new Encoder writes what json.Marshal writes for New: the same bytes.
func TestAppendIsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		ev := randomEvent(r)
		want, err := json.Marshal(New(ev))
		if err != nil {
			t.Fatal(err)
		}
		got := new(Encoder).Append(nil, ev)
		if string(got) != string(want)+"\n" {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// An Encoder over a stream writes each event as json.Marshal does, also
// where events share tracepoints (their names remembered) and seconds
// (the time's text remembered): the fraction with its zeros trimmed, a
// zone changing, a tracepoint whose name changes under it.
func TestEncoderIsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var pool []*trace.Tracepoint
	for range 5 {
		pool = append(pool, randomEvent(r).Tracepoint)
	}
	zones := []*time.Location{time.UTC, time.FixedZone("a", 3600), time.FixedZone("b", -5*3600-1800)}
	base := time.Unix(1764000000, 0)
	var e Encoder
	for i := 0; i < 20000; i++ {
		ev := randomEvent(r)
		ev.Tracepoint = pool[r.IntN(len(pool))]
		ns := []int64{0, 1, 10, 100000000, 123456789, 999999999, int64(r.IntN(1e9))}[r.IntN(7)]
		ev.Time = base.Add(time.Duration(int64(r.IntN(3))*1e9 + ns)).In(zones[r.IntN(len(zones))])
		if r.IntN(5) == 0 && len(ev.Tracepoint.Args) < 6 {
			ev.Tracepoint.Args = append(ev.Tracepoint.Args, trace.Arg{Name: randomString(r), Type: "int64"})
		}
		want, err := json.Marshal(New(ev))
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Append(nil, ev); string(got) != string(want)+"\n" {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// A float JSON cannot hold is null, and says why.
func TestAppendNaN(t *testing.T) {
	ev := &trace.Event{Tracepoint: &trace.Tracepoint{Probe: &elf.Probe{CallSites: []elf.CallSite{{}}}}}
	ev.Args = []bpf.Value{{Raw: math.Float64bits(math.NaN()), Size: 8, Float: true}, {Raw: math.Float64bits(math.Inf(-1)), Size: 8, Float: true}}
	var got Event
	if err := json.Unmarshal(new(Encoder).Append(nil, ev), &got); err != nil {
		t.Fatal(err)
	}
	for i, a := range got.Args {
		if a.Value != nil || a.Error == nil || !strings.Contains(*a.Error, "not a number JSON can hold") {
			t.Errorf("arg %d: %+v", i, a)
		}
	}
}

// BenchmarkAppend writes the event of bench:hot, usdtkit-bench's loop.
func BenchmarkAppend(b *testing.B) {
	probe := &elf.Probe{Provider: "bench", Name: "hot", CallSites: []elf.CallSite{{Address: 0x401136}}}
	tp := &trace.Tracepoint{Probe: probe, Args: []trace.Arg{{Name: "arg0", Type: "int64"}, {Name: "arg1", Type: "int64"}, {Name: "arg2", Type: "int64"}}}
	ev := &trace.Event{Tracepoint: tp}
	ev.Time, ev.PID, ev.TID, ev.Comm, ev.Probe = time.Now(), 4242, 4242, "hot", "bench:hot"
	ev.Args = []bpf.Value{{Raw: 123456, Size: 8, Signed: true}, {Raw: 246912, Size: 8, Signed: true}, {Raw: 370368, Size: 8, Signed: true}}
	var buf []byte
	var e Encoder
	b.ReportAllocs()
	for b.Loop() {
		buf = e.Append(buf[:0], ev)
	}
}
