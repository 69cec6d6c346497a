package elf_test

import (
	"bytes"
	goelf "debug/elf"
	"os"
	"testing"

	"github.com/usdtkit/usdtkit/elf"
	"github.com/usdtkit/usdtkit/elf/elftest"
)

// A build-id note still all zero is how GNU ld leaves it until the end of a
// link: the file is being written.
func TestBuildIDPending(t *testing.T) {
	data, err := os.ReadFile(elftest.Path(t, "x86_64-O2-pie"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.BuildID) != 40 || f.BuildIDPending {
		t.Fatalf("build-id %q pending %v, want 40 hex digits", f.BuildID, f.BuildIDPending)
	}
	ef, err := goelf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s := ef.Section(".note.gnu.build-id")
	for _, zero := range []struct {
		name     string
		from, to uint64
	}{{"whole note", 0, s.Size}, {"descriptor", 16, s.Size}} {
		linking := bytes.Clone(data)
		clear(linking[s.Offset+zero.from : s.Offset+zero.to])
		f, err := elf.NewFile(bytes.NewReader(linking))
		if err != nil {
			t.Fatal(err)
		}
		if f.BuildID != "" || !f.BuildIDPending {
			t.Errorf("%s zeroed: build-id %q pending %v, want pending", zero.name, f.BuildID, f.BuildIDPending)
		}
	}
}
