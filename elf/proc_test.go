package elf_test

import (
	"errors"
	"os"
	"testing"

	"github.com/usdtkit/usdtkit/elf"
)

// Object.Open reads the file at the object's path only when it is the
// one the process mapped: same device and inode as in /proc/PID/maps.
func TestObjectOpenChecksTheFile(t *testing.T) {
	objs, err := elf.ProcessObjects(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 || !objs[0].Executable {
		t.Fatalf("objects %+v: the test binary is not first", objs)
	}
	if _, err := objs[0].Open(); err != nil {
		t.Fatalf("the test binary: %v", err)
	}
	// A mapping whose map_files entry does not exist goes through
	// /proc/PID/root and the path.
	at := func(path string, inode uint64) *elf.Object {
		o := *objs[0]
		m := o.Mappings[0]
		m.Start, m.End, m.Inode = 0x1000, 0x2000, inode
		o.Path, o.Mappings = path, []elf.Mapping{m}
		return &o
	}
	exe, ino := objs[0].Path, objs[0].Mappings[0].Inode
	if _, err := at(exe, ino).Open(); err != nil {
		t.Errorf("through /proc/PID/root: %v", err)
	}
	if _, err := at(exe, ino+1).Open(); !errors.Is(err, elf.ErrReplaced) {
		t.Errorf("another inode: %v, want ErrReplaced", err)
	}
	other, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyTo := t.TempDir() + "/copy"
	data, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyTo, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := at(copyTo, ino).Open(); !errors.Is(err, elf.ErrReplaced) {
		t.Errorf("a copy at the path: %v, want ErrReplaced", err)
	}
}
