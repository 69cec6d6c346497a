package elf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"
)

// OpenRegular opens the regular file at path for reading, without
// blocking: a FIFO or a device is refused with an error that says what it
// is, never waited on. Its FileInfo is that of the open file.
//
// Its errors read "open PATH: cause" and wrap the cause (fs.ErrNotExist,
// fs.ErrPermission, ...).
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		what := "not a regular file"
		switch {
		case st.IsDir():
			what = "is a directory"
		case st.Mode()&fs.ModeNamedPipe != 0:
			what = "is a FIFO, not a regular file"
		case st.Mode()&fs.ModeDevice != 0:
			what = "is a device, not a regular file"
		}
		return nil, nil, fmt.Errorf("open %s: %s", path, what)
	}
	return f, st, nil
}

// ErrIncomplete is returned by [ReadBuild] for a file that is still being
// written.
var ErrIncomplete = errors.New("still being written")

// Build is one version of a file that a linker (or cp) writes, read from
// one open file: what was read is what a later attach through the same
// inode sees.
type Build struct {
	File    *File
	Dev     uint64
	Ino     uint64
	Size    int64
	ModTime time.Time
}

// ReadBuild reads the file at path if it is a complete build: a regular
// file, an ELF file whose notes parse and whose build-id the linker has
// filled in (GNU ld writes it last), with the same size, time and inode
// in two reads gap apart. A build still being written is ErrIncomplete.
func ReadBuild(path string, gap time.Duration) (*Build, error) {
	f, st1, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	file, err := NewFile(f)
	if err != nil {
		return nil, err
	}
	if file.BuildIDPending {
		return nil, ErrIncomplete
	}
	time.Sleep(gap)
	st2, err := f.Stat()
	if err != nil {
		return nil, err
	}
	now, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st2.Size() != st1.Size() || !st2.ModTime().Equal(st1.ModTime()) || !os.SameFile(st2, now) {
		return nil, ErrIncomplete
	}
	file.Path = path
	sys := st2.Sys().(*syscall.Stat_t)
	return &Build{File: file, Dev: uint64(sys.Dev), Ino: sys.Ino, Size: st2.Size(), ModTime: st2.ModTime()}, nil
}

// Same reports whether b and o are one build: the same inode holding the
// same build-id (or, without one, the same size and time).
func (b *Build) Same(o *Build) bool {
	if o == nil || b.Dev != o.Dev || b.Ino != o.Ino {
		return false
	}
	if b.File.BuildID != "" || o.File.BuildID != "" {
		return b.File.BuildID == o.File.BuildID
	}
	return b.Size == o.Size && b.ModTime.Equal(o.ModTime)
}

// Describe is the line that says build n of path was read, and the lines
// that say how its tracepoints changed since prev (nil for the first).
func (b *Build) Describe(n int, path string, prev *Build) string {
	id := b.File.BuildID
	if len(id) > 12 {
		id = id[:12]
	}
	if id == "" {
		id = "none"
	}
	plural := func(n int) string {
		if n == 1 {
			return ""
		}
		return "s"
	}
	var lines strings.Builder
	fmt.Fprintf(&lines, "build %d %s: build-id %s, %d tracepoint%s, %d call site%s\n", n, path, id,
		len(b.File.Probes), plural(len(b.File.Probes)), b.File.Notes, plural(b.File.Notes))
	if prev != nil {
		changes := Diff(prev.File, b.File)
		for _, c := range changes {
			lines.WriteString(c.String() + "\n")
		}
		if len(changes) == 0 {
			lines.WriteString("= no tracepoint changes\n")
		}
	}
	return lines.String()
}
