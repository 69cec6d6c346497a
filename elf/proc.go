package elf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mapping is one file-backed line of /proc/PID/maps.
type Mapping struct {
	Start, End uint64
	Perms      string // "r-xp"
	Offset     uint64 // file offset of Start
	Dev        string
	Inode      uint64
	Path       string // as the process sees it; may end in " (deleted)"
}

// Object is a file mapped into a process: its executable or a library.
type Object struct {
	PID      int
	Path     string // the path in /proc/PID/maps
	Deleted  bool   // the file was replaced or removed since it was mapped
	Mappings []Mapping
}

// OpenPath is a path through which this process can read the object's
// file, even when it is in another mount namespace or was deleted.
func (o *Object) OpenPath() string {
	m := o.Mappings[0]
	mf := fmt.Sprintf("/proc/%d/map_files/%x-%x", o.PID, m.Start, m.End)
	if _, err := os.Stat(mf); err == nil {
		return mf
	}
	return fmt.Sprintf("/proc/%d/root%s", o.PID, o.Path)
}

// ProcessObjects lists the files a process maps with execute permission,
// its executable first, in the order of /proc/PID/maps.
func ProcessObjects(pid int) ([]*Object, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, fmt.Errorf("read process %d: %w", pid, err)
	}
	defer f.Close()
	var objs []*Object
	byInode := map[string]*Object{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m, ok := parseMapsLine(sc.Text())
		if !ok || m.Inode == 0 || !strings.HasPrefix(m.Path, "/") {
			continue
		}
		key := m.Dev + ":" + strconv.FormatUint(m.Inode, 10)
		o := byInode[key]
		if o == nil {
			p, deleted := strings.CutSuffix(m.Path, " (deleted)")
			o = &Object{PID: pid, Path: p, Deleted: deleted}
			byInode[key] = o
			objs = append(objs, o)
		}
		o.Mappings = append(o.Mappings, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read process %d maps: %w", pid, err)
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	exe = strings.TrimSuffix(exe, " (deleted)")
	var out []*Object
	for _, o := range objs {
		if !o.executable() {
			continue
		}
		if o.Path == exe {
			out = append([]*Object{o}, out...)
		} else {
			out = append(out, o)
		}
	}
	return out, nil
}

func (o *Object) executable() bool {
	for _, m := range o.Mappings {
		if strings.Contains(m.Perms, "x") {
			return true
		}
	}
	return false
}

func parseMapsLine(line string) (Mapping, bool) {
	// start-end perms offset dev inode [path]
	fields := strings.Fields(line)
	if len(fields) < 6 {
		return Mapping{}, false
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return Mapping{}, false
	}
	var m Mapping
	var err1, err2, err3, err4 error
	m.Start, err1 = strconv.ParseUint(lo, 16, 64)
	m.End, err2 = strconv.ParseUint(hi, 16, 64)
	m.Offset, err3 = strconv.ParseUint(fields[2], 16, 64)
	m.Inode, err4 = strconv.ParseUint(fields[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return Mapping{}, false
	}
	m.Perms, m.Dev = fields[1], fields[3]
	// The path may contain spaces: it is everything after the fifth field.
	rest := line
	for i := 0; i < 5; i++ {
		rest = strings.TrimLeft(rest, " ")
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
	}
	m.Path = strings.TrimLeft(rest, " ")
	return m, true
}

// ReadSemaphore reads the current value of a semaphore in the process. The
// kernel raises it by one for every uprobe on one of the tracepoint's call
// sites, so it is the number of call sites times the tracers attached (a
// tracer on a tracepoint with two call sites makes it 2). It reads the
// writable mapping that holds the semaphore's file offset.
func (o *Object) ReadSemaphore(s *Semaphore) (uint16, error) {
	if s.Err != nil {
		return 0, s.Err
	}
	for _, m := range o.Mappings {
		if !strings.HasPrefix(m.Perms, "rw") || s.FileOffset < m.Offset || s.FileOffset+2 > m.Offset+(m.End-m.Start) {
			continue
		}
		addr := m.Start + s.FileOffset - m.Offset
		mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", o.PID))
		if err != nil {
			return 0, fmt.Errorf("read semaphore: %w", err)
		}
		defer mem.Close()
		var b [2]byte
		if _, err := mem.ReadAt(b[:], int64(addr)); err != nil {
			return 0, fmt.Errorf("read semaphore at %#x: %w", addr, err)
		}
		return binary.NativeEndian.Uint16(b[:]), nil
	}
	return 0, fmt.Errorf("semaphore at file offset %#x is in no writable mapping of %s", s.FileOffset, o.Path)
}
